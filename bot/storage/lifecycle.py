"""Posting lifecycle in the database: a job source's poll closes the postings it no longer lists and reopens those
it lists again (`close_unlisted`), new postings that are closed ones come back are marked (`mark_reposts`), and
each posting's lifecycle is read for signals, `briefbot items` and answers (`lifecycles`). The rules are
`core.lifecycle`'s; this looks up what they need and applies them. Every function stays within one team."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.core.jobs import metros_of
from bot.core.lifecycle import (
    REPOST_WINDOW,
    ClosedLink,
    ClosedPosting,
    ClosingParams,
    Lifecycle,
    LinkListing,
    OpenLink,
    RepostKey,
    match_reposts,
    opened_at,
    plan_closing,
    posting_closed_at,
    repost_key,
)
from bot.storage.companies import company_identity
from bot.storage.items import chunks
from bot.storage.models import Item, ItemLink, Source


@dataclass(frozen=True, slots=True)
class ClosingCounts:
    closed: int = 0  # postings (items) closed
    reopened: int = 0  # postings listed again
    held: int = 0  # links whose disappearance waits for the next poll
    note: str | None = None  # for the poll's notes
    confirmed_since: datetime | None = None  # the earliest held (or empty-board) disappearance this poll confirmed


def close_unlisted(*, session: Session, source: Source, listed: Collection[str], now: datetime,
                   params: ClosingParams | None = None, empty_since: datetime | None = None) -> ClosingCounts:
    """After a poll of the job source `source` that read its whole list (`listed`: the external ids it lists),
    close the source's postings it no longer lists, reopen those it lists again, and hold a mass disappearance
    for the next poll to confirm (core.lifecycle.plan_closing). A posting closes only when none of the team's
    active sources lists it. `empty_since`: this is the second empty poll in a row; the first was then."""
    assert source.id is not None
    params = params or ClosingParams()
    open_links = [OpenLink(link_id, external_id, missing_since) for link_id, external_id, missing_since in session.exec(
        select(ItemLink.id, ItemLink.external_id, ItemLink.missing_since)
        .join(Item, col(Item.id) == ItemLink.item_id)
        .where(ItemLink.source_id == source.id, col(ItemLink.delisted_at).is_(None), Item.kind == "job"))
        if link_id is not None]
    closed_links = [ClosedLink(link.id or 0, link.external_id)
                    for chunk in chunks(sorted(set(listed)))
                    for link in session.exec(select(ItemLink).where(
                        ItemLink.source_id == source.id, col(ItemLink.delisted_at).is_not(None),
                        col(ItemLink.external_id).in_(chunk)))]
    plan = plan_closing(open_links, closed_links, set(listed), now=now, params=params, empty_since=empty_since)
    by_time: dict[datetime, list[int]] = {}  # one UPDATE per closing time (a poll's, or a held one's)
    for link_id, closed_at in plan.close:
        by_time.setdefault(closed_at, []).append(link_id)
    for closed_at, ids in by_time.items():
        _set(session, ids, delisted_at=closed_at, missing_since=None)
    _set(session, plan.reopen, delisted_at=None, missing_since=None)
    _set(session, plan.relisted, missing_since=None)
    _set(session, plan.hold, missing_since=now)
    if source.listing_tracked_at is None:
        session.execute(update(Source).where(col(Source.id) == source.id, col(Source.listing_tracked_at).is_(None))
                        .values(listing_tracked_at=now))
    tracked_since = source.listing_tracked_at or now
    changed = [link_id for link_id, _ in plan.close] + list(plan.reopen)
    closed, reopened = _settle_items(session, _item_ids_of(session, changed), tracked_since)
    confirmed_since = min((at for _, at in plan.close if at < now), default=None)
    return ClosingCounts(closed=closed, reopened=reopened, held=len(plan.hold), note=plan.note,
                         confirmed_since=confirmed_since)


def _set(session: Session, link_ids: Sequence[int], **values: datetime | None) -> None:
    for chunk in chunks(list(link_ids)):
        session.execute(update(ItemLink).where(col(ItemLink.id).in_(chunk)).values(**values))


def _item_ids_of(session: Session, link_ids: list[int]) -> list[int]:
    return sorted({item_id for chunk in chunks(link_ids)
                   for item_id in session.exec(select(ItemLink.item_id).where(col(ItemLink.id).in_(chunk)))})


def _settle_items(session: Session, item_ids: list[int], tracked_since: datetime) -> tuple[int, int]:
    """Each item's closed state brought in line with its links: closed when no active source lists it. A closing
    at or before `tracked_since` (the source's first closing poll) was found, not seen: its date is unknown."""
    closed = reopened = 0
    for chunk in chunks(item_ids):
        listings: dict[int, list[LinkListing]] = {}
        rows = session.exec(select(ItemLink.item_id, ItemLink.delisted_at, Source.enabled, Source.removed_at)
                            .join(Source, col(Source.id) == ItemLink.source_id)
                            .where(col(ItemLink.item_id).in_(chunk)))
        for item_id, delisted_at, enabled, removed_at in rows:
            listings.setdefault(item_id, []).append(LinkListing(delisted_at, enabled and removed_at is None))
        for item in session.exec(select(Item).where(col(Item.id).in_(chunk))):
            closed_at = posting_closed_at(listings.get(item.id or 0, []))
            if closed_at == item.closed_at:
                continue
            if closed_at is None:
                reopened += 1
                item.closed_at, item.closed_before_tracking = None, False
            else:
                closed += item.closed_at is None
                item.closed_at, item.closed_before_tracking = closed_at, closed_at <= tracked_since
    session.flush()
    return closed, reopened


def mark_reposts(*, session: Session, team_id: str, item_ids: Sequence[int], now: datetime,
                 window: timedelta = REPOST_WINDOW) -> int:
    """The new job postings among `item_ids` that are postings closed within `window` come back (same company,
    through the workspace's aliases; same title and metros) get `repost_of`; how many did. A posting closed
    before briefbot tracked its board (date unknown) is not matched."""
    new = [item for chunk in chunks(list(item_ids)) for item in session.exec(
        select(Item).where(col(Item.id).in_(chunk), Item.team_id == team_id, Item.kind == "job",
                           col(Item.repost_of).is_(None), col(Item.closed_at).is_(None)))]
    if not new:
        return 0
    reposted = select(Item.repost_of).where(Item.team_id == team_id, col(Item.repost_of).is_not(None))
    candidates = session.execute(  # sqlmodel's select types at most four columns
        sa_select(col(Item.id), col(Item.outlet), col(Item.job_title), col(Item.title), col(Item.locations),
                  col(Item.closed_at))
        .where(col(Item.team_id) == team_id, col(Item.kind) == "job", col(Item.closed_before_tracking).is_(False),
               col(Item.closed_at) >= now - window, col(Item.closed_at) <= now,
               col(Item.id).not_in(reposted))).all()
    if not candidates:
        return 0
    identity = company_identity(session=session, team_id=team_id)

    def key(outlet: str, job_title: str | None, title: str, locations: list[dict[str, Any]]) -> RepostKey | None:
        return repost_key(identity.key(outlet) if outlet else None, job_title or title, metros_of(locations))

    closed = [ClosedPosting(item_id or 0, key(outlet, job_title, title, locations), closed_at)
              for item_id, outlet, job_title, title, locations, closed_at in candidates if closed_at is not None]
    by_id = {item.id: item for item in new}
    matches = match_reposts([(item.id or 0, key(item.outlet, item.job_title, item.title, item.locations))
                             for item in new], closed, at=now, window=window)
    for item_id, old_id in matches.items():
        by_id[item_id].repost_of = old_id
    session.flush()
    return len(matches)


def postings_seen_since(*, session: Session, source: Source, since: datetime) -> list[int]:
    """The items the source lists that were first seen at or after `since`: a re-listing's new postings, stored
    while the disappearance of the old ones was held for a poll, are looked at again once it is confirmed
    (`mark_reposts`, which keeps the team's open job postings not yet reposts, at that time)."""
    return sorted({item_id for item_id in session.exec(
        select(Item.id).join(ItemLink, col(ItemLink.item_id) == Item.id)
        .where(ItemLink.source_id == source.id, col(ItemLink.delisted_at).is_(None),
               col(Item.first_seen_at) >= since)) if item_id is not None})


def lifecycles(*, session: Session, team_id: str, item_ids: Iterable[int] | None = None,
               outlets: Collection[str] | None = None) -> dict[int, Lifecycle]:
    """Each job posting's lifecycle (opened, closed, repost of), by item id: the postings with `item_ids`, or
    every posting under the company names `outlets` (as `storage.signals.company_outlets` gives them), within
    `team_id`. Postings not found (another team's, not job postings) are left out."""
    columns = sa_select(col(Item.id), col(Item.published_at), col(Item.first_seen_at), col(Item.closed_at),
                        col(Item.closed_before_tracking), col(Item.repost_of), col(Item.team_id), col(Item.kind))
    queries = []
    if item_ids is not None:  # by primary key alone, the team checked on each row: with the team in the WHERE,
        # SQLite's planner without statistics scans the team's index instead (16 ms for 8 ids at a million items)
        queries += [columns.where(col(Item.id).in_(chunk)) for chunk in chunks(sorted(set(item_ids)))]
    if outlets is not None:
        queries += [columns.where(col(Item.team_id) == team_id, col(Item.kind) == "job", col(Item.outlet).in_(chunk))
                    for chunk in chunks(sorted(set(outlets)))]
    out: dict[int, Lifecycle] = {}
    for query in queries:
        for item_id, published_at, first_seen_at, closed_at, before_tracking, repost_of, team, kind in (
                session.execute(query)):
            if team == team_id and kind == "job":
                out[item_id or 0] = Lifecycle(item_id=item_id or 0, opened_at=opened_at(published_at, first_seen_at),
                                              closed_at=closed_at, closed_before_tracking=before_tracking,
                                              repost_of=repost_of)
    return out

