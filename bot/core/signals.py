"""Hiring signals: what a company's new job postings reveal. Pure.

A signal is a cluster of a company's postings in one job-function family and one metro area, dated within a
rolling window, with at least one of them new (not a source's backfill), that is either
- novel: the company's first postings in that metro, in that function, or in that function in that metro
  (at least `min_novel` of them: a lone posting is not a signal), or
- a surge: at least `min_surge` postings, at least `min_surge` of them new, and `surge_ratio` times the
  company's own pace for that function and metro (so a steady trickle is not a signal).
A posting's time is the date its board gives it (`posted_at`) when that date is plausible (not after we
first saw it, not more than `MAX_POSTING_AGE` before), else when we first saw it. Postings stored by the
first poll of a source are its backfill: history, never news on their own, but a dated backfill posting
counts where its date puts it (in the window, or in the pace before it). A repost (a closed posting back under
a new id) is not in any window. An undated backfill posting only
says the company already hires there. A group's pace is known once briefbot has watched the company for a
whole window before the current window, or once the group's own dated postings reach that far back.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.jobs import family_of

MAX_POSTING_AGE = timedelta(days=5 * 365)  # a board date older than this before first seen is not believed

@dataclass(frozen=True, slots=True)
class Posting:
    item_id: int
    company: str
    title: str
    function: str  # taxonomy id (bot.core.jobs.job_function)
    metros: tuple[str, ...]
    first_seen_at: datetime
    backfill: bool = False  # stored by its source's first poll
    posted_at: datetime | None = None  # the board's own date for the posting, if it gives one
    repost: bool = False  # a closed posting come back under a new id: known demand, not new


@dataclass(frozen=True, slots=True)
class SignalParams:
    window: timedelta = timedelta(days=14)
    min_novel: int = 3
    min_surge: int = 5
    surge_ratio: float = 3.0
    baseline_windows: int = 6


@dataclass(frozen=True, slots=True)
class SignalFinding:
    company: str
    family: str
    metro: str
    reason: str  # new_metro | new_function | new_function_in_metro | surge
    item_ids: tuple[int, ...]
    baseline: float  # postings per window in the same family and metro before this window
    functions: tuple[tuple[str, int], ...] = field(default=())  # function id and count, commonest first
    titles: tuple[str, ...] = field(default=())

    @property
    def count(self) -> int:
        return len(self.item_ids)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.company, self.family, self.metro)


def detect_signals(postings: Sequence[Posting], *, now: datetime, params: SignalParams) -> list[SignalFinding]:
    """Every signal in one company's (or several companies') postings as of `now`."""
    by_company: dict[str, list[Posting]] = defaultdict(list)
    for posting in postings:
        by_company[posting.company].append(posting)
    findings: list[SignalFinding] = []
    for company in sorted(by_company):
        findings.extend(_company_signals(company, by_company[company], now, params))
    return findings


def is_dated(posting: Posting) -> bool:
    """Whether the board's date can stand for when the posting appeared: not after we first saw it (a later
    date is an edit time or a skewed clock), not absurdly old (a broken or placeholder date)."""
    posted = posting.posted_at
    return posted is not None and posting.first_seen_at - MAX_POSTING_AGE <= posted <= posting.first_seen_at


def posting_time(posting: Posting) -> datetime:
    """When the posting appeared: its plausible board date, else when it was first seen."""
    return posting.posted_at if posting.posted_at is not None and is_dated(posting) else posting.first_seen_at


def has_time(posting: Posting) -> bool:
    """Counts where its time puts it (window or pace). An undated backfill posting has no time of its own:
    its first-seen time is only when the board was followed."""
    return not posting.backfill or is_dated(posting)


def in_group(posting: Posting, family: str, metro: str) -> bool:
    """Whether the posting belongs to the (job-function family, metro) group a signal is about."""
    return family_of(posting.function) == family and metro in posting.metros


def known_before(postings: Sequence[Posting], start: datetime) -> list[Posting]:
    """What the company was known to hire before the window that starts at `start`: postings dated before
    it, and its backfill."""
    return [p for p in postings if posting_time(p) < start or p.backfill]


@dataclass(frozen=True, slots=True)
class PaceStatus:
    """Whether a pace (the baseline a surge is measured against) is known, and from what."""

    dated: bool  # some of the postings it rests on carry a plausible board date
    history_since: datetime  # the oldest posting date it rests on, or when the company was first seen if earlier
    ready_at: datetime  # from then on a surge can be judged: history a whole window before the window

    def ready(self, now: datetime) -> bool:
        return now >= self.ready_at


def pace_status(postings: Sequence[Posting], *, params: SignalParams,
                group: tuple[str, str] | None = None) -> PaceStatus:
    """One company's postings (at least one): how far back its history goes, and when its pace is known.

    With `group` (job-function family, metro), the pace of that group, which is what a surge is judged by: it
    is known once briefbot has watched the company for a window before the window, or once the group's own
    dated postings reach that far back. Boards list only open roles, so a company's older, filled roles are
    missing from its first poll: one long-open role elsewhere (an evergreen "talent community" posting) says
    nothing about this group's pace. Without `group`, the company's earliest history over all its postings (for
    telling people where its pace comes from)."""
    watched = min(p.first_seen_at for p in postings)
    dated = [posting_time(p) for p in postings if is_dated(p) and (group is None or in_group(p, *group))]
    since = min([watched, *dated])
    return PaceStatus(dated=bool(dated), history_since=since, ready_at=since + 2 * params.window)


def pace_windows(pace: PaceStatus, *, start: datetime, params: SignalParams) -> float:
    """How many windows the pace is averaged over: the baseline period before `start`, or the part of it the
    company's history covers, at least one."""
    baseline_start = start - params.window * params.baseline_windows
    return max(1.0, (start - max(baseline_start, pace.history_since)) / params.window)


