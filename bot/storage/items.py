"""Data functions for items: store a batch from one source with deduplication, and list the history."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import JSON, Integer, String, Table, TextClause, TypeDecorator, bindparam, case, insert, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
from bot.storage.fit import fit_values
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
    URL keys, then the workspace's item ids for the URLs it may meet: at most two queries per 500 items) and
    applies its decisions in bulk: one multi-row INSERT of the new items, one of their links, and an UPDATE per
    changed item or link. Core statements, not ORM objects: building and flushing those was most of a first
    poll's time (bench/ingest.py), so text is fitted to its columns here, as the flush guard would (`_fitted`).
    """
    assert source.id is not None
    links = _links_by_external_id(session, source.id, ids_to_look_up(items))
    known_links = {external_id: KnownLink(item_id, content_hash, url_key)
                   for external_id, (_, item_id, content_hash, url_key) in links.items()}
    ids = _item_ids_by_url_key(session, source.team_id, urls_to_look_up(items, known_links))
    new = updated = linked = unchanged = 0
    inserts: list[tuple[NormalisedItem, bool]] = []  # (entry, backfill): the new items
    fresh: list[str] = []  # the URL keys of the Insert decisions' items, in the batch's order
    new_links: list[NormalisedItem] = []  # links to add once the new items have ids
    moved: list[NormalisedItem] = []  # links taking a new hash and the item at their entry's URL
    rehashed: list[NormalisedItem] = []  # links taking their entry's hash
    changed: list[tuple[int, NormalisedItem]] = []  # (item id, entry): items taking the entry's content
    for decision in decide(items, Known(links=known_links, items=ids)):
        match decision:
            case Unchanged():
                unchanged += 1
            case Skip():  # a repeat within the batch: left out, uncounted
                pass
            case Update(entry, item_id):
                rehashed.append(entry)
                changed.append((item_id, entry))
                updated += 1
            case Repoint(entry, item_id):
                if item_id is None:  # a new item, never backfill, even on a first poll: so it has always been
                    inserts.append((entry, False))
                moved.append(entry)
                updated += 1
            case Rehash(entry):
                rehashed.append(entry)
            case Link(entry, _):
                new_links.append(entry)
                linked += 1
            case Insert(entry):
                inserts.append((entry, backfill))
                fresh.append(entry.url_key)
                new_links.append(entry)
                new += 1
    inserted = _insert_items(session, source, inserts, now)
    ids = {**ids, **inserted}
    if len(inserted) < len(inserts):  # another poller stored these URLs since the lookup: link to its items
        ids |= _item_ids_by_url_key(session, source.team_id, [e.url_key for e, _ in inserts if e.url_key not in ids])
        raced = sum(1 for key in fresh if key not in inserted)
        new, linked = new - raced, linked + raced
    _insert_links(session, source, new_links, ids, now)
    # A copy stored first may have no text (a news search's entry is a headline and a link): the outlet's own
    # entry, arriving second, gives the item its text. Never one source's text over another's.
    fills = [e for e in new_links if e.text and e.kind == "news" and e.url_key not in inserted]
    if fills:
        session.execute(_FILL_TEXT, [{"b_id": ids[e.url_key], "b_text": _fitted(_ITEMS, {"text": e.text})["text"],
                                      "b_now": now} for e in fills])
    if moved or rehashed:
        targets = [(e, ids[e.url_key]) for e in moved] + [(e, None) for e in rehashed]  # None: its item stays
        session.execute(_SET_LINK, [{"b_id": links[e.external_id][0], "b_item_id": item_id, "b_hash": e.content_hash}
                                    for e, item_id in targets])
    if changed:
        session.execute(_UPDATE_ITEM, [_update_row(item_id, entry, now) for item_id, entry in changed])
    return StoreCounts(new=new, updated=updated, linked=linked, unchanged=unchanged,
                       new_ids=tuple(inserted[key] for key in fresh if key in inserted))


