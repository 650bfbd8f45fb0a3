"""Data functions for Slack channels: their follows, watches, mutes, digest schedule, and pausing a channel
the bot can no longer post to. Every function takes the team id and never crosses it.

Rows that a Slack request creates on first use (the channel, a watch, a mute) are created by
`insert_if_absent`: Slack users click and retype, so two requests for the same new row at once are normal, and
the one that loses the race must find the winner's row, not fail on the unique constraint."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot.core.inputs import MUTE_COMPANY_MAX, WATCH_TERM_MAX, row_id
from bot.sources.registry import Resolved
from bot.storage.db import insert_if_absent
from bot.storage.models import Channel, Delivery, Mute, Source, Subscription, Watch
from bot.storage.sources import add_source, ensure_workspace, remove_source, subscribe


def term_key(term: str) -> str:
    """The comparable form of a watched term or a muted company: case-folded, spaces collapsed."""
    return " ".join(term.casefold().split())


class TermTooLongError(ValueError):
    """A watched term or muted company that, as written or as its key, is longer than its column."""


def stored_length(term: str) -> int:
    """How many characters `term` takes in its columns: the longer of the term and its key, since case folding
    can lengthen it ("ß" → "ss", "ﬃ" → "ffi") and a key cut to fit would never be found again."""
    return max(len(" ".join(term.split())), len(term_key(term)))


def ensure_channel(*, session: Session, team_id: str, channel_id: str, now: datetime) -> Channel:
    channel = get_channel(session=session, team_id=team_id, channel_id=channel_id)
    if channel is None:
        ensure_workspace(session=session, team_id=team_id, now=now)
        insert_if_absent(session, Channel, ["team_id", "channel_id"], team_id=team_id, channel_id=channel_id,
                         created_at=now)
        channel = get_channel(session=session, team_id=team_id, channel_id=channel_id)
        assert channel is not None  # inserted, or inserted by a request that committed first
    return channel


def get_channel(*, session: Session, team_id: str, channel_id: str) -> Channel | None:
    return session.exec(select(Channel).where(Channel.team_id == team_id, Channel.channel_id == channel_id)).first()


def list_channels(*, session: Session, team_id: str) -> list[Channel]:
    return list(session.exec(select(Channel).where(Channel.team_id == team_id).order_by(col(Channel.channel_id))))


def channel_follows(*, session: Session, team_id: str, channel_id: str) -> list[tuple[Subscription, Source]]:
    query = (select(Subscription, Source).join(Source, col(Source.id) == col(Subscription.source_id))
             .where(Subscription.team_id == team_id, Subscription.channel_id == channel_id,
                    col(Source.removed_at).is_(None))
             .order_by(col(Subscription.id)))
    return [(sub, source) for sub, source in session.exec(query)]


def find_follow(*, session: Session, team_id: str, channel_id: str, target: str) -> tuple[Subscription, Source] | None:
    """The channel's follow that `target` names: its number in `/brief list`, its spec, URL or title."""
    follows = channel_follows(session=session, team_id=team_id, channel_id=channel_id)
    wanted = target.strip()
    number = row_id(wanted)  # ASCII digits only: "²" is a digit to str.isdigit but not to int
    if number is not None and 1 <= number <= len(follows):
        return follows[number - 1]
    key = term_key(wanted)
    for sub, source in follows:
        if key in {term_key(source.spec), term_key(source.locator), term_key(source.title)}:
            return sub, source
    return None


def stop_following(*, session: Session, team_id: str, channel_id: str, target: str, now: datetime) -> Source | None:
    """The channel stops following the source `target` names (as `find_follow` reads it); a source nobody
    follows any more stops being polled (its items stay). The source, or None when the channel follows no
    such thing."""
    found = find_follow(session=session, team_id=team_id, channel_id=channel_id, target=target)
    if found is None:
        return None
    sub, source = found
    if other_subscribers(session=session, source_id=source.id or 0, except_sub=sub.id or 0):
        session.delete(sub)
    else:
        remove_source(session=session, source=source, now=now)
    return source


def other_subscribers(*, session: Session, source_id: int, except_sub: int) -> int:
    query = select(Subscription.id).where(Subscription.source_id == source_id, col(Subscription.id) != except_sub)
    return len(list(session.exec(query)))


def add_watch(*, session: Session, team_id: str, channel_id: str, term: str, source_id: int | None,
              now: datetime) -> tuple[Watch, bool]:
    if stored_length(term) > WATCH_TERM_MAX:
        raise TermTooLongError(f"a watched term can be at most {WATCH_TERM_MAX} characters")
    ensure_channel(session=session, team_id=team_id, channel_id=channel_id, now=now)
    key = term_key(term)
    created = insert_if_absent(session, Watch, ["team_id", "channel_id", "term_key"], team_id=team_id,
                               channel_id=channel_id, term=" ".join(term.split()), term_key=key,
                               source_id=source_id, created_at=now)
    watch = find_watch(session=session, team_id=team_id, channel_id=channel_id, term=term)
    assert watch is not None
    return watch, created


