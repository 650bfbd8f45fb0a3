"""Sources with their health (status, item count, following channels), read as plain SQL without the table
models: `briefbot sources list` starts without the ORM's import and statement compilation (issue 15 item 3).
`storage.sources.list_sources` maps the same statement onto `Source` rows (`select(Source).from_statement`),
so which sources are listed, their counts, channels and status are written once, here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Boolean, Integer, TextClause, bindparam, text
from sqlalchemy.engine import Connection

from bot.storage.types import UTCDateTime

__all__ = ["ListedSource", "SourceHealth", "SourceRow", "list_source_health", "sources_query", "status_of",
           "with_health"]


class ListedSource(Protocol):
    """What a listing reads of a source: a `models.Source` or a `SourceRow`."""

    @property
    def id(self) -> int | None: ...
    @property
    def team_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def spec(self) -> str: ...
    @property
    def locator(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def next_due_at(self) -> datetime: ...
    @property
    def failures(self) -> int: ...
    @property
    def last_polled_at(self) -> datetime | None: ...
    @property
    def last_success_at(self) -> datetime | None: ...
    @property
    def last_error_at(self) -> datetime | None: ...
    @property
    def last_error_kind(self) -> str | None: ...
    @property
    def last_error(self) -> str | None: ...
    @property
    def last_notes(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class SourceRow:
    """A source as the plain listing reads it: the columns of `ListedSource`, nothing to write back."""

    id: int
    team_id: str
    kind: str
    spec: str
    locator: str
    title: str
    enabled: bool
    next_due_at: datetime
    failures: int
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error_kind: str | None
    last_error: str | None
    last_notes: str | None


S = TypeVar("S", bound=ListedSource)


@dataclass(frozen=True, slots=True)
class SourceHealth(Generic[S]):
    source: S
    item_count: int
    channels: list[str]

    def as_dict(self) -> dict[str, Any]:
        s = self.source
        return {
            "id": s.id, "team_id": s.team_id, "kind": s.kind, "spec": s.spec, "locator": s.locator,
            "title": s.title, "enabled": s.enabled, "channels": self.channels, "items": self.item_count,
            "last_polled_at": _iso(s.last_polled_at), "last_success_at": _iso(s.last_success_at),
            "last_error_at": _iso(s.last_error_at), "last_error_kind": s.last_error_kind,
            "last_error": s.last_error, "failures": s.failures, "next_poll_at": _iso(s.next_due_at),
            "notes": s.last_notes,
            "status": status_of(s),
        }


def status_of(source: ListedSource) -> str:
    if not source.enabled:
        return "paused"
    if source.last_polled_at is None:
        return "new"
    if source.failures:
        return "failing" if source.last_success_at is None or source.failures >= 3 else "retrying"
    return "ok"


def sources_query(team_id: str | None = None) -> TextClause:
    """Every source not removed (of `team_id`, or of every workspace), by id. Every column, so that the ORM can
    map the rows onto `Source`; the plain listing reads `SourceRow`'s."""
    where = "removed_at IS NULL" + (" AND team_id = :team_id" if team_id is not None else "")
    query = text(f"SELECT * FROM sources WHERE {where} ORDER BY id")
    return query.bindparams(team_id=team_id) if team_id is not None else query


_COUNTS = text("SELECT source_id, COUNT(DISTINCT item_id) FROM item_links WHERE source_id IN :ids "
               "GROUP BY source_id").bindparams(bindparam("ids", expanding=True))
_CHANNELS = text("SELECT source_id, channel_id FROM subscriptions WHERE source_id IN :ids").bindparams(
    bindparam("ids", expanding=True))


def with_health(connection: Connection, sources: Sequence[S]) -> list[SourceHealth[S]]:
    """`sources` with their item counts (distinct items seen through each) and following channels (sorted)."""
    ids = [s.id for s in sources]
    counts: dict[int, int] = {}
    channels: dict[int, list[str]] = {}
    if ids:
        counts = {int(sid): int(n) for sid, n in connection.execute(_COUNTS, {"ids": ids})}
        for sid, channel in connection.execute(_CHANNELS, {"ids": ids}):
            channels.setdefault(int(sid), []).append(str(channel))
    return [SourceHealth(s, counts.get(s.id or 0, 0), sorted(channels.get(s.id or 0, []))) for s in sources]


_FIELDS = tuple(f.name for f in fields(SourceRow))
# Read as the models declare them: aware UTC datetimes (SQLite keeps naive UTC text), booleans from SQLite's 0/1.
_TYPES: dict[str, Any] = {"id": Integer(), "enabled": Boolean(), "failures": Integer(), "next_due_at": UTCDateTime(),
                          "last_polled_at": UTCDateTime(), "last_success_at": UTCDateTime(),
                          "last_error_at": UTCDateTime()}


def list_source_health(connection: Connection, team_id: str | None = None) -> list[SourceHealth[SourceRow]]:
    """What `storage.sources.list_sources` lists, read without the table models."""
    rows = connection.execute(sources_query(team_id).columns(**_TYPES)).mappings()
    return with_health(connection, [SourceRow(**{name: row[name] for name in _FIELDS}) for row in rows])


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
