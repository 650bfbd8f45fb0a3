"""A workspace's analysis health: why its last analysis pass (or a part of it: one company's signals, one
subject's brief) failed, shown by `briefbot status` and `/brief status`, and cleared by a clean pass."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.storage.models import Workspace

MAX_PROBLEMS = 5
MAX_TEXT = 2000


def record_analysis(*, session: Session, team_id: str, problems: list[str], now: datetime) -> None:
    """Record what failed in this workspace's pass (the first few, each one line), or clear it when nothing did."""
    if problems:
        shown = problems[:MAX_PROBLEMS]
        more = f"; and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        values: dict[str, object] = {"analysis_error": ("; ".join(shown) + more)[:MAX_TEXT], "analysis_error_at": now}
        session.execute(update(Workspace).where(col(Workspace.team_id) == team_id).values(values))
    else:  # a clean pass writes only where there was something to clear
        session.execute(update(Workspace).where(col(Workspace.team_id) == team_id,
                                                col(Workspace.analysis_error).is_not(None))
                        .values(analysis_error=None, analysis_error_at=None))


def analysis_problem(*, session: Session, team_id: str) -> tuple[str, datetime] | None:
    """What the last pass of this workspace's analysis could not do, and when; None when it went through."""
    row = session.exec(select(Workspace.analysis_error, Workspace.analysis_error_at)
                       .where(Workspace.team_id == team_id)).first()
    if row is None or not row[0] or row[1] is None:
        return None
    return str(row[0]), row[1]


def analysis_problems(*, session: Session, team_id: str | None = None) -> list[tuple[str, str, datetime]]:
    """(team, what failed, when) for every workspace (or just `team_id`) whose last analysis pass failed in
    part, by team id."""
    query = select(Workspace.team_id, Workspace.analysis_error, Workspace.analysis_error_at).where(
        col(Workspace.analysis_error).is_not(None), col(Workspace.analysis_error_at).is_not(None))
    if team_id is not None:
        query = query.where(Workspace.team_id == team_id)
    return [(str(team), str(error), at) for team, error, at in session.exec(query.order_by(col(Workspace.team_id)))
            if error and at is not None]
