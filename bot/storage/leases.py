"""Named work leases: one worker at a time holds a team's story clustering, a team's routing, or one
subject's brief. A lease runs out on its own, so work a dead worker held is taken over after at most one
lease; `fence` renews it inside the transaction that does the work, so a worker that lost its lease
commits nothing.

Sources and deliveries carry their own lease columns (storage/sources, storage/deliveries); this table is
for work that has no row of its own to lease."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot.clock import Clock
from bot.storage.models import WorkLease


def new_owner(role: str) -> str:
    """A lease owner name: unique to one pass of one process, and saying which host and pid it was."""
    return f"{role}:{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(*, engine: Engine, name: str, owner: str, now: datetime, lease: timedelta) -> bool:
    """Take (or renew) the lease `name` until now + lease, unless another owner holds it unexpired."""
    until = now + lease
    with engine.begin() as conn:
        # A plain read first: a lease held by another worker is answered at once, without waiting on the row
        # lock its holder's fenced transaction may hold (PostgreSQL's insert would wait for that to commit).
        held = conn.execute(select(WorkLease.owner, WorkLease.lease_until)  # type: ignore[call-overload]
                            .where(col(WorkLease.name) == name)).first()
        if held is not None and held.owner != owner and held.lease_until >= now:
            return False
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        created = conn.execute(insert(WorkLease).values(name=name, owner=owner, lease_until=until, acquired_at=now)
                               .on_conflict_do_nothing(index_elements=["name"]))
        if created.rowcount == 1:
            return True
        taken = conn.execute(update(WorkLease)
                             .where(col(WorkLease.name) == name,
                                    or_(col(WorkLease.owner) == owner, col(WorkLease.lease_until) < now))
                             .values(owner=owner, lease_until=until, acquired_at=now))
        return bool(taken.rowcount == 1)


def fence(*, session: Session, name: str, owner: str, now: datetime, lease: timedelta) -> bool:
    """Renew the lease inside `session`'s transaction; False when it was lost. The renewal locks the lease's
    row until the transaction ends, so nobody can take it over while this transaction's work commits."""
    renewed = session.execute(update(WorkLease)
                              .where(col(WorkLease.name) == name, col(WorkLease.owner) == owner)
                              .values(lease_until=now + lease))
    return bool(renewed.rowcount == 1)  # type: ignore[attr-defined]


def release(*, engine: Engine, name: str, owner: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(WorkLease).where(col(WorkLease.name) == name, col(WorkLease.owner) == owner))


@dataclass(frozen=True, slots=True)
class Held:
    """A lease this pass holds; `fence` it in every transaction that does the leased work."""

    name: str
    owner: str
    lease: timedelta

    def fence(self, session: Session, now: datetime) -> bool:
        return fence(session=session, name=self.name, owner=self.owner, now=now, lease=self.lease)


@contextmanager
def holding(*, engine: Engine, name: str, owner: str, clock: Clock, lease: timedelta) -> Iterator[Held | None]:
    """`with holding(...) as held:` takes the lease if it is free (else `held` is None), and gives it back
    after the block, however the block ends."""
    taken = acquire(engine=engine, name=name, owner=owner, now=clock(), lease=lease)
    try:
        yield Held(name, owner, lease) if taken else None
    finally:
        if taken:
            release(engine=engine, name=name, owner=owner)
