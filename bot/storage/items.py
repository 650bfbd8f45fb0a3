"""Data functions for items: store a batch from one source with deduplication, and list the history."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select

from bot.core.intake import (
    Insert,
    Known,
    KnownLink,
    Link,
    Rehash,
    Repoint,
    Skip,
    Unchanged,
    Update,
    decide,
    ids_to_look_up,
    urls_to_look_up,
)
from bot.core.lifecycle import is_long_open, open_days, opened_at
from bot.sources.item import NormalisedItem
from bot.storage.models import Item, ItemLink, Source

CHUNK = 500
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoreCounts:
    new: int = 0
    updated: int = 0
    linked: int = 0
    unchanged: int = 0
    new_ids: tuple[int, ...] = ()  # the items this batch inserted, in its order


def store_items(
    *, session: Session, source: Source, items: Sequence[NormalisedItem], now: datetime, backfill: bool = False
) -> StoreCounts:
    """Store what one poll of `source` found.

    - the same (source, external id) is stored once, and updated when its content hash changes;
    - the same canonical URL from another source (or under a new id) is linked to the existing item;
    - nothing is ever deleted here.

    The rules are `core.intake.decide`'s; this looks up what it needs (this source's links with their items'
    URL keys, then the workspace's items for the URLs it may meet: at most two queries per 500 items) and
    applies its decisions.
    """
    assert source.id is not None
    links = _links_by_external_id(session, source.id, ids_to_look_up(items))
    known_links = {external_id: KnownLink(link.item_id, link.content_hash, url_key)
                   for external_id, (link, url_key) in links.items()}
    by_url = _items_by_url_key(session, source.team_id, urls_to_look_up(items, known_links))
    decisions = decide(items, Known(links=known_links, items={key: item.id or 0 for key, item in by_url.items()}))
    by_id = {item.id: item for item in by_url.values()}
    new = updated = linked = unchanged = 0
    pending: list[tuple[NormalisedItem, Item]] = []  # links to add once new items have ids
    repointed: list[tuple[ItemLink, NormalisedItem, Item]] = []  # links to move to new items once they have ids
    fresh: list[Item] = []  # inserted items (not repointed ones: those are a known posting at a new URL)
    for decision in decisions:
        match decision:
            case Unchanged():
                unchanged += 1
            case Skip():  # a repeat within the batch: left out, uncounted
                pass
            case Update(entry, item_id):
                links[entry.external_id][0].content_hash = entry.content_hash
                # The item was looked up by its URL key in this workspace; a link to another workspace's item
                # is never made here, so get() is only for a database edited by hand.
                _apply(by_id.get(item_id) or _get_item(session, item_id), entry, now)
                updated += 1
            case Repoint(entry, item_id):
                link = links[entry.external_id][0]
                if item_id is None:  # never backfill, even on a first poll: so it has always been
                    item = _new_item(source, entry, now, backfill=False)
                    session.add(item)
                    repointed.append((link, entry, item))
                else:
                    link.content_hash, link.item_id = entry.content_hash, item_id
                updated += 1
            case Rehash(entry):
                links[entry.external_id][0].content_hash = entry.content_hash
            case Link(entry, item_id):
                pending.append((entry, by_id[item_id]))
                linked += 1
            case Insert(entry):
                item = _new_item(source, entry, now, backfill=backfill)
                session.add(item)
                pending.append((entry, item))
                fresh.append(item)
                new += 1
    session.flush()  # one round of INSERTs gives every new item its id, in the batch's order
    inserted = [item.id for item in fresh if item.id is not None]
    for link, entry, item in repointed:
        link.content_hash, link.item_id = entry.content_hash, item.id or 0
    session.add_all(
        ItemLink(team_id=source.team_id, item_id=item.id or 0, source_id=source.id, external_id=entry.external_id,
                 content_hash=entry.content_hash, first_seen_at=now)
        for entry, item in pending
    )
    session.flush()
    return StoreCounts(new=new, updated=updated, linked=linked, unchanged=unchanged, new_ids=tuple(inserted))


def _get_item(session: Session, item_id: int) -> Item:
    item = session.get(Item, item_id)
    assert item is not None  # decide() updates only an item the link lookup found
    return item


def _new_item(source: Source, entry: NormalisedItem, now: datetime, *, backfill: bool) -> Item:
    # Every field in the constructor: setting them afterwards costs a default-factory lookup per item, which
    # was a tenth of a first poll's time (bench/ingest.py).
    return Item(team_id=source.team_id, source_id=source.id or 0, kind=entry.kind, external_id=entry.external_id,
                url=entry.url, url_key=entry.url_key, first_seen_at=now, updated_at=now, title=entry.title,
                text=entry.text, outlet=entry.outlet, author=entry.author, published_at=entry.published_at,
                job_title=entry.job_title, department=entry.department, employment_type=entry.employment_type,
                remote=entry.remote, locations=entry.locations, content_hash=entry.content_hash, backfill=backfill)


def _apply(item: Item, entry: NormalisedItem, now: datetime) -> None:
    item.title, item.text, item.outlet, item.author = entry.title, entry.text, entry.outlet, entry.author
    if item.kind == "job":  # a posting was posted once: a later date is an edit (Greenhouse's updated_at)
        item.published_at = item.published_at or entry.published_at
    else:  # an article's date may be corrected
        item.published_at = entry.published_at or item.published_at
    item.job_title, item.department = entry.job_title, entry.department
    item.employment_type, item.remote, item.locations = entry.employment_type, entry.remote, entry.locations
    item.content_hash, item.updated_at = entry.content_hash, now


# Built once: constructing a select costs more than running it for a batch of 50 known ids.
_LINKS_WITH_URL_KEYS = (
    select(ItemLink, Item.url_key).outerjoin(Item, col(Item.id) == ItemLink.item_id)
    .where(ItemLink.source_id == bindparam("source_id"),
           col(ItemLink.external_id).in_(bindparam("ids", expanding=True)))
)
_ITEMS_BY_URL_KEY = select(Item).where(Item.team_id == bindparam("team_id"),
                                       col(Item.url_key).in_(bindparam("keys", expanding=True)))


def _links_by_external_id(session: Session, source_id: int,
                          external_ids: list[str]) -> dict[str, tuple[ItemLink, str | None]]:
    """This source's links for `external_ids`, each with the URL key of its item (None: the item is gone)."""
    out: dict[str, tuple[ItemLink, str | None]] = {}
    for chunk in chunks(external_ids):
        rows = session.exec(_LINKS_WITH_URL_KEYS, params={"source_id": source_id, "ids": chunk})
        out.update((link.external_id, (link, url_key)) for link, url_key in rows)
    return out


