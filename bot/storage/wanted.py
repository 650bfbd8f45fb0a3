"""What analysis each workspace wants, seen by every worker. Two sequences per kind of work, which only
grow: `<kind>_wanted` is raised by whatever leaves work (a poll that stores items raises `cluster_wanted`;
clustering that changes stories or signals raises `briefs_wanted`), and `<kind>_done` records the wanted
value that the last complete pass started from. Work is waiting while wanted > done.

A pass reads the wanted value before it starts and, when it has done everything, moves done up to that
value (never down). Work raised during the pass keeps wanted above done, so it is never forgotten; and as
nothing is ever reset, a late pass cannot clear work that arrived after another pass finished (no A-B-A).
A worker that dies mid-pass leaves wanted above done for another worker. No clocks are involved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from bot.storage.models import Workspace

Kind = Literal["cluster", "briefs"]


@dataclass(frozen=True, slots=True)
class Mark:
    seq: int  # the wanted value when read: pass it to `done` when the pass ends
    waiting: bool  # wanted > done: something is left to do


def want(*, session: Session, team_id: str, kind: Kind) -> None:
    column = getattr(Workspace, f"{kind}_wanted")
    session.execute(update(Workspace).where(col(Workspace.team_id) == team_id).values({column: column + 1}))


def mark(*, session: Session, team_id: str, kind: Kind) -> Mark:
    row = session.exec(select(getattr(Workspace, f"{kind}_wanted"), getattr(Workspace, f"{kind}_done"))
                       .where(Workspace.team_id == team_id)).first()
    wanted, finished = (int(row[0]), int(row[1])) if row else (0, 0)
    return Mark(seq=wanted, waiting=wanted > finished)


def done(*, session: Session, team_id: str, kind: Kind, seq: int) -> None:
    """Everything wanted up to `seq` is done."""
    column = getattr(Workspace, f"{kind}_done")
    session.execute(update(Workspace).where(col(Workspace.team_id) == team_id, column < seq).values({column: seq}))


def teams_wanting_analysis(*, session: Session) -> list[str]:
    waiting = or_(col(Workspace.cluster_wanted) > col(Workspace.cluster_done),
                  col(Workspace.briefs_wanted) > col(Workspace.briefs_done))
    return list(session.exec(select(Workspace.team_id).where(waiting).order_by(col(Workspace.team_id))))
