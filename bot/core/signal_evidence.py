"""Why a hiring signal fired: its evidence, re-derived from a company's postings by the rules of
`bot.core.signals`. Pure: no I/O, no clock; the caller says which moment to explain (when the signal last
gained postings) and gives the postings' links.

The evidence is what a user needs to check the decision by hand: the postings in the window, the company's pace
in the same function and metro and where it came from, the thresholds that applied, what was new when the
reason is novelty, and the group's weekly posting counts (shown as a sparkline).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.jobs import family_of
from bot.core.signals import (
    PaceStatus,
    Posting,
    SignalParams,
    detect_signals,
    has_time,
    in_group,
    is_dated,
    known_before,
    pace_status,
    pace_windows,
    posting_time,
)

SPARK_BARS = "▁▂▃▄▅▆▇█"
WEEKS = 8  # the weekly counts cover the eight weeks up to the explained moment
NOVEL_REASONS = ("new_metro", "new_function", "new_function_in_metro")


@dataclass(frozen=True, slots=True)
class ItemRef:
    """What the stored item behind a posting adds for showing it: its link and its place as the board wrote it."""

    url: str
    place: str = ""


@dataclass(frozen=True, slots=True)
class WindowPosting:
    item_id: int
    title: str
    at: datetime  # the posting's time (posting_time)
    dated: bool  # `at` is the board's own date, not when the posting was first seen
    backfill: bool
    url: str
    place: str


@dataclass(frozen=True, slots=True)
class Thresholds:
    window: timedelta
    min_novel: int
    min_surge: int
    surge_ratio: float
    surge_needed: float  # max(min_surge, surge_ratio × pace): the count a surge needed


@dataclass(frozen=True, slots=True)
class Novelty:
    """What was new: the reason, and what the company was known to hire before the window."""

    reason: str  # new_metro | new_function | new_function_in_metro
    known_metros: tuple[str, ...]
    known_families: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Evidence:
    company: str
    family: str
    metro: str
    at: datetime  # the moment explained
    window_start: datetime
    reason: str | None  # what the rules find at `at`; None when they no longer find this signal
    postings: tuple[WindowPosting, ...]  # the group's postings in the window, oldest first
    pace: PaceStatus | None  # None when no posting of the company was known at `at`
    baseline: float  # the pace: postings per window in the same family and metro before the window
    baseline_postings: int  # the postings that pace averages
    baseline_windows: float  # over how many windows
    thresholds: Thresholds
    novelty: Novelty | None
    weekly: tuple[int, ...]  # the group's postings per week, oldest first, the last week ending at `at`

    @property
    def count(self) -> int:
        return len(self.postings)

    def pace_known(self) -> bool:
        return self.pace is not None and self.pace.ready(self.at)


def explain(postings: Sequence[Posting], key: tuple[str, str, str], *, now: datetime, params: SignalParams,
            refs: Mapping[int, ItemRef] | None = None) -> Evidence:
    """The evidence for the signal `key` (company, family, metro) as of `now`, from the company's postings."""
    company, family, metro = key
    refs = refs or {}
    known = [p for p in postings if p.company == company and p.first_seen_at <= now]
    start = now - params.window
    finding = next((f for f in detect_signals(known, now=now, params=params) if f.key == key), None)
    group = sorted((p for p in known if has_time(p) and in_group(p, family, metro)),
                   key=lambda p: (posting_time(p), p.item_id))
    window = [p for p in group if start <= posting_time(p)]
    pace = pace_status(known, params=params, group=(family, metro)) if known else None
    earlier = sum(1 for p in group if start - params.window * params.baseline_windows <= posting_time(p) < start)
    windows = pace_windows(pace, start=start, params=params) if pace else 1.0
    pace_per_window = earlier / windows  # unrounded, as detection compares it
    return Evidence(
        company=company, family=family, metro=metro, at=now, window_start=start,
        reason=finding.reason if finding else None,
        postings=tuple(_window_posting(p, refs.get(p.item_id)) for p in window),
        pace=pace, baseline=round(pace_per_window, 2), baseline_postings=earlier, baseline_windows=round(windows, 2),
        thresholds=Thresholds(window=params.window, min_novel=params.min_novel, min_surge=params.min_surge,
                              surge_ratio=params.surge_ratio,
                              surge_needed=round(max(params.min_surge, params.surge_ratio * pace_per_window), 2)),
        novelty=_novelty(finding.reason, known, start) if finding and finding.reason in NOVEL_REASONS else None,
        weekly=weekly_counts(group, end=now),
    )


def weekly_counts(postings: Sequence[Posting], *, end: datetime, weeks: int = WEEKS) -> tuple[int, ...]:
    """Postings per week by their time, oldest week first, the last week ending at `end` (inclusive). Pass a
    group's postings (undated backfill left out: it has no time of its own)."""
    counts = [0] * weeks
    for posting in postings:
        back = (end - posting_time(posting)) // timedelta(days=7)
        if 0 <= back < weeks:
            counts[weeks - 1 - back] += 1
    return tuple(counts)


def group_weekly_counts(postings: Sequence[Posting], key: tuple[str, str, str], *, end: datetime,
                        weeks: int = WEEKS) -> tuple[int, ...]:
    """`weekly_counts` of the signal `key`'s group (company, family, metro), of what was known at `end`."""
    company, family, metro = key
    group = [p for p in postings if p.company == company and p.first_seen_at <= end and has_time(p)
             and in_group(p, family, metro)]
    return weekly_counts(group, end=end, weeks=weeks)


