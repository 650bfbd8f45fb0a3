"""Data functions for the delivery outbox: routing new briefs into it, and leasing due deliveries to a
worker so that several workers never post one delivery twice."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, text, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.core.routing import BriefFacts, ChannelAudience, Route, alert_policy, route
from bot.storage import post_targets
from bot.storage.channels import list_channels, list_mutes, list_watches, pause_channel, term_key
from bot.storage.companies import company_identity
from bot.storage.db import insert_if_absent
from bot.storage.models import (
    AlertMessage,
    Brief,
    Delivery,
    Item,
    ItemLink,
    Signal,
    SignalItem,
    Source,
    Subscription,
)

UNSENT = ("pending", "held", "paused")
FLOOD_LIMIT = 5  # new story alerts one followed source may post in a channel per routing pass
MORE = "more"  # the delivery kind of an "and N more from X" message
MORE_LISTED = 20
CLAIM_LOCK = 0x62726266_01  # pg_advisory_xact_lock key that serialises delivery claims ("brbf", 1)


def route_new_briefs(*, session: Session, team_id: str, now: datetime, limit: int = 500, min_outlets: int = 2,
                     flood_limit: int = FLOOD_LIMIT) -> int:
    """Put every brief not yet routed into the outbox of each channel it belongs to; returns the number of
    deliveries created or brought up to date. Each brief is claimed by setting `routed_at`, so two workers
    never route one brief twice. `min_outlets`: what a story needs to reach a channel that follows its source
    with the `stories` policy, or watches a term. Past `flood_limit` new story alerts from one followed source
    in one channel in one pass, the rest are held (for the digest) and listed in one "and N more" message."""
    briefs = list(session.exec(select(Brief).where(Brief.team_id == team_id, col(Brief.routed_at).is_(None))
                               .order_by(col(Brief.id)).limit(limit)))
    if not briefs:
        return 0
    audiences = channel_audiences(session=session, team_id=team_id)
    changed = 0
    fresh: dict[tuple[str, int], int] = {}  # (channel, source) → new story alerts this pass
    overflow: dict[tuple[str, int], list[Brief]] = {}
    for brief in briefs:
        claimed = session.execute(update(Brief).where(col(Brief.id) == brief.id, col(Brief.routed_at).is_(None))
                                  .values(routed_at=now))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        for target in route(brief_facts(session=session, brief=brief), audiences, min_outlets=min_outlets):
            if (target.status == "pending" and target.source_id is not None and brief.subject == "story"
                    and not _has_alert(session, brief, target.channel_id)):
                key = (target.channel_id, target.source_id)
                fresh[key] = fresh.get(key, 0) + 1
                if fresh[key] > flood_limit:
                    target = replace(target, status="held", held="flood")
                    overflow.setdefault(key, []).append(brief)
            changed += _enqueue(session=session, brief=brief, target=target, now=now)
    for (channel_id, source_id), held in overflow.items():
        changed += _enqueue_more(session, team_id, channel_id, source_id, held, now)
    return changed


def _has_alert(session: Session, brief: Brief, channel_id: str) -> bool:
    return session.exec(select(Delivery.id).where(
        Delivery.team_id == brief.team_id, Delivery.channel_id == channel_id, Delivery.kind == "alert",
        Delivery.subject == brief.subject, Delivery.subject_id == brief.subject_id)).first() is not None


def _enqueue_more(session: Session, team_id: str, channel_id: str, source_id: int, held: list[Brief],
                  now: datetime) -> int:
    """One "and N more from X" message for the story alerts a source's flood held back in a channel."""
    source = session.get(Source, source_id)
    briefs = [{"id": b.id, "headline": b.headline, "url": next((str(s.get("url") or "") for s in b.sources), "")}
              for b in held[:MORE_LISTED]]
    payload = {"source": (source.title or source.spec) if source else "", "source_id": source_id,
               "count": len(held), "briefs": briefs}
    key = f"more:{team_id}:{channel_id}:{source_id}:{held[0].id}"
    insert_if_absent(session, Delivery, ["dedupe_key"], team_id=team_id, channel_id=channel_id, kind=MORE,
                     subject="source", subject_id=source_id, payload=payload, dedupe_key=key, status="pending",
                     next_attempt_at=now, created_at=now)
    return 1


