"""Re-read the companies that posted lately and record their hiring signals. Idempotent: running it again
changes nothing, so a worker can run it after every poll and after a restart."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import Clock
from bot.core.companies import CompanyIdentity
from bot.core.lifecycle import PullbackParams, detect_pullbacks, track
from bot.core.normalize import first_line
from bot.core.signals import SignalParams, detect_signals, posting_time
from bot.storage.companies import company_identity
from bot.storage.db import session_scope
from bot.storage.leases import Held
from bot.storage.lifecycle import lifecycles
from bot.storage.signals import close_quiet_signals, companies_changed_since, company_postings, save_finding
from bot.storage.sources import teams_to_process
from bot.storage.transactions import Engine, Session
from bot.storage.wanted import request_work

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SignalReport:
    created: list[int] = field(default_factory=list)
    grown: list[int] = field(default_factory=list)
    closed: int = 0
    problems: list[str] = field(default_factory=list)  # one line per company whose signals failed


def update_signals(*, engine: Engine, clock: Clock, params: SignalParams, team_id: str | None = None,
                   held: Held | None = None) -> SignalReport:
    """With `held` (the team's clustering lease), nothing is saved unless the lease is still ours."""
    report = SignalReport()
    now = clock()
    with session_scope(engine) as session:
        teams = teams_to_process(session=session, team_id=team_id)
    for team in teams:
        with session_scope(engine) as session:
            if held is not None and not held.fence(session, now):
                continue
            report.closed += close_quiet_signals(session=session, team_id=team, before=now - params.window, now=now)
            identity = company_identity(session=session, team_id=team)
            companies = companies_changed_since(session=session, team_id=team, since=now - params.window,
                                                identity=identity)
        # Keys: one company under all its names. Each in a transaction of its own: one that fails fails alone.
        for company, shown in companies:
            try:
                with session_scope(engine) as session:
                    if held is not None and not held.fence(session, now):
                        break
                    created, grown = _company_signals(session, team, company, now, params, identity)
            except Exception as exc:
                log.warning("signals for %r in %s failed: %s: %s", shown, team, type(exc).__name__, first_line(exc))
                report.problems.append(f"hiring signals for {shown[:80]!r} failed: {type(exc).__name__}: "
                                       f"{first_line(exc)[:200]}")
                continue
            report.created += created
            report.grown += grown
    return report


def _company_signals(session: Session, team: str, company: str, now: datetime, params: SignalParams,
                     identity: CompanyIdentity, pullbacks: PullbackParams | None = None) -> tuple[list[int], list[int]]:
    """The company's signals saved (ids of those created, of those grown); the briefs they need are wanted."""
    created: list[int] = []
    grown: list[int] = []
    postings = company_postings(session=session, team_id=team, company=company, identity=identity)
    when = {p.item_id: posting_time(p) for p in postings}  # the board's date where it is plausible
    found = [(f, [when[i] for i in f.item_ids]) for f in detect_signals(postings, now=now, params=params)]
    lives = lifecycles(session=session, team_id=team, item_ids=[p.item_id for p in postings])
    for pullback in detect_pullbacks(track(postings, lives), now=now, params=pullbacks):
        # A pullback's times are when its postings closed.
        found.append((pullback, [lives[i].closed_at or now for i in pullback.item_ids]))
    for finding, times in found:
        signal, changed = save_finding(session=session, team_id=team, finding=finding,
                                       first_at=min(times), last_at=max(times), now=now,
                                       identity=identity)
        if changed:
            (grown if signal.version > 1 else created).append(signal.id or 0)
            request_work(session=session, team_id=team, kind="briefs")  # committed with the signal
    return created, grown