def sparkline(counts: Sequence[int]) -> str:
    """One bar per count, scaled to the largest: an empty week is the lowest bar, any posting at least the
    second, the busiest week the highest. '' for no counts."""
    peak = max(counts, default=0)
    if peak <= 0:
        return SPARK_BARS[0] * len(counts)
    top = len(SPARK_BARS) - 1
    return "".join(SPARK_BARS[0 if c <= 0 else max(1, round(c * top / peak))] for c in counts)


def reason_line(evidence: Evidence, stored_reason: str) -> str:
    """Why the signal fired, in words; says so when the rules no longer find it (settings or postings changed)."""
    e, t = evidence, evidence.thresholds
    days = _days(t.window)
    if e.reason is None:
        return (f"{stored_reason.replace('_', ' ')} when stored; as of {_day(e.at)} the rules no longer find it "
                f"({e.count} in the {days}-day window), so the settings or the stored postings have changed")
    first = "" if e.reason == stored_reason else (
        f"first {stored_reason.replace('_', ' ')}; as it last grew the rules find a ")
    if e.reason == "surge":
        return (f"{first}surge: {e.count} postings in the {days}-day window; a surge needs at least {t.min_surge}, "
                f"{t.min_surge} of them new since the board was followed, and {t.surge_ratio:g} × the pace of "
                f"{e.baseline:g} ({t.surge_needed:g})")
    return (f"{first}{e.reason.replace('_', ' ')}: {e.count} postings in the {days}-day window; novelty needs "
            f"{t.min_novel}")


def baseline_line(evidence: Evidence) -> str:
    """The baseline pace and where it came from, or that it is not known yet and from when it will be."""
    e, pace = evidence, evidence.pace
    if pace is None:
        return "pace not known yet: no posting of the company was known then"
    since = _day(pace.history_since)
    source = f"its postings' dates since {since}" if pace.dated else f"first-seen history since {since}"
    if not pace.ready(e.at):
        return (f"pace not known yet: {source} is less than a window before the window; surges can be judged "
                f"from {_day(pace.ready_at)}")
    return (f"{e.baseline:g} postings per {_days(e.thresholds.window)} days ({e.baseline_postings} in the "
            f"{e.baseline_windows:g} windows before this one), from {source}")


def thresholds_line(evidence: Evidence) -> str:
    t = evidence.thresholds
    return (f"window {_days(t.window)} days (from {_day(evidence.window_start)}); MIN_NOVEL {t.min_novel}; "
            f"MIN_SURGE {t.min_surge}; SURGE_RATIO {t.surge_ratio:g} × pace = {t.surge_needed:g} needed")


def novelty_line(evidence: Evidence, labels: Mapping[str, str]) -> str | None:
    """What was new, against what the company was known to hire before the window; None for a surge."""
    novelty = evidence.novelty
    if novelty is None:
        return None
    family = labels.get(evidence.family, evidence.family)
    what = {"new_metro": f"the company's first postings in {evidence.metro}",
            "new_function": f"the company's first {family} postings",
            "new_function_in_metro": f"the company's first {family} postings in {evidence.metro}"}[novelty.reason]
    metros = ", ".join(novelty.known_metros[:5]) or "none"
    families = ", ".join(labels.get(f, f) for f in novelty.known_families[:5]) or "none"
    return f"{what}; before the window it was known to hire in {metros} (functions: {families})"


def weekly_line(evidence: Evidence) -> str:
    counts = " ".join(str(c) for c in evidence.weekly)
    return f"{sparkline(evidence.weekly)} ({counts}; {len(evidence.weekly)} weeks to {_day(evidence.at)})"


def evidence_as_dict(evidence: Evidence) -> dict[str, Any]:
    e, t = evidence, evidence.thresholds
    return {
        "company": e.company, "family": e.family, "metro": e.metro, "at": e.at.isoformat(),
        "window_start": e.window_start.isoformat(), "reason": e.reason, "count": e.count,
        "postings": [{"item_id": p.item_id, "title": p.title, "at": p.at.isoformat(), "dated": p.dated,
                      "backfill": p.backfill, "url": p.url, "place": p.place} for p in e.postings],
        "pace": {"known": e.pace_known(), "per_window": e.baseline, "postings": e.baseline_postings,
                 "windows": e.baseline_windows, "dated": e.pace.dated if e.pace else False,
                 "since": e.pace.history_since.isoformat() if e.pace else None,
                 "ready_at": e.pace.ready_at.isoformat() if e.pace else None},
        "thresholds": {"window_days": t.window / timedelta(days=1), "min_novel": t.min_novel, "min_surge": t.min_surge,
                       "surge_ratio": t.surge_ratio, "surge_needed": t.surge_needed},
        "novelty": None if e.novelty is None else {
            "reason": e.novelty.reason, "known_metros": list(e.novelty.known_metros),
            "known_families": list(e.novelty.known_families)},
        "weekly": list(e.weekly), "sparkline": sparkline(e.weekly),
    }


def _window_posting(posting: Posting, ref: ItemRef | None) -> WindowPosting:
    return WindowPosting(item_id=posting.item_id, title=posting.title, at=posting_time(posting),
                         dated=is_dated(posting), backfill=posting.backfill, url=ref.url if ref else "",
                         place=ref.place if ref else "")


def _novelty(reason: str, known: Sequence[Posting], start: datetime) -> Novelty:
    prior = known_before(known, start)
    return Novelty(reason=reason, known_metros=tuple(sorted({m for p in prior for m in p.metros})),
                   known_families=tuple(sorted({family_of(p.function) for p in prior})))


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _days(span: timedelta) -> str:
    """'14' for a window of 14 days, '0.5' for half a day."""
    return f"{round(span / timedelta(days=1), 2):g}"
