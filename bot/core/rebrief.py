"""When a grown story or signal deserves a new brief. Pure: briefs cost tokens and readers' attention, so a
subject is re-briefed only when it changed materially since its last brief."""

from __future__ import annotations

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
    grown = items - briefed_items
    return grown >= MIN_NEW_ITEMS and grown >= GROWTH_SHARE * briefed_items
