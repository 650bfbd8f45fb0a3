"""A first look on follow: once a job source's first poll has stored its postings, each channel that follows it
gets one message saying what the company has open now (bot/core/open_roles). It is history, not news: one
delivery per (channel, source), ever (`dedupe_key`), never one alert per posting.

A channel that follows an already-polled board later gets its own first look. Follows from before first looks
existed get none: a first look is due only while the follow, or the source's first successful poll, is at most
FIRST_LOOK_WINDOW old, so an upgrade does not post one for every old follow. A muted channel holds its first
look (and, since it stands on no brief, no digest carries it); a paused channel keeps it until the bot is back,
as alerts do (core/routing). News sources get none."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_
from sqlmodel import Session, col, select

from bot.core.companies import CompanyIdentity
from bot.core.jobs import job_function, metros_of
from bot.core.open_roles import OpenRoles, open_roles
from bot.core.routing import BriefFacts, route
from bot.core.signals import Posting
from bot.sources.registry import KINDS
from bot.storage.companies import company_identity
from bot.storage.db import insert_if_absent
from bot.storage.deliveries import channel_audiences
from bot.storage.models import Delivery, Item, ItemLink, Poll, Source, Subscription

LOOK = "look"  # Delivery.kind
SUBJECT = "source"  # Delivery.subject: subject_id is the source's id
FIRST_LOOK_WINDOW = timedelta(days=3)
MAX_GROUPS = 12  # groups kept in a delivery's payload (the message shows fewer)
JOB_KINDS = tuple(sorted(name for name, kind in KINDS.items() if kind.ITEM_KIND == "job"))


@dataclass(frozen=True, slots=True)
class FirstLook:
    """One job source's first look: the source and what its postings say is open."""

    source_id: int
    team_id: str
    spec: str
    title: str
    roles: OpenRoles

    def as_dict(self, *, max_groups: int | None = None) -> dict[str, Any]:
        return {"source_id": self.source_id, "team_id": self.team_id, "spec": self.spec, "title": self.title,
                "roles": self.roles.as_dict(max_groups=max_groups)}


def source_postings(*, session: Session, source: Source) -> list[Posting]:
    """The open job postings `source` lists (through its links, so a posting two boards list counts for each),
    as the core reads them, each named by the outlet its board gives. A posting the board no longer lists
    (item_links.delisted_at) or that is closed (items.closed_at, core/lifecycle) is left out."""
    query = (select(Item).join(ItemLink, col(ItemLink.item_id) == Item.id)
             .where(ItemLink.source_id == source.id, Item.team_id == source.team_id, Item.kind == "job",
                    col(ItemLink.delisted_at).is_(None), col(Item.closed_at).is_(None))
             .order_by(col(Item.id)))
    return [Posting(item_id=item.id or 0, company=item.outlet, title=item.job_title or item.title,
                    function=job_function(item.job_title or item.title, item.department),
                    metros=tuple(metros_of(item.locations)), first_seen_at=item.first_seen_at,
                    backfill=item.backfill, posted_at=item.published_at)
            for item in session.exec(query).unique()]


def first_look(*, session: Session, source: Source, now: datetime,
               identity: CompanyIdentity | None = None) -> FirstLook:
    """What `source`'s company has open now, named as the workspace names it (its aliases)."""
    postings = source_postings(session=session, source=source)
    outlets = Counter(p.company for p in postings if p.company.strip())
    company = source.title or source.spec
    if outlets:
        identity = identity or company_identity(session=session, team_id=source.team_id)
        commonest = min(outlets, key=lambda n: (-outlets[n], n))
        key = identity.key(commonest)
        company = identity.display(key, list(outlets.elements())) if key is not None else commonest
    return FirstLook(source_id=source.id or 0, team_id=source.team_id, spec=source.spec, title=source.title,
                     roles=open_roles(postings, now=now, company=company))


