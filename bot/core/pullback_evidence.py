"""Why a pullback fired: the roles a company had open in one job-function family and metro when the window
began, which of them closed within it and when, how many of those closed together, the roles it opened since,
and the group's open roles week by week. Re-derived from the postings and their lifecycles by
`bot.core.lifecycle.group_window`, the reading `detect_pullbacks` judges. Pure: the caller says which moment to
explain (when the signal last grew) and gives the postings' links."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.lifecycle import PullbackParams, TrackedPosting, detect_pullbacks, group_window, opened_at
from bot.core.signal_evidence import WEEKS, ItemRef, sparkline
from bot.core.signals import in_group


@dataclass(frozen=True, slots=True)
class ClosedPostingView:
    item_id: int
    title: str
    opened_at: datetime
    closed_at: datetime
    url: str
    place: str


@dataclass(frozen=True, slots=True)
class PullbackEvidence:
    company: str
    family: str
    metro: str
    at: datetime  # the moment explained
    window_start: datetime
    found: bool  # whether the rules find this pullback at `at`
    open_at_start: int  # the group's roles open when the window began
    closed: tuple[ClosedPostingView, ...]  # those that closed within the window (not reposted), by closing
    closed_together: int  # the most of them that closed within `params.together` of each other
    opened_since: int  # roles the group opened within the window (not reposts) still open
    params: PullbackParams
    weekly_open: tuple[int, ...]  # the group's open roles at the end of each of the last WEEKS weeks

    @property
    def count(self) -> int:
        return len(self.closed)


def explain_pullback(tracked: Sequence[TrackedPosting], key: tuple[str, str, str], *, now: datetime,
                     params: PullbackParams | None = None, refs: Mapping[int, ItemRef] | None = None
                     ) -> PullbackEvidence:
    """The evidence for the pullback `key` (company, family, metro) as of `now`."""
    params = params or PullbackParams()
    company, family, metro = key
    refs = refs or {}
    start = now - params.window
    group = [t for t in tracked if t.posting.company == company and in_group(t.posting, family, metro)
             and not t.closed_before_tracking and t.posting.first_seen_at <= now]
    reposted = {t.repost_of for t in tracked if t.repost_of is not None}
    window = group_window(group, now=now, params=params, reposted=reposted)
    found = any(f.key == key for f in detect_pullbacks(tracked, now=now, params=params))
    views = tuple(ClosedPostingView(
        item_id=t.posting.item_id, title=t.posting.title, opened_at=_opened(t), closed_at=t.closed_at or now,
        url=(ref.url if (ref := refs.get(t.posting.item_id)) else ""), place=ref.place if ref else "")
        for t in window.closed)
    weekly = tuple(sum(1 for t in group if _open_at(t, now - timedelta(weeks=w))) for w in range(WEEKS - 1, -1, -1))
    return PullbackEvidence(company=company, family=family, metro=metro, at=now, window_start=start, found=found,
                            open_at_start=len(window.was_open), closed=views, closed_together=len(window.together),
                            opened_since=len(window.opened), params=params, weekly_open=weekly)


def pullback_lines(evidence: PullbackEvidence) -> list[tuple[str, str]]:
    """(label, text) lines: why, thresholds, open roles week by week."""
    e = evidence
    still = e.open_at_start - e.count
    together = _span(e.params.together)
    why = (f"pullback: {e.count} of the {e.open_at_start} roles open on {_day(e.window_start)} closed by "
           f"{_day(e.at)}, {_together(e.closed_together, together)}; {still} still open")
    if e.opened_since:
        why += f"; {e.opened_since} opened since"
    if not e.found:
        why += "; as of then the rules no longer find it (a role reopened or was reposted, or the settings changed)"
    share = f"{e.params.min_closed_share:.0%}"
    thresholds = (f"at least {e.params.min_open} roles open when the {e.params.window.days}-day window began, and "
                  f"at least {share} of them closed within it, as many within {together} of each other (roles "
                  "filled one by one close spread out; a withdrawal takes them down together); a closed role posted "
                  f"again is not closed, and a closing counts once it is {_span(e.params.settle)} old (a re-listing's "
                  "reposts come back first)")
    weekly = f"{sparkline(e.weekly_open)} ({', '.join(str(n) for n in e.weekly_open)}; open roles at each week's end)"
    return [("Why", why), ("Thresholds", thresholds), ("Open roles per week", weekly)]


def pullback_as_dict(evidence: PullbackEvidence) -> dict[str, Any]:
    e = evidence
    return {
        "company": e.company, "family": e.family, "metro": e.metro, "at": e.at.isoformat(),
        "window_start": e.window_start.isoformat(), "reason": "pullback" if e.found else None, "count": e.count,
        "open_at_start": e.open_at_start, "closed_together": e.closed_together, "opened_since": e.opened_since,
        "weekly_open": list(e.weekly_open),
        "thresholds": {"window_days": e.params.window.days, "min_open": e.params.min_open,
                       "min_closed_share": e.params.min_closed_share,
                       "together_hours": e.params.together / timedelta(hours=1),
                       "settle_hours": e.params.settle / timedelta(hours=1)},
        "closed": [{"item_id": c.item_id, "title": c.title, "opened_at": c.opened_at.isoformat(),
                    "closed_at": c.closed_at.isoformat(), "url": c.url, "place": c.place} for c in e.closed],
    }


def _opened(t: TrackedPosting) -> datetime:
    return opened_at(t.posting.posted_at, t.posting.first_seen_at)


def _open_at(t: TrackedPosting, moment: datetime) -> bool:
    return _opened(t) <= moment and (t.closed_at is None or t.closed_at > moment)


def _together(count: int, span: str) -> str:
    return f"{count} of them within {span} of each other" if count > 1 else f"no two of them within {span}"


def _span(span: timedelta) -> str:
    if span < timedelta(days=1):
        return f"{span / timedelta(hours=1):g} hours"
    days = span / timedelta(days=1)
    return f"{days:g} days" if days != 1 else "a day"


def _day(moment: datetime) -> str:
    return f"{moment:%b} {moment.day}"
