"""Where a workspace's alerts would be posted, and what waits to be: read as plain SQL without the table models,
for `slack/unpostable` (which `briefbot sources list` and `briefbot status` run on every call)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

__all__ = ["delivery_targets", "waiting_deliveries"]

# Channels following a source, and channels watching a term: both are where alerts go (UNION: each pair once).
_TARGETS = ("SELECT team_id, channel_id FROM subscriptions{where} "
            "UNION SELECT team_id, channel_id FROM watches{where}")
_WAITING = ("SELECT team_id, channel_id, COUNT(*) FROM deliveries WHERE status IN ('pending', 'sending'){where} "
            "GROUP BY team_id, channel_id")


def delivery_targets(connection: Connection, team_id: str | None = None) -> dict[str, set[str]]:
    """Per team, the channels its alerts would go to: those following a source or watching a term."""
    where, params = _team(" WHERE", team_id)
    targets: dict[str, set[str]] = {}
    for team, channel in connection.execute(text(_TARGETS.format(where=where)), params):
        targets.setdefault(str(team), set()).add(str(channel))
    return targets


def waiting_deliveries(connection: Connection, team_id: str | None = None) -> dict[tuple[str, str], int]:
    """(team, channel) → deliveries due and not yet posted (held and paused ones are not due)."""
    where, params = _team(" AND", team_id)
    rows = connection.execute(text(_WAITING.format(where=where)), params)
    return {(str(team), str(channel)): int(n) for team, channel, n in rows}


def _team(joined_by: str, team_id: str | None) -> tuple[str, dict[str, str]]:
    """The condition on one workspace, and its parameter; nothing for every workspace."""
    return (f"{joined_by} team_id = :team_id", {"team_id": team_id}) if team_id is not None else ("", {})
