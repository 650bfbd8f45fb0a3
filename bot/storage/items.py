"""Data functions for items: store a batch from one source with deduplication, and list the history."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from bot.sources.normalise import NormalisedItem
from bot.storage.models import Item, ItemLink, Source

CHUNK = 500
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoreCounts:
    new: int = 0
    updated: int = 0
    linked: int = 0
    unchanged: int = 0


def store_items(
    *, session: Session, source: Source, items: Sequence[NormalisedItem], now: datetime, backfill: bool = False
) -> StoreCounts:
    """Store what one poll of `source` found.

    - the same (source, external id) is stored once, and updated when its content hash changes;
    - the same canonical URL from another source (or under a new id) is linked to the existing item;
    - nothing is ever deleted here.
    """
    assert source.id is not None
    batch = _dedupe_batch(items)
    links = _links_by_external_id(session, source.id, [i.external_id for i in batch])
    new = updated = linked = unchanged = 0
    unknown = [i for i in batch if i.external_id not in links]
    by_url = _items_by_url_key(session, source.team_id, [i.url_key for i in unknown])
    pending: list[tuple[NormalisedItem, Item]] = []  # links to add once new items have ids
    for entry in batch:
        link = links.get(entry.external_id)
        if link is not None:
            if link.content_hash == entry.content_hash:
                unchanged += 1
                continue
            link.content_hash = entry.content_hash
            item = session.get(Item, link.item_id)
            if item is not None and item.url_key == entry.url_key:
                _apply(item, entry, now)
                updated += 1
            elif item is not None:
                # The id now points at another URL: keep the old item, point the id at the new one.
                found = by_url.get(entry.url_key) or _items_by_url_key(session, source.team_id, [entry.url_key]).get(
                    entry.url_key)
                if found is None:
                    found = by_url[entry.url_key] = _new_item(source, entry, now)
                    session.add(found)
                    session.flush()
                link.item_id = found.id or 0
                updated += 1
            continue
        item = by_url.get(entry.url_key)
        if item is None:
            item = _new_item(source, entry, now)
            item.backfill = backfill
            session.add(item)
            by_url[entry.url_key] = item
            new += 1
        else:
            linked += 1
        pending.append((entry, item))
    session.flush()  # one round of INSERTs gives every new item its id
    session.add_all(
        ItemLink(team_id=source.team_id, item_id=item.id or 0, source_id=source.id, external_id=entry.external_id,
                 content_hash=entry.content_hash, first_seen_at=now)
        for entry, item in pending
    )
    session.flush()
    return StoreCounts(new=new, updated=updated, linked=linked, unchanged=unchanged)


def _dedupe_batch(items: Sequence[NormalisedItem]) -> list[NormalisedItem]:
    """A feed that lists one entry twice (it happens) counts it once: the first occurrence wins."""
    seen_ids: set[str] = set()
    seen_urls: set[str] = set()
    out = []
    for item in items:
        if item.external_id in seen_ids or item.url_key in seen_urls:
            continue
        seen_ids.add(item.external_id)
        seen_urls.add(item.url_key)
        out.append(item)
    return out


def _new_item(source: Source, entry: NormalisedItem, now: datetime) -> Item:
    # Every field in the constructor: setting them afterwards costs a default-factory lookup per item, which
    # was a tenth of a first poll's time (bench/ingest.py).
    return Item(team_id=source.team_id, source_id=source.id or 0, kind=entry.kind, external_id=entry.external_id,
                url=entry.url, url_key=entry.url_key, first_seen_at=now, updated_at=now, title=entry.title,
                text=entry.text, outlet=entry.outlet, author=entry.author, published_at=entry.published_at,
                job_title=entry.job_title, department=entry.department, employment_type=entry.employment_type,
                remote=entry.remote, locations=entry.locations, content_hash=entry.content_hash)


def _apply(item: Item, entry: NormalisedItem, now: datetime) -> None:
    item.title, item.text, item.outlet, item.author = entry.title, entry.text, entry.outlet, entry.author
    item.published_at = entry.published_at or item.published_at
    item.job_title, item.department = entry.job_title, entry.department
    item.employment_type, item.remote, item.locations = entry.employment_type, entry.remote, entry.locations
    item.content_hash, item.updated_at = entry.content_hash, now


def _links_by_external_id(session: Session, source_id: int, external_ids: list[str]) -> dict[str, ItemLink]:
    out: dict[str, ItemLink] = {}
    for chunk in _chunks(external_ids):
        query = select(ItemLink).where(ItemLink.source_id == source_id, col(ItemLink.external_id).in_(chunk))
        out.update((link.external_id, link) for link in session.exec(query))
    return out


def _items_by_url_key(session: Session, team_id: str, keys: list[str]) -> dict[str, Item]:
    out: dict[str, Item] = {}
    for chunk in _chunks(keys):
        query = select(Item).where(Item.team_id == team_id, col(Item.url_key).in_(chunk))
        out.update((item.url_key, item) for item in session.exec(query))
    return out


def _chunks(values: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def list_items(
    *, session: Session, team_id: str | None = None, source_id: int | None = None,
    since: datetime | None = None, limit: int = 50,
) -> list[Item]:
    """Newest first (by first-seen time). With `source_id`, every item that source has seen, including
    items first stored through another source."""
    query = select(Item)
    if team_id is not None:
        query = query.where(Item.team_id == team_id)
    if source_id is not None:
        seen = select(ItemLink.item_id).where(ItemLink.source_id == source_id)
        query = query.where(col(Item.id).in_(seen))
    if since is not None:
        query = query.where(col(Item.first_seen_at) >= since)
    query = query.order_by(col(Item.first_seen_at).desc(), col(Item.id).desc()).limit(limit)
    return list(session.exec(query))


def sources_of(*, session: Session, item_ids: Iterable[int]) -> dict[int, list[int]]:
    """Every source each item was seen in."""
    ids = list(item_ids)
    out: dict[int, list[int]] = {}
    for chunk in _chunks(ids):
        for link in session.exec(select(ItemLink).where(col(ItemLink.item_id).in_(chunk))):
            out.setdefault(link.item_id, [])
            if link.source_id not in out[link.item_id]:
                out[link.item_id].append(link.source_id)
    return out


def item_as_dict(item: Item, source_ids: list[int] | None = None) -> dict[str, Any]:
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
                 "employment_type": item.employment_type, "remote": item.remote, "locations": item.locations}
    return data
