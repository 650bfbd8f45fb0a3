"""Each workspace's daily LLM token budget: its own (workspaces.llm_daily_tokens; None: the default, 0: no LLM)
and what its briefs used today. Answers record no token counts, so briefs are what a budget counts."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from bot.core.llm_budget import MAX_TOKENS, LLMBudget, day_start, make_budget
from bot.storage.models import Brief, Workspace


class UnknownWorkspaceError(LookupError):
    """No workspace has this team id: the message names the ones there are."""


def tokens_used(*, session: Session, team_id: str, since: datetime) -> int:
    """Prompt and completion tokens the workspace's briefs recorded since `since` (ix_briefs_team_created)."""
    total = session.exec(select(func.coalesce(func.sum(Brief.prompt_tokens + Brief.completion_tokens), 0))
                         .where(Brief.team_id == team_id, col(Brief.created_at) >= since)).one()
    return int(total)


def tokens_used_by_team(*, session: Session, since: datetime) -> dict[str, int]:
    """`tokens_used` for every workspace, in one query: team id -> tokens (teams with none are left out)."""
    rows = session.exec(select(Brief.team_id, func.sum(Brief.prompt_tokens + Brief.completion_tokens))
                        .where(col(Brief.created_at) >= since).group_by(Brief.team_id))
    return {team_id: int(total or 0) for team_id, total in rows}


def workspace_budget(*, session: Session, team_id: str, default_limit: int, now: datetime) -> LLMBudget:
    """The workspace's budget in force today and what it used; a workspace not stored yet has the default."""
    workspace = session.get(Workspace, team_id)
    own = workspace.llm_daily_tokens if workspace is not None else None
    used = tokens_used(session=session, team_id=team_id, since=day_start(now))
    return make_budget(team_id=team_id, own_limit=own, default_limit=default_limit, used=used, now=now)


def all_budgets(*, session: Session, default_limit: int, now: datetime,
                team_id: str | None = None) -> list[tuple[Workspace, LLMBudget]]:
    """Every stored workspace (or the one asked for) with its budget today, by team id."""
    used = tokens_used_by_team(session=session, since=day_start(now))
    query = select(Workspace).order_by(col(Workspace.team_id))
    if team_id is not None:
        query = query.where(Workspace.team_id == team_id)
    return [(w, make_budget(team_id=w.team_id, own_limit=w.llm_daily_tokens, default_limit=default_limit,
                            used=used.get(w.team_id, 0), now=now)) for w in session.exec(query)]


def set_budget(*, session: Session, team_id: str, tokens: int | None) -> int | None:
    """Give a stored workspace its own daily budget (`tokens`), or the default again (None); what it had before.
    UnknownWorkspaceError for a team id no workspace has: a typo must not create a workspace."""
    if tokens is not None and not 0 <= tokens <= MAX_TOKENS:
        raise ValueError(f"a daily LLM budget is 0 to {MAX_TOKENS:,} tokens, not {tokens}")
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        known = list(session.exec(select(Workspace.team_id).order_by(col(Workspace.team_id)).limit(6)))
        listed = ", ".join(known[:5]) + (", …" if len(known) > 5 else "")
        raise UnknownWorkspaceError(f"no workspace {team_id}" + (f" (there are: {listed}" if known else " (none yet")
                                    + "; see briefbot workspaces list)")
    before = workspace.llm_daily_tokens
    workspace.llm_daily_tokens = tokens
    session.add(workspace)
    return before
