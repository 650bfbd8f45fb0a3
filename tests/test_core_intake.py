"""The duplicate rules of ingest as a table: a batch and what storage knows in, one decision per entry out.
Pure (bot/core/intake.py): no database. store_items applying them is tested end to end in test_poller."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.core.intake import (
    Decision,
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


@dataclass(frozen=True)
class E:
    """An entry as the decision sees it: external id, URL key, content hash."""

    external_id: str
    url_key: str
    content_hash: str = "v1:a"


# This source's links: id-1 points at item 10 (url-1), id-2 at item 20 (url-2), id-gone at an item that no
# longer exists. The workspace holds items 10, 20 and 30 (url-3, stored through another source).
LINKS = {
    "id-1": KnownLink(item_id=10, content_hash="v1:a", item_url_key="url-1"),
    "id-2": KnownLink(item_id=20, content_hash="v1:a", item_url_key="url-2"),
    "id-gone": KnownLink(item_id=99, content_hash="v1:a", item_url_key=None),
}
ITEMS = {"url-1": 10, "url-2": 20, "url-3": 30}
KNOWN = Known(links=LINKS, items=ITEMS)
NOTHING = Known()

a, b = E("id-a", "url-a"), E("id-b", "url-b")
ROWS: list[tuple[str, list[E], Known, list[Decision[E]]]] = [
    ("empty batch", [], KNOWN, []),
    ("new id, new URL: a new item", [a], KNOWN, [Insert(a)]),
    ("first poll, nothing known", [a, b], NOTHING, [Insert(a), Insert(b)]),
    ("new id, URL another source stored: a link, no second item",
     [E("id-a", "url-3")], KNOWN, [Link(E("id-a", "url-3"), 30)]),
    ("new id from this source for a URL it stored under another id: a link",
     [E("id-new", "url-1")], KNOWN, [Link(E("id-new", "url-1"), 10)]),
    ("same id, same hash: unchanged", [E("id-1", "url-1")], KNOWN, [Unchanged(E("id-1", "url-1"))]),
    ("same id, same hash, another URL: still unchanged (the hash decides)",
     [E("id-1", "url-9")], KNOWN, [Unchanged(E("id-1", "url-9"))]),
    ("same id, changed hash: update its item",
     [E("id-1", "url-1", "v1:b")], KNOWN, [Update(E("id-1", "url-1", "v1:b"), 10)]),
    ("same id, hash of another version: reads as changed, once",
     [E("id-1", "url-1", "v2:a")], KNOWN, [Update(E("id-1", "url-1", "v2:a"), 10)]),
    ("same id, changed, moved to a new URL: a new item, the old one stays",
     [E("id-1", "url-9", "v1:b")], KNOWN, [Repoint(E("id-1", "url-9", "v1:b"), None)]),
    ("same id, changed, moved to a URL the workspace holds: the link points at that item",
     [E("id-1", "url-3", "v1:b")], KNOWN, [Repoint(E("id-1", "url-3", "v1:b"), 30)]),
    ("same id, changed, moved to the URL of its own source's other id",
     [E("id-1", "url-2", "v1:b")], KNOWN, [Repoint(E("id-1", "url-2", "v1:b"), 20)]),
    ("same id, changed, its item gone: only the link's hash",
     [E("id-gone", "url-1", "v1:b")], KNOWN, [Rehash(E("id-gone", "url-1", "v1:b"))]),
    ("same id, unchanged, its item gone: unchanged",
     [E("id-gone", "url-1")], KNOWN, [Unchanged(E("id-gone", "url-1"))]),
    ("same id twice in a batch: the first wins",
     [a, E("id-a", "url-z", "v1:b")], KNOWN, [Insert(a), Skip(E("id-a", "url-z", "v1:b"), "external_id")]),
    ("same id twice, the first unchanged, the second changed: still the first",
     [E("id-1", "url-1"), E("id-1", "url-1", "v1:b")], KNOWN,
     [Unchanged(E("id-1", "url-1")), Skip(E("id-1", "url-1", "v1:b"), "external_id")]),
    ("same URL twice in a batch under two ids: one new item, the second left out",
     [a, E("id-z", "url-a")], KNOWN, [Insert(a), Skip(E("id-z", "url-a"), "url_key")]),
    ("same known URL twice in a batch: one link",
     [E("id-x", "url-3"), E("id-y", "url-3")], KNOWN,
     [Link(E("id-x", "url-3"), 30), Skip(E("id-y", "url-3"), "url_key")]),
    ("a known id after a new entry with its URL: left out, its link untouched",
     [E("id-x", "url-1"), E("id-1", "url-1", "v1:b")], KNOWN,
     [Link(E("id-x", "url-1"), 10), Skip(E("id-1", "url-1", "v1:b"), "url_key")]),
    ("same id and same URL twice: skipped for the id", [a, a], KNOWN, [Insert(a), Skip(a, "external_id")]),
    ("an entry skipped for its URL does not claim its id: a later one with that id is kept",
     [a, E("id-b", "url-a"), b], KNOWN, [Insert(a), Skip(E("id-b", "url-a"), "url_key"), Insert(b)]),
    ("a mixed batch: one decision per entry, in the batch's order",
     [E("id-2", "url-2"), a, E("id-1", "url-1", "v1:b"), E("id-x", "url-3")], KNOWN,
     [Unchanged(E("id-2", "url-2")), Insert(a), Update(E("id-1", "url-1", "v1:b"), 10), Link(E("id-x", "url-3"), 30)]),
]


@pytest.mark.parametrize(("batch", "known", "expected"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_decide(batch: list[E], known: Known, expected: list[Decision[E]]) -> None:
    assert decide(batch, known) == expected


LOOKUPS: list[tuple[str, list[E], list[str], list[str]]] = [
    ("empty batch: no lookup", [], [], []),
    ("new entries: their ids, then their URLs", [a, b], ["id-a", "id-b"], ["url-a", "url-b"]),
    ("all unchanged: no URL lookup", [E("id-1", "url-1"), E("id-2", "url-2")], ["id-1", "id-2"], []),
    ("changed and moved: the URLs whose items it updates or moves to",
     [E("id-1", "url-1", "v1:b"), E("id-2", "url-9", "v1:b")], ["id-1", "id-2"], ["url-1", "url-9"]),
    ("changed, its item gone: no URL lookup", [E("id-gone", "url-1", "v1:b")], ["id-gone"], []),
    ("entries it skips are not looked up", [a, E("id-a", "url-z"), E("id-z", "url-a")], ["id-a"], ["url-a"]),
]


@pytest.mark.parametrize(("batch", "ids", "urls"), [row[1:] for row in LOOKUPS], ids=[row[0] for row in LOOKUPS])
def test_lookups(batch: list[E], ids: list[str], urls: list[str]) -> None:
    assert ids_to_look_up(batch) == ids
    assert urls_to_look_up(batch, LINKS) == urls


def test_what_the_lookups_find_is_all_decide_reads() -> None:
    """A `Known` cut down to what the lookups ask for decides as the whole one does, so storage never needs a
    second round for a batch."""
    batch = [E("id-2", "url-2"), a, E("id-1", "url-3", "v1:b"), E("id-x", "url-1"), E("id-gone", "url-2", "v1:b"),
             E("id-a", "url-q"), E("id-2", "url-2", "v1:c")]
    links = {key: LINKS[key] for key in ids_to_look_up(batch) if key in LINKS}
    items = {key: ITEMS[key] for key in urls_to_look_up(batch, links) if key in ITEMS}
    assert decide(batch, Known(links=links, items=items)) == decide(batch, KNOWN)
