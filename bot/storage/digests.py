"""Digests: on each channel's schedule, the best briefs since its last digest go into the outbox as one
delivery. No briefs, no digest. A schedule slot is claimed with a compare-and-set on `next_digest_at`, so two
workers never enqueue one digest twice, and the delivery's dedupe key makes a retry harmless."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.core.digest import DigestSchedule, next_digest_at
from bot.storage.deliveries import channel_briefs_since
from bot.storage.models import Brief, Channel, Delivery, Workspace

log = logging.getLogger(__name__)


def schedule_of(channel: Channel) -> DigestSchedule:
    if channel.digest == "off" or not channel.digest_time:
        return DigestSchedule("off")
    hour, minute = (int(p) for p in channel.digest_time.split(":"))
    return DigestSchedule(channel.digest, hour, minute, channel.digest_day)


def set_schedule(*, session: Session, channel: Channel, schedule: DigestSchedule, timezone: str,
                 now: datetime) -> datetime | None:
    channel.digest = schedule.kind
    channel.digest_time = None if schedule.kind == "off" else schedule.time_text
    channel.digest_day = schedule.day
    channel.next_digest_at = next_digest_at(schedule, timezone, now)
    return channel.next_digest_at


def rank(briefs: list[Brief]) -> list[Brief]:
    """Best first: more outlets, then more items, then newer."""
    return sorted(briefs, key=lambda b: (b.outlet_count, b.item_count, b.created_at), reverse=True)


def enqueue_due_digests(*, session: Session, now: datetime, max_briefs: int) -> int:
    """Claim every due digest slot and enqueue the digests that have something to say; returns how many."""
    due = list(session.exec(select(Channel).where(col(Channel.next_digest_at).is_not(None),
                                                  col(Channel.next_digest_at) <= now)))
    enqueued = 0
    for channel in due:
        workspace = session.get(Workspace, channel.team_id)
        zone = workspace.timezone if workspace else "UTC"
        slot, previous = channel.next_digest_at, channel.last_digest_at  # before the claim updates them
        assert slot is not None
        following = next_digest_at(schedule_of(channel), zone, now)
        claimed = session.execute(update(Channel).where(col(Channel.id) == channel.id,
                                                        col(Channel.next_digest_at) == slot)
                                  .values(next_digest_at=following, last_digest_at=slot))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        since = previous or slot - (timedelta(days=7) if channel.digest == "weekly" else timedelta(days=1))
        briefs = rank(channel_briefs_since(session=session, team_id=channel.team_id, channel_id=channel.channel_id,
                                           since=since, until=slot))
        if not briefs:
            log.info("no digest for %s at %s: nothing new", channel.channel_id, slot.isoformat())
            continue
        session.add(Delivery(
            team_id=channel.team_id, channel_id=channel.channel_id, kind="digest",
            payload={"brief_ids": [b.id for b in briefs[:max_briefs]], "more": max(0, len(briefs) - max_briefs),
                     "since": since.isoformat(), "until": slot.isoformat()},
            dedupe_key=f"digest:{channel.team_id}:{channel.channel_id}:{slot.isoformat()}",
            status="paused" if channel.paused_reason else "pending", next_attempt_at=now, created_at=now))
        enqueued += 1
    return enqueued
