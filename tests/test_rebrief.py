"""When a grown subject deserves a new brief."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.rebrief import UPDATE_SHARE, RebriefRule, grew, needs_brief, rebrief_waits


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


T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("briefed_at", "now", "interval", "expected"), [
    (None, T0, timedelta(hours=2), False),  # a first brief never waits
    (T0, T0 + timedelta(minutes=119), timedelta(hours=2), True),  # briefed too recently
    (T0, T0 + timedelta(hours=2), timedelta(hours=2), False),  # the interval is over
    (T0, T0 + timedelta(seconds=1), timedelta(0), False),  # 0: no interval
    (T0, T0 - timedelta(minutes=5), timedelta(hours=2), True),  # another worker's clock a little ahead
    (T0, T0 - timedelta(days=400), timedelta(hours=2), False),  # a brief dated far ahead: never waited for
])
def test_rebrief_waits(briefed_at: datetime | None, now: datetime, interval: timedelta, expected: bool) -> None:
    assert rebrief_waits(briefed_at=briefed_at, now=now, interval=interval) is expected


@pytest.mark.parametrize(("briefed", "now", "growth", "expected"), [
    (2, 4, 1.0, True),  # doubled
    (4, 7, 1.0, False),  # three more of four: not doubled
    (4, 8, 1.0, True),
    (4, 6, 0.3, True),  # a third more, and two
    (4, 5, 0.1, False),  # one more is never enough, whatever the share
    (100, 155, 0.55, True),  # 55% of 100 is 55, though 0.55 * 100 is not exactly 55.0
    (50, 57, 0.14, True),
])
def test_grew(briefed: int, now: int, growth: float, expected: bool) -> None:
    assert grew(briefed_items=briefed, items=now, growth=growth) is expected


def test_a_signals_text_is_rewritten_at_a_third_more_whatever_the_setting() -> None:
    rule = RebriefRule(growth=1.0)
    assert rule.rewrite_growth("story") == 1.0
    assert rule.rewrite_growth("signal") == UPDATE_SHARE == 0.3  # its text states its counts
