"""What analysis each workspace wants, seen by every worker: a poll that stores items raises the team's
`cluster_wanted`; a clustering pass that changes stories or signals raises `briefs_wanted`. A pass reads
the counter before it starts and resets it afterwards only if nothing raised it meanwhile (a compare-and-
set, no clocks), so work that arrives during a pass is never forgotten, and a worker that dies mid-pass
leaves the counter raised for another worker."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from bot.storage.models import Workspace

Kind = Literal["cluster", "briefs"]


def _column(kind: Kind) -> str:
    return f"{kind}_wanted"


def want(*, session: Session, team_id: str, kind: Kind) -> None:
    column = getattr(Workspace, _column(kind))
    session.execute(update(Workspace).where(col(Workspace.team_id) == team_id).values({column: column + 1}))


def wanted(*, session: Session, team_id: str, kind: Kind) -> int:
    """The counter now (0: nothing wanted); pass it to `done` when the pass ends."""
    value = session.exec(select(getattr(Workspace, _column(kind))).where(Workspace.team_id == team_id)).first()
    return int(value or 0)


def done(*, session: Session, team_id: str, kind: Kind, seen: int) -> bool:
    """Reset the counter if it still reads `seen`; False when more work was wanted meanwhile."""
    column = getattr(Workspace, _column(kind))
    reset = session.execute(update(Workspace).where(col(Workspace.team_id) == team_id, column == seen)
                            .values({column: 0}))
    return bool(reset.rowcount == 1)  # type: ignore[attr-defined]


def teams_wanting_analysis(*, session: Session) -> list[str]:
    query = select(Workspace.team_id).where(or_(col(Workspace.cluster_wanted) > 0, col(Workspace.briefs_wanted) > 0))
    return list(session.exec(query.order_by(col(Workspace.team_id))))
