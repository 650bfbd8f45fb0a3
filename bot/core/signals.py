"""Hiring signals: what a company's new job postings reveal. Pure.

A signal is a cluster of a company's *new* postings in one job-function family and one metro area,
within a rolling window, that is either
- novel: the company's first postings in that metro, in that function, or in that function in that metro
  (at least `min_novel` of them: a lone posting is not a signal), or
- a surge: at least `min_surge` postings, and `surge_ratio` times the company's own baseline for that
  function and metro (so a steady trickle is not a signal).
Postings stored by the first poll of a source are its backfill: history to compare against, never news.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.jobs import family_of


@dataclass(frozen=True, slots=True)
class Posting:
    item_id: int
    company: str
    title: str
    function: str  # taxonomy id (bot.core.jobs.job_function)
    metros: tuple[str, ...]
    first_seen_at: datetime
    backfill: bool = False  # stored by its source's first poll


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


def _company_signals(company: str, postings: list[Posting], now: datetime, params: SignalParams) -> list[SignalFinding]:
    start = now - params.window
    recent = [p for p in postings if not p.backfill and start <= p.first_seen_at <= now]
    prior = [p for p in postings if p.first_seen_at < start or (p.backfill and p.first_seen_at <= now)]
    prior_metros = {m for p in prior for m in p.metros}
    prior_families = {family_of(p.function) for p in prior}
    prior_pairs = {(family_of(p.function), m) for p in prior for m in p.metros}
    baseline_start = start - params.window * params.baseline_windows
    # A company watched for less than the whole baseline period is averaged over the time it was watched.
    watched_since = max(baseline_start, min(p.first_seen_at for p in postings))
    windows = max(1.0, (start - watched_since) / params.window)
    # A pace needs a window of history before this one: until then there is no baseline to surge above.
    watched_full_window = start - min(p.first_seen_at for p in postings) >= params.window
    groups: dict[tuple[str, str], list[Posting]] = defaultdict(list)
    for posting in recent:
        for metro in posting.metros:
            groups[(family_of(posting.function), metro)].append(posting)

    findings = []
    for (family, metro), group in sorted(groups.items()):
        count = len(group)
        earlier = sum(1 for p in prior if not p.backfill and baseline_start <= p.first_seen_at < start
                      and family_of(p.function) == family and metro in p.metros)
        baseline = earlier / windows
        if (family, metro) not in prior_pairs and count >= params.min_novel:
            if metro not in prior_metros:
                reason = "new_metro"
            elif family not in prior_families:
                reason = "new_function"
            else:
                reason = "new_function_in_metro"
        elif watched_full_window and count >= max(params.min_surge, params.surge_ratio * baseline):
            reason = "surge"
        else:
            continue
        ordered = sorted(group, key=lambda p: (p.first_seen_at, p.item_id))
        functions = Counter(p.function for p in ordered).most_common()
        findings.append(SignalFinding(
            company=company, family=family, metro=metro, reason=reason,
            item_ids=tuple(p.item_id for p in ordered), baseline=round(baseline, 2),
            functions=tuple(functions), titles=tuple(p.title for p in ordered),
        ))
    return findings