def _enqueue(*, session: Session, brief: Brief, target: Route, now: datetime) -> int:
    """One brief into one channel's outbox: a new alert, or the newest version of a waiting one, or an update
    of the alert already posted (or being posted: a delivery leased to a worker is never rewritten, since
    that worker may be posting the brief it claimed)."""
    same_subject = select(Delivery).where(
        Delivery.team_id == brief.team_id, Delivery.channel_id == target.channel_id,
        Delivery.subject == brief.subject, Delivery.subject_id == brief.subject_id)
    alert = session.exec(same_subject.where(Delivery.kind == "alert")).first()
    payload = {"reason": target.reason, "held": target.held}
    if alert is None:
        key = f"alert:{brief.team_id}:{target.channel_id}:{brief.subject}:{brief.subject_id}"
        session.add(_delivery(brief, target, "alert", key, payload, now))
        return 1
    if alert.status in UNSENT and _swap(session, alert, brief, target, payload, now):
        return 1  # not posted yet: the newest brief is posted instead
    waiting = session.exec(same_subject.where(Delivery.kind == "update", col(Delivery.status).in_(UNSENT))
                           .order_by(col(Delivery.id).desc())).first()
    if waiting is not None and _swap(session, waiting, brief, target, payload, now):
        return 1
    key = f"update:{brief.team_id}:{target.channel_id}:{brief.id}"
    session.add(_delivery(brief, target, "update", key, payload, now))
    return 1


def _swap(session: Session, waiting: Delivery, brief: Brief, target: Route, payload: dict[str, str | None],
          now: datetime) -> bool:
    """Put the newest brief in a waiting delivery, unless a worker has leased it meanwhile (one conditional
    UPDATE: a claim and this swap never both win)."""
    values: dict[str, Any] = {"brief_id": brief.id, "payload": payload}
    if waiting.status != "paused":
        values["status"] = target.status
    swapped = session.execute(update(Delivery).where(col(Delivery.id) == waiting.id,
                                                     col(Delivery.status).in_(UNSENT), unleased(now))
                              .values(values))
    return bool(swapped.rowcount == 1)  # type: ignore[attr-defined]


def _delivery(brief: Brief, target: Route, kind: str, key: str, payload: dict[str, str | None],
              now: datetime) -> Delivery:
    return Delivery(team_id=brief.team_id, channel_id=target.channel_id, kind=kind, subject=brief.subject,
                    subject_id=brief.subject_id, brief_id=brief.id, payload=payload, dedupe_key=key,
                    status=target.status, next_attempt_at=now, created_at=now)


def channel_audiences(*, session: Session, team_id: str) -> list[ChannelAudience]:
    sources: dict[str, set[int]] = {}
    policies: dict[str, dict[int, str]] = {}
    paused_subs: dict[str, bool] = {}
    subs = session.exec(select(Subscription, Source.kind).join(Source, col(Source.id) == Subscription.source_id)
                        .where(Subscription.team_id == team_id))
    for sub, kind in subs:
        sources.setdefault(sub.channel_id, set()).add(sub.source_id)
        policies.setdefault(sub.channel_id, {})[sub.source_id] = alert_policy(sub.alert, kind)
        paused_subs[sub.channel_id] = paused_subs.get(sub.channel_id, False) or sub.paused
    identity = company_identity(session=session, team_id=team_id)
    terms: dict[str, list[str]] = {}
    names: dict[str, tuple[str, ...]] = {}
    keys: dict[str, str] = {}
    for watch in list_watches(session=session, team_id=team_id):
        terms.setdefault(watch.channel_id, []).append(watch.term_key)
        key = identity.key(watch.term)
        if key is not None:
            keys[watch.term_key] = key
            names[watch.term_key] = tuple(n for n in identity.names(key) if term_key(n) != watch.term_key)
    companies: dict[str, set[str]] = {}
    for mute in list_mutes(session=session, team_id=team_id):
        companies.setdefault(mute.channel_id, set()).add(identity.key(mute.company) or mute.company_key)
    settings = {c.channel_id: c for c in list_channels(session=session, team_id=team_id)}
    out = []
    for channel_id in sorted(set(sources) | set(terms)):
        channel = settings.get(channel_id)
        out.append(ChannelAudience(
            channel_id=channel_id, source_ids=frozenset(sources.get(channel_id, ())),
            watch_terms=tuple(terms.get(channel_id, ())), muted=bool(channel and channel.muted),
            muted_companies=frozenset(companies.get(channel_id, ())),
            watch_names={t: names[t] for t in terms.get(channel_id, ()) if t in names},
            watch_keys={t: keys[t] for t in terms.get(channel_id, ()) if t in keys},
            policies=policies.get(channel_id, {}),
            paused=bool(channel and channel.paused_reason)))
    return out


