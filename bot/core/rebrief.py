"""When a grown story or signal deserves a new brief. Pure: briefs cost tokens and readers' attention, so a
subject is re-briefed only when it changed materially since its last brief, and not more often than a
workspace's channels want their alerts rewritten."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

UPDATE_SHARE = 0.3  # a new brief: a third more items than the last brief…
MIN_NEW_ITEMS = 2  # …and at least two of them
OUTLET_SHARE = 0.5  # or half as many outlets again (a second outlet after one, a third after two, …)
GROWTH_SHARE = 1.0  # BRIEFBOT_REWRITE_GROWTH_PERCENT's default: the LLM rewrites the text at twice its items


@dataclass(frozen=True, slots=True)
class RebriefRule:
    """A workspace's re-brief settings: the least time between two briefs of a subject (BRIEFBOT_REBRIEF_MINUTES)
    and the growth that has the LLM rewrite a brief's text (BRIEFBOT_REWRITE_GROWTH_PERCENT, as a share)."""

    interval: timedelta = timedelta(0)
    growth: float = GROWTH_SHARE

    def rewrite_growth(self, subject: str) -> float:
        """The growth that has the LLM rewrite a subject's text: a story's is the setting's; a signal's text
        states its counts ("14 warehouse roles around Seattle"), so it is rewritten at a third more postings
        whatever the setting (signals are few: this costs little)."""
        return self.growth if subject == "story" else UPDATE_SHARE


def needs_brief(*, briefed_items: int | None, briefed_outlets: int | None, items: int, outlets: int) -> bool:
    """`briefed_*` are the counts at the last brief (None: never briefed). More outlets picking a story up is
    news, but each one alone is not worth a new brief once a story is widely carried (bench/briefs.py found
    every-new-outlet re-briefs to be most of the LLM cost). Whether the new brief has its text rewritten by the
    LLM, or keeps it with the sources and counts updated, is `grew`'s to say."""
    if briefed_items is None or briefed_outlets is None:
        return True
    if outlets - briefed_outlets >= max(1.0, OUTLET_SHARE * briefed_outlets):
        return True
    return grew(briefed_items=briefed_items, items=items, growth=UPDATE_SHARE)


def grew(*, briefed_items: int, items: int, growth: float = GROWTH_SHARE) -> bool:
    """Whether a subject has grown by `growth` since its brief's text was written: then the text is rewritten.
    Less (new outlets, a few more reports: a story carried more widely, with little more to say) updates the
    brief's sources and counts under the text it has, at no LLM cost. Growth is counted from the brief whose
    text it is, so a story that grows report by report still gets its text rewritten once it has grown by
    `growth`: by default, doubled (2 -> 4 -> 8 -> 16 reports); bench/briefs.py measured a third (0.3) at a
    quarter more LLM calls."""
    grown = items - briefed_items
    return grown >= MIN_NEW_ITEMS and grown >= growth * briefed_items - 1e-9  # 0.55 * 100 is 55.000…01


def rebrief_waits(*, briefed_at: datetime | None, now: datetime, interval: timedelta) -> bool:
    """Whether a subject's material change waits for its next brief: a subject briefed less than `interval` ago
    is not rewritten yet (BRIEFBOT_REBRIEF_MINUTES). It is not forgotten either: every pass looks at it again,
    and the brief written once the interval is over covers everything that came in the meantime, in one
    update of the alert and one LLM call instead of one per pass. A first brief never waits. A brief dated ahead
    of `now` (another worker's clock) waits while within one interval of it, but one dated further ahead (a
    clock that was wrong) holds nothing back: the subject must not wait for it forever."""
    return briefed_at is not None and -interval < now - briefed_at < interval