def _company_signals(company: str, postings: list[Posting], now: datetime, params: SignalParams) -> list[SignalFinding]:
    known = [p for p in postings if p.first_seen_at <= now]  # what had been seen by `now`
    if not known:
        return []
    start = now - params.window
    # The window, backfill included; a repost is the company's known demand again, never a posting of the window.
    recent = [p for p in known if has_time(p) and start <= posting_time(p) and not p.repost]
    prior = known_before(known, start)  # what the company was known to hire
    prior_metros = {m for p in prior for m in p.metros}
    prior_families = {family_of(p.function) for p in prior}
    prior_pairs = {(family_of(p.function), m) for p in prior for m in p.metros}
    baseline_start = start - params.window * params.baseline_windows
    groups: dict[tuple[str, str], list[Posting]] = defaultdict(list)
    for posting in recent:
        for metro in posting.metros:
            groups[(family_of(posting.function), metro)].append(posting)

    findings = []
    for (family, metro), group in sorted(groups.items()):
        if all(p.backfill for p in group):  # no signal from a backfill alone
            continue
        count = len(group)
        fresh = sum(1 for p in group if not p.backfill)  # what arrived since the board was followed
        pace = pace_status(known, params=params, group=(family, metro))
        # A pace whose history is shorter than the whole baseline period is averaged over the time it covers.
        windows = pace_windows(pace, start=start, params=params)
        earlier = sum(1 for p in known if has_time(p) and baseline_start <= posting_time(p) < start
                      and in_group(p, family, metro))
        baseline = earlier / windows
        if (family, metro) not in prior_pairs and count >= params.min_novel:
            if metro not in prior_metros:
                reason = "new_metro"
            elif family not in prior_families:
                reason = "new_function"
            else:
                reason = "new_function_in_metro"
        elif (pace.ready(now) and fresh >= params.min_surge
              and count >= max(params.min_surge, params.surge_ratio * baseline)):
            # A surge is news: at least MIN_SURGE of its postings arrived since the board was followed, so one
            # routine posting beside a dated backfill is not one.
            reason = "surge"
        else:
            continue
        ordered = sorted(group, key=lambda p: (posting_time(p), p.item_id))
        functions = Counter(p.function for p in ordered).most_common()
        findings.append(SignalFinding(
            company=company, family=family, metro=metro, reason=reason,
            item_ids=tuple(p.item_id for p in ordered), baseline=round(baseline, 2),
            functions=tuple(functions), titles=tuple(p.title for p in ordered),
        ))
    return findings