def _new_item(source: Source, entry: NormalisedItem, now: datetime, *, backfill: bool) -> Item:
    """An `Item` object for `entry` (bench/hostile.py builds them; `store_items` writes rows without them)."""
    return Item(**_item_row(source, entry, now, backfill=backfill))


def _item_row(source: Source, entry: NormalisedItem, now: datetime, *, backfill: bool) -> dict[str, Any]:
    return {"team_id": source.team_id, "source_id": source.id or 0, "kind": entry.kind,
            "external_id": entry.external_id, "url": entry.url, "url_key": entry.url_key, "first_seen_at": now,
            "updated_at": now, "title": entry.title, "text": entry.text, "outlet": entry.outlet,
            "author": entry.author, "published_at": entry.published_at, "job_title": entry.job_title,
            "department": entry.department, "employment_type": entry.employment_type, "remote": entry.remote,
            "locations": entry.locations, "content_hash": entry.content_hash, "backfill": backfill,
            "story_id": None, "closed_at": None, "closed_before_tracking": False, "repost_of": None}


def _insert_items(session: Session, source: Source, rows: list[tuple[NormalisedItem, bool]],
                  now: datetime) -> dict[str, int]:
    """INSERT … ON CONFLICT (team, URL key) DO NOTHING of every row at once; the new ids by URL key. A URL
    another poller stored meanwhile is left out (the caller links to that item instead)."""
    if not rows:
        return {}
    values = [_fitted(_ITEMS, _item_row(source, entry, now, backfill=backfill)) for entry, backfill in rows]
    if session.get_bind().dialect.name == "postgresql":
        rows_out = session.execute(_PG_INSERT_ITEMS, {"rows": _json_rows(_ITEMS, values)})
    else:
        rows_out = session.execute(_statement(session, "items"), values)
    # Not dict(result): a Result has keys(), so dict() would read it as a mapping.
    return {key: item_id for key, item_id in rows_out}  # noqa: C416


def _insert_links(session: Session, source: Source, entries: list[NormalisedItem], ids: dict[str, int],
                  now: datetime) -> None:
    if not entries:
        return
    values = [_fitted(_LINKS, {"team_id": source.team_id, "item_id": ids[e.url_key], "source_id": source.id,
                               "external_id": e.external_id, "content_hash": e.content_hash, "first_seen_at": now,
                               "delisted_at": None, "missing_since": None})
              for e in entries]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_PG_INSERT_LINKS, {"rows": _json_rows(_LINKS, values)})
    else:
        session.execute(insert(_LINKS), values)


def _recordset_insert(table: Table, returning: str = "") -> TextClause:
    """PostgreSQL: INSERT … SELECT FROM json_to_recordset(the rows as one JSON array): one statement of fixed text
    whatever the number of rows, and one parameter, which `json.dumps` writes in C. A multi-row VALUES list of a
    wide table is a new, long query text per batch size, which psycopg parses in Python each time; an
    executemany is one statement per row; one array per column (unnest) had psycopg's array dumper quote
    every value in Python (a third of storing's time in the poller, profiled on bench/ingest.py)."""
    columns = [c for c in table.columns if not c.primary_key]
    names = ", ".join(f'"{c.name}"' for c in columns)
    typed = ", ".join(f'"{c.name}" {_pg_record_type(c)}' for c in columns)
    picked = ", ".join(f'"{c.name}"::json' if isinstance(c.type, JSON) else f'"{c.name}"' for c in columns)
    return text(f"INSERT INTO {table.name} ({names}) SELECT {picked} FROM json_to_recordset(CAST(:rows AS json)) "
                f"AS t({typed}) {returning}")


def _pg_record_type(column: Any) -> str:
    column_type = column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type
    # text: a value too long for a VARCHAR is refused, not cut; a JSON value arrives as its own text (`_json_rows`)
    if isinstance(column_type, String | JSON):
        return "text"
    return str(column_type.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]