def brief_facts(*, session: Session, brief: Brief) -> BriefFacts:
    item_ids = subject_item_ids(session=session, team_id=brief.team_id, subject=brief.subject,
                                subject_id=brief.subject_id)
    source_ids: set[int] = set()
    if item_ids:
        query = select(ItemLink.source_id).where(ItemLink.team_id == brief.team_id,
                                                 col(ItemLink.item_id).in_(item_ids)).distinct()
        source_ids = {int(s) for s in session.exec(query)}
    identity = company_identity(session=session, team_id=brief.team_id)
    companies = {identity.key(e) for e in brief.entities if e.strip()}
    if brief.subject == "signal":
        signal = session.get(Signal, brief.subject_id)
        if signal is not None and signal.team_id == brief.team_id:
            companies.add(identity.key(signal.company))
    text = "\n".join([brief.headline, brief.summary, brief.why_it_matters, *brief.entities, *brief.places,
                      *(str(s.get("title", "")) for s in brief.sources)])
    return BriefFacts(source_ids=frozenset(source_ids), text=text, companies=frozenset(c for c in companies if c),
                      subject=brief.subject, outlets=brief.outlet_count)


def subject_item_ids(*, session: Session, team_id: str, subject: str, subject_id: int) -> list[int]:
    if subject == "story":
        query = select(Item.id).where(Item.team_id == team_id, Item.story_id == subject_id)
        return [int(i) for i in session.exec(query) if i is not None]
    query2 = select(SignalItem.item_id).where(SignalItem.team_id == team_id, SignalItem.signal_id == subject_id)
    return [int(i) for i in session.exec(query2)]


def unleased(now: datetime) -> ColumnElement[bool]:
    """A delivery no worker holds: never leased, or its lease ran out."""
    return or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) < now)


def claim_deliveries(*, session: Session, owner: str, now: datetime, lease: timedelta, limit: int,
                     pace: timedelta = timedelta(0)) -> list[Delivery]:
    """Lease up to `limit` due deliveries (pending, or unconfirmed ones whose last attempt was cut short) to
    `owner`, oldest first. A channel belongs to one worker at a time: nothing is claimed in a channel where
    another worker holds a live lease, nor in one posted to less than `pace` ago (the last post may have been
    another worker's), so the per-channel pace holds across workers. SKIP LOCKED on PostgreSQL, with claims
    taken one at a time (a transaction-scoped advisory lock) so that two workers can't both take a free
    channel; on SQLite the single UPDATE is atomic."""
    free = unleased(now)
    other = aliased(Delivery)
    same_channel = (other.team_id == Delivery.team_id, other.channel_id == Delivery.channel_id)
    busy = select(other.id).where(*same_channel, col(other.lease_owner) != owner, col(other.lease_until) >= now)
    candidates = select(Delivery.id).where(col(Delivery.status).in_(("pending", "sending")),
                                           col(Delivery.next_attempt_at) <= now, free, ~busy.exists())
    if pace > timedelta(0):
        just_posted = select(other.id).where(*same_channel, col(other.sent_at) > now - pace)
        candidates = candidates.where(~just_posted.exists())
    candidates = candidates.order_by(col(Delivery.id)).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK})
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (update(Delivery).where(col(Delivery.id).in_(candidates.scalar_subquery()), free)
                 .values(lease_owner=owner, lease_until=now + lease).returning(col(Delivery.id)))
    claimed = [row[0] for row in session.execute(statement)]
    session.commit()
    if not claimed:
        return []
    return list(session.exec(select(Delivery).where(col(Delivery.id).in_(claimed)).order_by(col(Delivery.id))))


