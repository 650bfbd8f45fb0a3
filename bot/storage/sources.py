"""Data functions for workspaces, sources and subscriptions, including the lease that lets several
pollers share one database without polling the same source twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, Update, bindparam, func, insert, or_, update
from sqlmodel import Session, col, select

from bot.core.routing import ALERT_POLICIES, DIGEST, EVERY, alert_policy
from bot.storage.db import insert_if_absent
from bot.storage.fit import fit_text, fit_values
from bot.storage.models import Item, Poll, Source, Subscription, Workspace
from bot.storage.source_health import SourceHealth, sources_query, with_health
from bot.storage.source_health import status_of as status_of  # slack/views reads it from here

MAX_TITLE = 300  # sources.title


def ensure_workspace(*, session: Session, team_id: str, now: datetime, name: str = "") -> Workspace:
    """The workspace row, created if missing. An INSERT … ON CONFLICT DO NOTHING, so two first requests from a
    new workspace at once both succeed: the one that loses the race finds the winner's row."""
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        insert_if_absent(session, Workspace, ["team_id"], team_id=team_id, name=name, created_at=now)
        workspace = session.get_one(Workspace, team_id)
    return workspace


def list_team_ids(*, session: Session) -> list[str]:
    return list(session.exec(select(Workspace.team_id).order_by(col(Workspace.team_id))))


def teams_to_process(*, session: Session, team_id: str | None) -> list[str]:
    """The one team asked for, or every team."""
    return [team_id] if team_id else list_team_ids(session=session)


def add_source(
    *, session: Session, team_id: str, kind: str, locator: str, spec: str, title: str, now: datetime
) -> tuple[Source, bool]:
    """The source for (team, kind, locator), created or re-enabled; the flag says whether it is new. Two
    requests adding the same source at once both succeed with the one row (INSERT … ON CONFLICT DO NOTHING)."""
    ensure_workspace(session=session, team_id=team_id, now=now)
    # Core statements, which the flush guard does not see: what came from outside is fitted here.
    locator, spec, title = fit_text(locator, None), fit_text(spec, None), fit_text(title, MAX_TITLE)
    query = select(Source).where(Source.team_id == team_id, Source.kind == kind, Source.locator == locator)
    existing = session.exec(query).first()
    if existing is not None:
        created = existing.removed_at is not None
        if created:
            existing.removed_at, existing.enabled, existing.next_due_at = None, True, now
        return existing, created
    inserted = insert_if_absent(session, Source, ["team_id", "kind", "locator"], team_id=team_id, kind=kind,
                                locator=locator, spec=spec, title=title, created_at=now, next_due_at=now,
                                enabled=True, failures=0)
    return session.exec(query).one(), inserted


def subscribe(*, session: Session, team_id: str, channel_id: str, source_id: int, now: datetime,
              alert: str | None = None) -> Subscription:
    """The channel follows the source (again, if it had paused); concurrent requests make one row. `alert`
    (every | stories | digest) sets the follow's policy; None keeps the one it had (or the kind's default)."""
    if alert is not None and alert not in ALERT_POLICIES:
        raise ValueError(f"alert policy must be one of {', '.join(ALERT_POLICIES)}, not {alert[:20]!r}")
    query = select(Subscription).where(Subscription.team_id == team_id, Subscription.channel_id == channel_id,
                                       Subscription.source_id == source_id)
    existing = session.exec(query).first()
    if existing is not None:
        existing.paused = False
        if alert is not None:
            existing.alert = alert
        return existing
    insert_if_absent(session, Subscription, ["team_id", "channel_id", "source_id"], team_id=team_id,
                     channel_id=channel_id, source_id=source_id, created_at=now, paused=False, alert=alert)
    return session.exec(query).one()


def eager_sources(*, session: Session, team_id: str) -> set[int]:
    """The team's sources some channel follows (not paused) with the `every` or `digest` policy: each new story
    from them is briefed even when one outlet carries it."""
    rows = session.exec(select(Subscription.alert, Source.id, Source.kind)
                        .join(Source, col(Source.id) == Subscription.source_id)
                        .where(Subscription.team_id == team_id, col(Subscription.paused).is_(False),
                               col(Source.removed_at).is_(None)))
    return {source_id or 0 for alert, source_id, kind in rows if alert_policy(alert, kind) in (EVERY, DIGEST)}


def set_follow_alert(*, session: Session, team_id: str, channel_id: str, source_id: int,
                     alert: str) -> Source | None:
    """Change how a channel hears a source it follows (every | stories | digest); None when it doesn't follow
    it (or the source is another workspace's)."""
    if alert not in ALERT_POLICIES:
        raise ValueError(f"alert policy must be one of {', '.join(ALERT_POLICIES)}")
    sub = session.exec(select(Subscription).where(Subscription.team_id == team_id,
                                                  Subscription.channel_id == channel_id,
                                                  Subscription.source_id == source_id)).first()
    source = session.get(Source, source_id)
    if sub is None or source is None or source.team_id != team_id:
        return None
    sub.alert = alert
    return source