def _json_rows(table: Table, rows: list[dict[str, Any]]) -> str:
    """Rows as the JSON array `_recordset_insert` reads: datetimes in ISO 8601 with their offset (UTC), as
    `types.UTCDateTime` would bind them; text as it is (`_fitted` took out what PostgreSQL cannot store). A JSON
    column's value goes as its own JSON text, written as the JSON type writes it (ASCII escapes): a posting's
    places may hold a lone surrogate or a NUL, which PostgreSQL's json type keeps as an escape, but which the
    outer array could neither carry as UTF-8 nor have parsed into a record."""
    encoded = _JSON_COLUMNS[table.name]
    if encoded:
        rows = [row | {name: None if row[name] is None else json.dumps(row[name]) for name in encoded} for row in rows]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"), default=_json_datetime)


def _json_datetime(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} reached the database; use bot.clock.utc_now()")
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"{type(value).__name__} is not stored as JSON")


def _update_row(item_id: int, entry: NormalisedItem, now: datetime) -> dict[str, Any]:
    row = _fitted(_ITEMS, {"title": entry.title, "text": entry.text, "outlet": entry.outlet, "author": entry.author,
                           "published_at": entry.published_at, "job_title": entry.job_title,
                           "department": entry.department, "employment_type": entry.employment_type,
                           "remote": entry.remote, "locations": entry.locations,
                           "content_hash": entry.content_hash, "updated_at": now})
    return {"b_id": item_id} | {f"b_{key}": value for key, value in row.items()}


_ITEMS: Table = Item.__table__  # type: ignore[attr-defined]
_LINKS: Table = ItemLink.__table__  # type: ignore[attr-defined]


def _text_columns(table: Table) -> tuple[tuple[str, int | None], ...]:
    out = []
    for column in table.columns:
        column_type = column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type
        if isinstance(column_type, String):
            out.append((column.name, column_type.length))
    return tuple(out)


_PG_INSERT_ITEMS = _recordset_insert(_ITEMS, "ON CONFLICT (team_id, url_key) DO NOTHING RETURNING url_key, id")
_PG_INSERT_LINKS = _recordset_insert(_LINKS)
_TEXT_COLUMNS = {_ITEMS.name: _text_columns(_ITEMS), _LINKS.name: _text_columns(_LINKS)}
_JSON_COLUMNS = {t.name: tuple(c.name for c in t.columns if isinstance(c.type, JSON)) for t in (_ITEMS, _LINKS)}
_SURROGATE = re.compile("[\\ud800-\\udfff]")