def delivery_counts(*, session: Session, team_id: str) -> dict[str, int]:
    """One team's deliveries by status (`outbox_counts` for one team)."""
    return outbox_counts(session=session, team_id=team_id)


def channel_briefs_since(*, session: Session, team_id: str, channel_id: str, since: datetime,
                         until: datetime) -> list[Brief]:
    """The newest brief of each story or signal routed to a channel in (since, until], for its digest. A
    company the channel muted stays out; a channel-wide mute doesn't (muted channels still get digests)."""
    query = (select(Delivery, Brief).join(Brief, col(Brief.id) == col(Delivery.brief_id))
             .where(Delivery.team_id == team_id, Delivery.channel_id == channel_id,
                    col(Delivery.kind).in_(("alert", "update")), col(Brief.created_at) > since,
                    col(Brief.created_at) <= until)
             .order_by(col(Brief.id)))
    newest: dict[tuple[str, int], Brief] = {}
    for delivery, brief in session.exec(query):
        if (delivery.payload or {}).get("held") == "company":
            continue
        newest[(brief.subject, brief.subject_id)] = brief
    return list(newest.values())


# Recording delivery outcomes. Each takes the lease owner: a worker that lost its lease records nothing.

def mark_sending(*, session: Session, delivery_id: int, owner: str, now: datetime,
                 lease: timedelta) -> Delivery | None:
    """About to post: from here until `mark_sent`, the delivery is unconfirmed. One conditional UPDATE that
    also renews the lease, so no other worker can take the delivery over while this post is in flight;
    None when the lease was already lost."""
    marked = session.execute(update(Delivery)
                             .where(col(Delivery.id) == delivery_id, col(Delivery.lease_owner) == owner,
                                    col(Delivery.status).in_(("pending", "sending")))
                             .values(status="sending", attempt_started_at=now, attempts=col(Delivery.attempts) + 1,
                                     lease_until=now + lease))
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = session.get(Delivery, delivery_id, populate_existing=True)
    if row is None:
        return None
    if row.kind == "update":
        alert = alert_message_for(session=session, delivery=row)
        row.thread_ts = alert.ts if alert else None
    return row


def mark_sent(*, session: Session, delivery_id: int, ts: str, now: datetime) -> None:
    row = session.get(Delivery, delivery_id)
    if row is None:
        return
    row.status, row.sent_at, row.lease_owner, row.lease_until, row.last_error = "sent", now, None, None, None
    row.message_ts = ts
    if row.kind in ("alert", "update"):  # digests and "more" messages stand on no one brief
        _record_alert(session, row, ts, now)


def mark_retry(*, session: Session, delivery_id: int, owner: str, at: datetime, error: str,
               unconfirmed: bool) -> None:
    row = session.get(Delivery, delivery_id)
    if row is None or row.lease_owner != owner:
        return
    row.next_attempt_at, row.lease_owner, row.lease_until = at, None, None
    row.last_error = error[:500]
    if row.status in ("pending", "sending"):  # a channel paused (or a company muted) meanwhile keeps its hold
        row.status = "sending" if unconfirmed else "pending"


def mark_refused(*, session: Session, delivery_id: int, owner: str, now: datetime, retry_at: datetime, error: str,
                 unconfirmed: bool, channel_gone: bool) -> None:
    """Slack refused the post: pause the channel when it is gone, else fail the delivery. An unconfirmed one
    stays unconfirmed (checked against the channel before any retry)."""
    row = session.get(Delivery, delivery_id)
    if row is None or row.lease_owner != owner:
        return
    row.lease_owner = row.lease_until = None
    row.last_error, row.next_attempt_at = error[:500], retry_at
    if channel_gone:
        pause_channel(session=session, team_id=row.team_id, channel_id=row.channel_id, reason=error, now=now)
    row.status = "sending" if unconfirmed else ("paused" if channel_gone else "failed")


