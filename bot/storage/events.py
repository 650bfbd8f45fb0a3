"""Events API ids already handled, so a retried or redelivered event is handled once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot.storage.db import insert_if_absent
from bot.storage.models import SlackEvent

KEEP = timedelta(days=1)  # Slack retries within minutes; a day is plenty


def first_time(*, engine: Engine, event_id: str, team_id: str, now: datetime) -> bool:
    """True the first time an event id is seen, on any process sharing the database: the insert that wins
    (INSERT … ON CONFLICT DO NOTHING) says so; a retry arriving while the first is still handled waits for it
    on PostgreSQL and then finds the id taken."""
    with Session(engine) as session:
        inserted = insert_if_absent(session, SlackEvent, ["event_id"], event_id=event_id[:64],
                                    team_id=team_id[:32], received_at=now)
        session.commit()
    return inserted


def prune_events(*, session: Session, now: datetime) -> int:
    result = session.execute(delete(SlackEvent).where(col(SlackEvent.received_at) < now - KEEP))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
