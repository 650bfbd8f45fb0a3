"""What analysis each workspace wants, seen by every worker. Two sequences per kind of work, which only
grow: `<kind>_wanted` is raised by whatever leaves work (a poll that stores items raises `cluster_wanted`;
clustering that changes stories or signals raises `briefs_wanted`), and `<kind>_done` records the wanted
value that the last complete pass started from. Work is waiting while wanted > done.

`request_work` raises wanted. A pass reads it first (`pending_work`) and, when it has done everything, moves
done up to that value, never down (`finish_work`). Work raised during the pass keeps wanted above done, so it
is never forgotten; and as nothing is ever reset, a late pass cannot clear work that arrived after another
pass finished (no A-B-A). A worker that dies mid-pass leaves wanted above done for another worker. No clocks
are involved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from bot.storage.models import Workspace

Kind = Literal["cluster", "briefs"]


@dataclass(frozen=True, slots=True)
class Pending:
    """Where a workspace's work of one kind stands when a pass is about to start."""

    seq: int  # the wanted value when read: pass it to `finish_work(up_to=…)` when the pass has done everything
    waiting: bool  # wanted > done: something is left to do


def request_work(*, session: Session, team_id: str, kind: Kind) -> None:
    """Ask for a pass of `kind` in this workspace (wanted + 1), in the caller's transaction, so the request
    commits with the rows that caused it: a poll's new items ask for clustering, changed stories or signals
    ask for briefs."""
    column = getattr(Workspace, f"{kind}_wanted")
    session.execute(update(Workspace).where(col(Workspace.team_id) == team_id).values({column: column + 1}))


def pending_work(*, session: Session, team_id: str, kind: Kind) -> Pending:
    """Read, before a pass starts, how far work of `kind` has been asked for and whether any is left."""
    row = session.exec(select(getattr(Workspace, f"{kind}_wanted"), getattr(Workspace, f"{kind}_done"))
                       .where(Workspace.team_id == team_id)).first()
    wanted, finished = (int(row[0]), int(row[1])) if row else (0, 0)
    return Pending(seq=wanted, waiting=wanted > finished)


def finish_work(*, session: Session, team_id: str, kind: Kind, up_to: int) -> None:
    """A pass that started from `pending_work(...).seq == up_to` did everything: done moves up to it (never
    down). Requests made during the pass are above `up_to`, so they stay waiting."""
    column = getattr(Workspace, f"{kind}_done")
    session.execute(update(Workspace).where(col(Workspace.team_id) == team_id, column < up_to)
                    .values({column: up_to}))


def teams_wanting_analysis(*, session: Session) -> list[str]:
    waiting = or_(col(Workspace.cluster_wanted) > col(Workspace.cluster_done),
                  col(Workspace.briefs_wanted) > col(Workspace.briefs_done))
    return list(session.exec(select(Workspace.team_id).where(waiting).order_by(col(Workspace.team_id))))