def _items_by_url_key(session: Session, team_id: str, keys: list[str]) -> dict[str, Item]:
    out: dict[str, Item] = {}
    for chunk in chunks(keys):
        out.update((item.url_key, item) for item in session.exec(_ITEMS_BY_URL_KEY,
                                                                 params={"team_id": team_id, "keys": chunk}))
    return out


def chunks(values: list[T]) -> Iterator[list[T]]:
    """`values` in slices of at most CHUNK, so an IN list stays within the databases' parameter limits."""
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def list_items(
    *, session: Session, team_id: str | None = None, source_id: int | None = None,
    since: datetime | None = None, limit: int = 50,
) -> list[Item]:
    """Newest first by the date shown for each item: its own (published) date, else when it was first seen.
    `since` filters on first-seen time (what arrived since). With `source_id`, every item that source has seen,
    including items first stored through another source."""
    query = select(Item)
    if team_id is not None:
        query = query.where(Item.team_id == team_id)
    if source_id is not None:
        seen = select(ItemLink.item_id).where(ItemLink.source_id == source_id)
        query = query.where(col(Item.id).in_(seen))
    if since is not None:
        query = query.where(col(Item.first_seen_at) >= since)
    shown = func.coalesce(Item.published_at, Item.first_seen_at)
    query = query.order_by(shown.desc(), col(Item.id).desc()).limit(limit)
    return list(session.exec(query))


def sources_of(*, session: Session, item_ids: Iterable[int]) -> dict[int, list[int]]:
    """Every source each item was seen in."""
    ids = list(item_ids)
    out: dict[int, list[int]] = {}
    for chunk in chunks(ids):
        for link in session.exec(select(ItemLink).where(col(ItemLink.item_id).in_(chunk))):
            out.setdefault(link.item_id, [])
            if link.source_id not in out[link.item_id]:
                out[link.item_id].append(link.source_id)
    return out


def item_as_dict(item: Item, source_ids: list[int] | None = None, now: datetime | None = None) -> dict[str, Any]:
    """A job posting's lifecycle (core/lifecycle) is included: `closed_at`, `repost_of`, and with `now` how many
    days it has been (or was) open and whether that is long."""
    data: dict[str, Any] = {
        "id": item.id, "team_id": item.team_id, "kind": item.kind, "source_id": item.source_id,
        "source_ids": source_ids or [item.source_id], "external_id": item.external_id, "url": item.url,
        "title": item.title, "text": item.text, "outlet": item.outlet, "author": item.author,
        "published_at": item.published_at.isoformat() if item.published_at else None,
        "first_seen_at": item.first_seen_at.isoformat(), "updated_at": item.updated_at.isoformat(),
        "content_hash": item.content_hash, "backfill": item.backfill, "story_id": item.story_id,
    }
    if item.kind == "job":
        data |= {"job_title": item.job_title, "department": item.department,
                 "employment_type": item.employment_type, "remote": item.remote, "locations": item.locations,
                 "closed_at": item.closed_at.isoformat() if item.closed_at else None,
                 "closed_before_tracking": item.closed_before_tracking, "repost_of": item.repost_of}
        if now is not None:
            opened = opened_at(item.published_at, item.first_seen_at)
            data |= {"open_days": open_days(opened, item.closed_at, now),
                     "long_open": is_long_open(opened, item.closed_at, now) and not item.closed_before_tracking}
    return data
