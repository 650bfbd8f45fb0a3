"""When a grown subject deserves a new brief."""

from __future__ import annotations

import pytest

from bot.core.rebrief import needs_brief


@pytest.mark.parametrize(("briefed", "now", "expected"), [
    (None, (3, 1), True),  # never briefed
    ((3, 1), (3, 1), False),  # unchanged
    ((3, 1), (4, 2), True),  # a second outlet after one
    ((6, 4), (7, 5), False),  # a fifth outlet after four: not by itself
    ((6, 4), (8, 6), True),  # two more outlets after four
    ((6, 2), (7, 2), False),  # one more item
    ((6, 2), (8, 2), True),  # a third more items, and at least two
    ((30, 2), (33, 2), False),  # three more of thirty: not a third
])
def test_needs_brief(briefed: tuple[int, int] | None, now: tuple[int, int], expected: bool) -> None:
    items, outlets = briefed or (None, None)
    assert needs_brief(briefed_items=items, briefed_outlets=outlets, items=now[0], outlets=now[1]) is expected