def job_sources(*, session: Session, team_id: str | None = None, source_id: int | None = None) -> list[Source]:
    """The job sources (not removed) that have been polled successfully, by id; one workspace's, or one."""
    query = select(Source).where(col(Source.kind).in_(JOB_KINDS), col(Source.removed_at).is_(None),
                                 col(Source.last_success_at).is_not(None))
    if team_id is not None:
        query = query.where(Source.team_id == team_id)
    if source_id is not None:
        query = query.where(Source.id == source_id)
    return list(session.exec(query.order_by(col(Source.id))))


def due_first_looks(*, session: Session, team_id: str, now: datetime) -> dict[int, list[str]]:
    """Source id → the channels that follow it and are owed its first look: a job source polled successfully,
    no first look enqueued for the channel yet, and the follow or the source's first successful poll at most
    FIRST_LOOK_WINDOW old."""
    cutoff = now - FIRST_LOOK_WINDOW
    succeeded = col(Poll.outcome) != "error"
    first_poll_recent = and_(
        exists().where(col(Poll.source_id) == Source.id, succeeded, col(Poll.started_at) >= cutoff),
        ~exists().where(col(Poll.source_id) == Source.id, succeeded, col(Poll.started_at) < cutoff))
    looked = exists().where(col(Delivery.team_id) == Subscription.team_id,
                            col(Delivery.channel_id) == Subscription.channel_id, col(Delivery.kind) == LOOK,
                            col(Delivery.subject) == SUBJECT, col(Delivery.subject_id) == Source.id)
    query = (select(Subscription.channel_id, Source.id).join(Source, col(Source.id) == Subscription.source_id)
             .where(Subscription.team_id == team_id, Source.team_id == team_id, col(Source.kind).in_(JOB_KINDS),
                    col(Source.removed_at).is_(None), col(Source.last_success_at).is_not(None), ~looked,
                    or_(col(Subscription.created_at) >= cutoff, first_poll_recent))
             .order_by(col(Source.id), col(Subscription.channel_id)))
    due: dict[int, list[str]] = {}
    for channel_id, source_id in session.exec(query):
        due.setdefault(int(source_id or 0), []).append(str(channel_id))
    return due


def enqueue_first_looks(*, session: Session, team_id: str, now: datetime) -> int:
    """Put each owed first look into its channel's outbox (pending, held for a muted channel or company, paused
    for a paused channel); returns how many were enqueued. Safe to run on every tick and from several workers:
    a first look exists once per (team, channel, source)."""
    due = due_first_looks(session=session, team_id=team_id, now=now)
    if not due:
        return 0
    identity = company_identity(session=session, team_id=team_id)
    audiences = channel_audiences(session=session, team_id=team_id)
    enqueued = 0
    for source_id, channels in due.items():
        source = session.get(Source, source_id)
        if source is None:
            continue
        look = first_look(session=session, source=source, now=now, identity=identity)
        key = identity.key(look.roles.company)
        facts = BriefFacts(source_ids=frozenset({source_id}), text="", companies=frozenset({key} if key else ()))
        for target in route(facts, [a for a in audiences if a.channel_id in channels]):
            payload = {**look.as_dict(max_groups=MAX_GROUPS), "reason": target.reason, "held": target.held}
            enqueued += insert_if_absent(
                session, Delivery, ["dedupe_key"], team_id=team_id, channel_id=target.channel_id, kind=LOOK,
                subject=SUBJECT, subject_id=source_id, brief_id=None, payload=payload,
                dedupe_key=f"{LOOK}:{team_id}:{target.channel_id}:{source_id}", status=target.status,
                attempts=0, next_attempt_at=now, created_at=now)
    return enqueued


def mark_look_sent(*, session: Session, delivery_id: int, ts: str, now: datetime) -> None:
    """A first look was posted. As `deliveries.mark_sent`, without recording an alert message: a first look
    stands on no brief, and later briefs neither update it nor reply under it."""
    row = session.get(Delivery, delivery_id)
    if row is None:
        return
    row.status, row.sent_at, row.lease_owner, row.lease_until, row.last_error = "sent", now, None, None, None
    row.message_ts = ts
