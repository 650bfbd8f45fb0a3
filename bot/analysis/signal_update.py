"""Re-read the companies that posted lately and record their hiring signals. Idempotent: running it again
changes nothing, so a worker can run it after every poll and after a restart."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from bot.clock import Clock
from bot.core.signals import SignalParams, detect_signals
from bot.storage.db import session_scope
from bot.storage.leases import Held
from bot.storage.signals import close_quiet_signals, companies_hiring_since, company_postings, save_finding
from bot.storage.sources import teams_to_process
from bot.storage.wanted import want


@dataclass(slots=True)
class SignalReport:
    created: list[int] = field(default_factory=list)
    grown: list[int] = field(default_factory=list)
    closed: int = 0


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
            for company in companies_hiring_since(session=session, team_id=team, since=now - params.window):
                postings = company_postings(session=session, team_id=team, company=company)
                when = {p.item_id: p.first_seen_at for p in postings}
                for finding in detect_signals(postings, now=now, params=params):
                    times = [when[i] for i in finding.item_ids]
                    signal, changed = save_finding(session=session, team_id=team, finding=finding,
                                                   first_at=min(times), last_at=max(times), now=now)
                    if changed:
                        (report.grown if signal.version > 1 else report.created).append(signal.id or 0)
                        want(session=session, team_id=team, kind="briefs")  # committed with the signal
    return report