def _fitted(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """`row`, or when some text in it is too long for its column or unstorable (NUL, a lone surrogate), the row
    `fit.fit_values` makes of it (which refuses a value naming a row). The common case costs a scan per text."""
    for key, limit in _TEXT_COLUMNS[table.name]:
        value = row.get(key)
        if isinstance(value, str) and ((limit is not None and len(value) > limit) or "\x00" in value
                                       or (not value.isascii() and _SURROGATE.search(value) is not None)):
            return fit_values(table, row)
    return row


_STATEMENTS: dict[tuple[str, str], Any] = {}


def _statement(session: Session, name: str) -> Any:
    """The dialect's INSERT … ON CONFLICT DO NOTHING RETURNING for items, built once per dialect."""
    dialect = session.get_bind().dialect.name
    statement = _STATEMENTS.get((dialect, name))
    if statement is None:
        dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (dialect_insert(_ITEMS).on_conflict_do_nothing(index_elements=["team_id", "url_key"])
                     .returning(_ITEMS.c.url_key, _ITEMS.c.id))
        _STATEMENTS[(dialect, name)] = statement
    return statement


# Built once: constructing a select costs more than running it for a batch of 50 known ids.
_LINKS_WITH_URL_KEYS = (
    sa_select(_LINKS.c.external_id, _LINKS.c.id, _LINKS.c.item_id, _LINKS.c.content_hash, _ITEMS.c.url_key)
    .select_from(_LINKS.outerjoin(_ITEMS, _ITEMS.c.id == _LINKS.c.item_id))
    .where(_LINKS.c.source_id == bindparam("source_id"), _LINKS.c.external_id.in_(bindparam("ids", expanding=True)))
)
_ITEM_IDS_BY_URL_KEY = sa_select(_ITEMS.c.url_key, _ITEMS.c.id).where(
    _ITEMS.c.team_id == bindparam("team_id"), _ITEMS.c.url_key.in_(bindparam("keys", expanding=True)))
# PostgreSQL: the same lookups as a join of the keys (one array) to the unique index on (team, URL key) or
# (source, external id), probed once per key whatever the statistics say. As `col IN (…)` a young table's
# planner, which thinks it empty, reads the team's every row through another index (3-13 ms a lookup up to
# the first ANALYZE); and each IN list of another length is another statement to render and plan.
_PG_LINKS_WITH_URL_KEYS = text(
    "SELECT l.external_id, l.id, l.item_id, l.content_hash, i.url_key FROM unnest(CAST(:ids AS text[])) AS k(id) "
    "JOIN item_links AS l ON l.source_id = :source_id AND l.external_id = k.id "
    "LEFT JOIN items AS i ON i.id = l.item_id")
_PG_ITEM_IDS_BY_URL_KEY = text(
    "SELECT i.url_key, i.id FROM unnest(CAST(:keys AS text[])) AS k(key) "
    "JOIN items AS i ON i.team_id = :team_id AND i.url_key = k.key")
# A link moved to another item (Repoint) or only rehashed (Update, Rehash: its item stays).
_SET_LINK = update(_LINKS).where(_LINKS.c.id == bindparam("b_id")).values(
    item_id=func.coalesce(bindparam("b_item_id", type_=Integer), _LINKS.c.item_id), content_hash=bindparam("b_hash"))
_PUBLISHED = bindparam("b_published_at", type_=_ITEMS.c.published_at.type)
_FILL_TEXT = (update(_ITEMS).where(_ITEMS.c.id == bindparam("b_id"), _ITEMS.c.kind == "news", _ITEMS.c.text == "")
              .values(text=bindparam("b_text"), updated_at=bindparam("b_now", type_=_ITEMS.c.updated_at.type)))
_UPDATE_ITEM = update(_ITEMS).where(_ITEMS.c.id == bindparam("b_id")).values(
    {**{c: bindparam(f"b_{c}", type_=_ITEMS.c[c].type) for c in (
        "title", "text", "outlet", "author", "job_title", "department", "employment_type", "remote", "locations",
        "content_hash", "updated_at")},
     # A posting was posted once: a later date is an edit (Greenhouse's updated_at). An article's may be corrected.
     "published_at": case((_ITEMS.c.kind == "job", func.coalesce(_ITEMS.c.published_at, _PUBLISHED)),
                          else_=func.coalesce(_PUBLISHED, _ITEMS.c.published_at))})


def _links_by_external_id(session: Session, source_id: int,
                          external_ids: list[str]) -> dict[str, tuple[int, int, str, str | None]]:
    """This source's links for `external_ids`: (link id, item id, content hash, URL key of its item; None: the
    item is gone) by external id."""
    out: dict[str, tuple[int, int, str, str | None]] = {}
    postgresql = session.get_bind().dialect.name == "postgresql"
    for chunk in chunks(external_ids):
        rows = session.execute(_PG_LINKS_WITH_URL_KEYS if postgresql else _LINKS_WITH_URL_KEYS,
                               {"source_id": source_id, "ids": chunk})
        out.update((external_id, (link_id, item_id, h, key)) for external_id, link_id, item_id, h, key in rows)
    return out


def _item_ids_by_url_key(session: Session, team_id: str, keys: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    statement = _PG_ITEM_IDS_BY_URL_KEY if session.get_bind().dialect.name == "postgresql" else _ITEM_IDS_BY_URL_KEY
    for chunk in chunks(keys):
        out.update((key, item_id) for key, item_id in session.execute(statement, {"team_id": team_id, "keys": chunk}))
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