def follows_among(*, session: Session, team_id: str, channel_id: str,
                  source_ids: set[int]) -> list[tuple[Source, str]]:
    """The sources among `source_ids` the channel follows, with each follow's alert policy in effect."""
    if not source_ids:
        return []
    rows = session.exec(select(Subscription, Source).join(Source, col(Source.id) == Subscription.source_id)
                        .where(Subscription.team_id == team_id, Subscription.channel_id == channel_id,
                               col(Subscription.source_id).in_(sorted(source_ids))).order_by(col(Source.id)))
    return [(source, alert_policy(sub.alert, source.kind)) for sub, source in rows]


def get_source(*, session: Session, source_id: int, team_id: str | None = None) -> Source | None:
    source = session.get(Source, source_id)
    if source is None or source.removed_at is not None or (team_id is not None and source.team_id != team_id):
        return None
    return source


def remove_source(*, session: Session, source: Source, now: datetime) -> None:
    """Stop polling and unsubscribe every channel; the items stay in the history."""
    source.removed_at, source.enabled = now, False
    source.lease_owner = source.lease_until = None
    for sub in session.exec(select(Subscription).where(Subscription.source_id == source.id)):
        session.delete(sub)


def list_sources(*, session: Session, team_id: str | None = None) -> list[SourceHealth[Source]]:
    """`source_health.list_source_health` as `Source` rows: the same statement, mapped by the ORM."""
    sources = list(session.scalars(select(Source).from_statement(sources_query(team_id))))
    return with_health(session.connection(), sources)