@dataclass(frozen=True, slots=True)
class Crash:
    """How an unexpected failure of one delivery was recorded: its attempts so far, and when it is tried again
    (`retry_after`), or None when it has failed for good."""

    attempts: int
    retry_after: timedelta | None


def mark_crashed(*, session: Session, delivery_id: int, owner: str, now: datetime, error: str, unconfirmed: bool,
                 max_attempts: int, backoff: timedelta, max_backoff: timedelta) -> Crash | None:
    """An unexpected error on one delivery (its message could not be built, the database erred while recording
    it): one more attempt counted, then retried after `backoff` doubling per attempt (at most `max_backoff`),
    and failed on its `max_attempts`-th. One that may have been posted (`unconfirmed`) is only ever retried,
    since its retry first looks for it in the channel. None when the lease was lost (nothing recorded)."""
    row = session.get(Delivery, delivery_id)
    if row is None or row.lease_owner != owner:
        return None
    row.attempts += 1  # attempts also counts posts; a build that fails never gets that far
    if unconfirmed or row.attempts < max_attempts:
        after = min(max_backoff, backoff * 2 ** (row.attempts - 1))
        mark_retry(session=session, delivery_id=delivery_id, owner=owner, at=now + after, error=error,
                   unconfirmed=unconfirmed)
        return Crash(attempts=row.attempts, retry_after=after)
    mark_refused(session=session, delivery_id=delivery_id, owner=owner, now=now, retry_at=now, error=error,
                 unconfirmed=False, channel_gone=False)
    return Crash(attempts=row.attempts, retry_after=None)


def release(*, session: Session, delivery_ids: list[int], owner: str, not_before: datetime) -> None:
    """Give back leased deliveries untried (their channel is rate limited or gone for now)."""
    for delivery_id in delivery_ids:
        row = session.get(Delivery, delivery_id)
        if row is not None and row.lease_owner == owner:
            row.lease_owner = row.lease_until = None
            row.next_attempt_at = max(row.next_attempt_at, not_before)


def alert_message_for(*, session: Session, delivery: Delivery) -> AlertMessage | None:
    return session.exec(select(AlertMessage).where(
        AlertMessage.team_id == delivery.team_id, AlertMessage.channel_id == delivery.channel_id,
        AlertMessage.subject == delivery.subject, AlertMessage.subject_id == delivery.subject_id)).first()


def alert_unsent(*, session: Session, delivery: Delivery) -> bool:
    """Whether the first alert for this delivery's subject and channel is still waiting to be posted."""
    alert = session.exec(select(Delivery).where(
        Delivery.team_id == delivery.team_id, Delivery.channel_id == delivery.channel_id, Delivery.kind == "alert",
        Delivery.subject == delivery.subject, Delivery.subject_id == delivery.subject_id)).first()
    return alert is not None and alert.status in ("pending", "sending")


def _record_alert(session: Session, delivery: Delivery, ts: str, now: datetime) -> None:
    brief = session.get(Brief, delivery.brief_id)
    if brief is None or delivery.subject_id is None:
        return
    alert = alert_message_for(session=session, delivery=delivery)
    if alert is None:
        session.add(AlertMessage(team_id=delivery.team_id, channel_id=delivery.channel_id, subject=delivery.subject,
                                 subject_id=delivery.subject_id, ts=ts, brief_id=brief.id or 0,
                                 item_count=brief.item_count, outlet_count=brief.outlet_count, created_at=now,
                                 updated_at=now))
    else:
        alert.brief_id, alert.item_count, alert.outlet_count, alert.updated_at = (
            brief.id or 0, brief.item_count, brief.outlet_count, now)


def delivery_targets(*, session: Session, team_id: str | None = None) -> dict[str, set[str]]:
    """Per team, the channels its alerts would go to (`post_targets.delivery_targets`, in the session's
    transaction)."""
    return post_targets.delivery_targets(session.connection(), team_id)


def outbox_counts(*, session: Session, team_id: str | None = None) -> dict[str, int]:
    """Deliveries by status (pending, held, paused, sending, sent, failed)."""
    query = select(Delivery.status, func.count()).group_by(col(Delivery.status))
    if team_id is not None:
        query = query.where(Delivery.team_id == team_id)
    return {str(status): int(n) for status, n in session.exec(query)}
