"""Reading a workspace (its time zone, its analysis health) and setting its time zone. Creating one on first
use is `sources.ensure_workspace`."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.storage.models import Workspace
from bot.storage.sources import ensure_workspace

DEFAULT_TIMEZONE = "UTC"  # a new workspace's, until `/brief digest` learns another


def get_workspace(*, session: Session, team_id: str) -> Workspace | None:
    return session.get(Workspace, team_id)


def workspace_timezone(*, session: Session, team_id: str) -> str:
    """The workspace's time zone for digests; UTC for one briefbot has not seen yet."""
    workspace = get_workspace(session=session, team_id=team_id)
    return workspace.timezone if workspace is not None else DEFAULT_TIMEZONE


def set_workspace_timezone(*, session: Session, team_id: str, timezone: str | None, now: datetime) -> str:
    """Set the workspace's time zone when `timezone` is given (creating the workspace if need be); the time zone
    in effect either way."""
    workspace = ensure_workspace(session=session, team_id=team_id, now=now)
    if timezone:
        workspace.timezone = timezone
    return workspace.timezone