def start_watching(*, session: Session, team_id: str, channel_id: str, term: str, search: Resolved | None,
                   search_spec: str, now: datetime) -> bool:
    """Watch `term` and, when `search` is given, follow that news search for it, in the caller's transaction:
    a watch that fails leaves no follow behind, and a follow that fails leaves no watch. False when the channel
    already watched the term (in any spelling): then no second search is followed either, so of two requests
    for one term at once, only the one that inserted the watch follows a search."""
    watch, created = add_watch(session=session, team_id=team_id, channel_id=channel_id, term=term, source_id=None,
                               now=now)
    if created and search is not None:
        source, _ = add_source(session=session, team_id=team_id, kind=search.kind or "news", locator=search.locator,
                               spec=search_spec, title="", now=now)
        subscribe(session=session, team_id=team_id, channel_id=channel_id, source_id=source.id or 0, now=now)
        watch.source_id = source.id
    return created


def stop_watching(*, session: Session, team_id: str, channel_id: str, term: str, now: datetime) -> str | None:
    """Remove the channel's watch on `term`, and its news search with it (the search stops being polled when no
    other channel follows it). The term as it was watched, or None when the channel did not watch it."""
    found = find_watch(session=session, team_id=team_id, channel_id=channel_id, term=term)
    if found is None:
        return None
    watched, source_id = found.term, found.source_id
    session.delete(found)
    if source_id is not None:
        sub = session.exec(select(Subscription).where(Subscription.team_id == team_id,
                                                      Subscription.channel_id == channel_id,
                                                      Subscription.source_id == source_id)).first()
        source = session.get(Source, source_id)
        if sub is not None and source is not None:
            if other_subscribers(session=session, source_id=source_id, except_sub=sub.id or 0):
                session.delete(sub)
            else:
                session.flush()
                remove_source(session=session, source=source, now=now)
    return watched


def find_watch(*, session: Session, team_id: str, channel_id: str, term: str) -> Watch | None:
    return session.exec(select(Watch).where(Watch.team_id == team_id, Watch.channel_id == channel_id,
                                            Watch.term_key == term_key(term))).first()


def list_watches(*, session: Session, team_id: str, channel_id: str | None = None) -> list[Watch]:
    query = select(Watch).where(Watch.team_id == team_id)
    if channel_id is not None:
        query = query.where(Watch.channel_id == channel_id)
    return list(session.exec(query.order_by(col(Watch.id))))


def set_company_mute(*, session: Session, team_id: str, channel_id: str, company: str, user_id: str, now: datetime,
                     muted: bool) -> bool:
    """Mute or unmute one company's alerts in a channel; True when that changed anything."""
    if stored_length(company) > MUTE_COMPANY_MAX:
        if not muted:
            return False  # a key that long was never stored
        raise TermTooLongError(f"a company name can be at most {MUTE_COMPANY_MAX} characters")
    ensure_channel(session=session, team_id=team_id, channel_id=channel_id, now=now)
    key = term_key(company)
    existing = session.exec(select(Mute).where(Mute.team_id == team_id, Mute.channel_id == channel_id,
                                               Mute.company_key == key)).first()
    if muted and existing is None:
        return insert_if_absent(session, Mute, ["team_id", "channel_id", "company_key"], team_id=team_id,
                                channel_id=channel_id, company=" ".join(company.split()),
                                company_key=key, user_id=user_id, created_at=now)
    if not muted and existing is not None:
        session.delete(existing)
        return True
    return False


def set_channel_muted(*, session: Session, team_id: str, channel_id: str, muted: bool, now: datetime) -> None:
    """Hold (or release) all of the channel's alerts; its digests still come either way."""
    ensure_channel(session=session, team_id=team_id, channel_id=channel_id, now=now).muted = muted


def count_digest_channels(*, session: Session, team_id: str) -> int:
    """How many of the team's channels have a digest scheduled."""
    query = select(func.count()).select_from(Channel).where(Channel.team_id == team_id, Channel.digest != "off")
    return int(session.exec(query).one())


def list_mutes(*, session: Session, team_id: str, channel_id: str | None = None) -> list[Mute]:
    query = select(Mute).where(Mute.team_id == team_id)
    if channel_id is not None:
        query = query.where(Mute.channel_id == channel_id)
    return list(session.exec(query.order_by(col(Mute.id))))


def pause_channel(*, session: Session, team_id: str, channel_id: str, reason: str, now: datetime) -> None:
    """The bot can't post here (removed, archived): pause the channel's follows and keep its deliveries."""
    channel = ensure_channel(session=session, team_id=team_id, channel_id=channel_id, now=now)
    if channel.paused_reason is None:
        channel.paused_at = now
    channel.paused_reason = reason[:200]
    session.execute(update(Subscription).where(col(Subscription.team_id) == team_id,
                                               col(Subscription.channel_id) == channel_id).values(paused=True))
    session.execute(update(Delivery).where(col(Delivery.team_id) == team_id, col(Delivery.channel_id) == channel_id,
                                           col(Delivery.status) == "pending")
                    .values(status="paused", lease_owner=None, lease_until=None))
    # An unconfirmed post ("sending") keeps its state: it is checked against the channel before any retry.


def resume_channel(*, session: Session, team_id: str, channel_id: str, now: datetime) -> bool:
    """The bot is back (invited again, channel unarchived): resume follows and the deliveries held for it."""
    channel = get_channel(session=session, team_id=team_id, channel_id=channel_id)
    if channel is None or channel.paused_reason is None:
        return False
    channel.paused_reason = channel.paused_at = None
    session.execute(update(Subscription).where(col(Subscription.team_id) == team_id,
                                               col(Subscription.channel_id) == channel_id).values(paused=False))
    session.execute(update(Delivery).where(col(Delivery.team_id) == team_id, col(Delivery.channel_id) == channel_id,
                                           col(Delivery.status) == "paused")
                    .values(status="pending", next_attempt_at=now))
    return True