def claim_sources(
    *, session: Session, owner: str, now: datetime, lease: timedelta, limit: int,
    due_only: bool = True, source_ids: list[int] | None = None, exclude_ids: set[int] | None = None,
) -> list[Source]:
    """Lease up to `limit` sources to `owner` and return them. A source leased to another poller (whose
    lease has not expired) is never returned, so two processes never poll one source at once. On
    PostgreSQL the candidates are locked with SKIP LOCKED; on SQLite the single UPDATE is atomic."""
    free = or_(col(Source.lease_until).is_(None), col(Source.lease_until) < now)
    candidates = select(Source.id).where(col(Source.enabled).is_(True), col(Source.removed_at).is_(None), free)
    if due_only:
        candidates = candidates.where(col(Source.next_due_at) <= now)
    if source_ids is not None:
        candidates = candidates.where(col(Source.id).in_(source_ids))
    if exclude_ids:  # a run that polls every source, due or not, polls each once
        candidates = candidates.where(col(Source.id).not_in(exclude_ids))
    candidates = candidates.order_by(col(Source.next_due_at), col(Source.id)).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(Source)
        .where(col(Source.id).in_(candidates.scalar_subquery()), free)
        .values(lease_owner=owner, lease_until=now + lease)
        .returning(col(Source.id))
    )
    claimed = [row[0] for row in session.execute(statement)]
    session.commit()
    if not claimed:
        return []
    return list(session.exec(select(Source).where(col(Source.id).in_(claimed)).order_by(col(Source.next_due_at))))


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll of one source came to, as data for `finish_poll`."""

    outcome: str  # ok | not_modified | unchanged | error
    started_at: datetime
    finished_at: datetime
    next_due_at: datetime
    http_status: int | None = None
    error_kind: str | None = None
    error: str | None = None
    bytes_read: int = 0
    entries: int = 0
    items_new: int = 0
    items_updated: int = 0
    items_linked: int = 0
    notes: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    title: str | None = None


def finish_poll(*, session: Session, source: Source, owner: str, result: PollOutcome) -> Poll | None:
    """Record the poll and release the lease, unless the lease was lost to another poller meanwhile."""
    current = session.get(Source, source.id, with_for_update=session.get_bind().dialect.name == "postgresql")
    if current is None or current.lease_owner != owner:
        return None
    current.lease_owner = current.lease_until = None
    current.last_polled_at = result.finished_at
    current.next_due_at = result.next_due_at
    if result.outcome == "error":
        current.failures += 1
        current.last_error_at = result.finished_at
        current.last_error_kind, current.last_error = result.error_kind, result.error
    else:
        current.failures = 0
        current.last_success_at = result.finished_at
        if result.outcome in ("ok", "unchanged"):
            current.etag, current.last_modified = result.etag, result.last_modified
            current.body_hash = result.body_hash
            current.last_entry_count = result.entries
        if result.outcome == "ok":  # a poll that read the items says what it noted (unchanged bytes: the same)
            current.last_notes = result.notes
            if result.title and not current.title:
                current.title = result.title[:MAX_TITLE]
    poll = Poll(**_poll_values(current.team_id, current.id or 0, result))
    session.add(poll)
    return poll


def _poll_values(team_id: str, source_id: int, result: PollOutcome) -> dict[str, Any]:
    """The `polls` row of one poll, for `finish_poll` and `finish_polls`."""
    return {"team_id": team_id, "source_id": source_id, "started_at": result.started_at,
            "finished_at": result.finished_at, "outcome": result.outcome, "http_status": result.http_status,
            "error_kind": result.error_kind, "error": result.error, "bytes_read": result.bytes_read,
            "entries": result.entries, "items_new": result.items_new, "items_updated": result.items_updated,
            "items_linked": result.items_linked, "notes": result.notes,
            "duration_ms": int((result.finished_at - result.started_at).total_seconds() * 1000)}


def next_due(*, session: Session) -> Source | None:
    """The active source polled next (the earliest due), if any."""
    return session.exec(select(Source).where(col(Source.enabled).is_(True), col(Source.removed_at).is_(None))
                        .order_by(col(Source.next_due_at), col(Source.id)).limit(1)).first()


def count_sources(*, session: Session, team_id: str | None = None) -> int:
    query = select(func.count()).select_from(Source).where(col(Source.removed_at).is_(None))
    if team_id is not None:
        query = query.where(Source.team_id == team_id)
    return int(session.exec(query).one())


def item_count(*, session: Session, team_id: str | None = None) -> int:
    query = select(func.count()).select_from(Item)
    if team_id is not None:
        query = query.where(Item.team_id == team_id)
    return int(session.exec(query).one())


RECORDED_ONLY = ("not_modified", "unchanged")  # the outcomes `finish_polls` records: nothing was stored
_SOURCES: Table = Source.__table__  # type: ignore[attr-defined]
_POLLS: Table = Poll.__table__  # type: ignore[attr-defined]
_VALIDATORS = ("etag", "last_modified", "body_hash", "last_entry_count")  # what an unchanged poll also sets


def _finished(validators: bool) -> Update:
    values: dict[str, Any] = {"lease_owner": None, "lease_until": None, "failures": 0,
                              "last_polled_at": bindparam("b_finished", type_=_SOURCES.c.last_polled_at.type),
                              "last_success_at": bindparam("b_finished", type_=_SOURCES.c.last_success_at.type),
                              "next_due_at": bindparam("b_next_due", type_=_SOURCES.c.next_due_at.type)}
    if validators:
        values |= {name: bindparam(f"b_{name}", type_=_SOURCES.c[name].type) for name in _VALIDATORS}
    # The lease is checked again in the statement itself; the rows were locked by the SELECT before it.
    return update(_SOURCES).where(_SOURCES.c.id == bindparam("b_id"),
                                  _SOURCES.c.lease_owner == bindparam("b_owner")).values(values)


_FINISHED = {"not_modified": _finished(validators=False), "unchanged": _finished(validators=True)}


def finish_polls(*, session: Session, owner: str, results: list[tuple[Source, PollOutcome]]) -> set[int]:
    """Record many polls that stored nothing (`RECORDED_ONLY`: a 304, or the same bytes as last time) and release
    their leases, as `finish_poll` does one by one, in three statements: the ids still leased to `owner` (locked
    on PostgreSQL), one UPDATE of those sources per outcome, one INSERT of their polls. Returns the ids
    recorded; a source whose lease was lost meanwhile is left alone."""
    assert all(result.outcome in RECORDED_ONLY for _, result in results)
    ids = sorted({source.id or 0 for source, _ in results})
    owned = select(Source.id, Source.team_id).where(col(Source.id).in_(ids), Source.lease_owner == owner)
    if session.get_bind().dialect.name == "postgresql":
        owned = owned.with_for_update()
    teams = {source_id or 0: team_id for source_id, team_id in session.exec(owned)}
    if not teams:
        return set()
    rows: dict[str, list[dict[str, Any]]] = {outcome: [] for outcome in RECORDED_ONLY}
    polls: list[dict[str, Any]] = []
    for source, result in results:
        if (source.id or 0) not in teams:
            continue
        row = {"b_id": source.id, "b_owner": owner, "b_finished": result.finished_at, "b_next_due": result.next_due_at}
        if result.outcome == "unchanged":
            row |= {"b_etag": result.etag, "b_last_modified": result.last_modified, "b_body_hash": result.body_hash,
                    "b_last_entry_count": result.entries}
        rows[result.outcome].append(row)
        polls.append(fit_values(_POLLS, _poll_values(teams[source.id or 0], source.id or 0, result)))
    for outcome, params in rows.items():
        if params:
            session.execute(_FINISHED[outcome], params)
    session.execute(insert(_POLLS), polls)
    return set(teams)
