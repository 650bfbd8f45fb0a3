"""When a grown story or signal deserves a new brief. Pure: briefs cost tokens and readers' attention, so a
subject is re-briefed only when it changed materially since its last brief, and not more often than a
workspace's channels want their alerts rewritten."""

from __future__ import annotations

from datetime import datetime, timedelta

GROWTH_SHARE = 0.3  # a third more items…
MIN_NEW_ITEMS = 2  # …and at least two of them
OUTLET_SHARE = 0.5  # or half as many outlets again (a second outlet after one, a third after two, …)


def needs_brief(*, briefed_items: int | None, briefed_outlets: int | None, items: int, outlets: int) -> bool:
    """`briefed_*` are the counts at the last brief (None: never briefed). More outlets picking a story up is
    news, but each one alone is not worth a new brief once a story is widely carried (bench/briefs.py found
    every-new-outlet re-briefs to be most of the LLM cost)."""
    if briefed_items is None or briefed_outlets is None:
        return True
    if outlets - briefed_outlets >= max(1.0, OUTLET_SHARE * briefed_outlets):
        return True
    return grew(briefed_items=briefed_items, items=items)


def grew(*, briefed_items: int, items: int) -> bool:
    """Whether a subject has materially more items than when its brief's text was written: then the text is
    rewritten. New outlets alone (a story carried more widely, with little more to say) update the brief's
    sources and counts under the text it has, at no LLM cost; growth is counted from the brief whose text it is,
    so a story that grows outlet by outlet still gets its text rewritten once it has a third more."""
    grown = items - briefed_items
    return grown >= MIN_NEW_ITEMS and grown >= GROWTH_SHARE * briefed_items


def rebrief_waits(*, briefed_at: datetime | None, now: datetime, interval: timedelta) -> bool:
    """Whether a subject's material change waits for its next brief: a subject briefed less than `interval` ago
    is not rewritten yet (BRIEFBOT_REBRIEF_MINUTES). It is not forgotten either: every pass looks at it again,
    and the brief written once the interval is over covers everything that came in the meantime, in one
    update of the alert and one LLM call instead of one per pass. A first brief never waits. A brief dated ahead
    of `now` (another worker's clock) waits while within one interval of it, but one dated further ahead (a
    clock that was wrong) holds nothing back: the subject must not wait for it forever."""
    return briefed_at is not None and -interval < now - briefed_at < interval
