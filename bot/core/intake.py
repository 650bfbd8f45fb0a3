"""What to do with each item one poll of one source found: the duplicate rules, decided as data.

Pure: no database, no clock. Storage looks up what it knows (this source's links by external id, with the URL
key of the item each points at; this workspace's items by URL key), `decide` turns the batch and those facts
into one decision per entry, and storage applies them (`bot/storage/items.store_items`). The facts are scoped
by storage: links of this source only, items of this workspace only, so two workspaces never meet here.

The rules, in the order they are tried:
- an entry whose external id or URL key an earlier entry of the same batch already has is skipped (a feed
  that lists one story twice counts it once; the first occurrence wins, even over a newer hash);
- an id this source has sent before is unchanged while its content hash is the same (a hash of an older
  version reads as changed, once); changed, it updates its item, or, when it now carries another URL,
  moves its link to the item at that URL (existing, or new) and leaves the old item as it was;
- an id never seen before whose URL the workspace holds is linked to that item (whatever source, or kind,
  stored it); otherwise it is a new item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, Protocol, TypeVar


class Incoming(Protocol):
    """What the decision reads of an entry (`sources.item.NormalisedItem` has it)."""

    @property
    def external_id(self) -> str: ...
    @property
    def url_key(self) -> str: ...
    @property
    def content_hash(self) -> str: ...


E = TypeVar("E", bound=Incoming)


@dataclass(frozen=True, slots=True)
class KnownLink:
    """An `item_links` row of this source: where its external id pointed last time."""

    item_id: int
    content_hash: str
    item_url_key: str | None  # the URL key of the item it points at; None when that item no longer exists


@dataclass(frozen=True, slots=True)
class Known:
    """What storage knows that the batch may meet."""

    links: Mapping[str, KnownLink] = field(default_factory=dict)  # by external id, this source only
    items: Mapping[str, int] = field(default_factory=dict)  # item id by URL key, this workspace only


@dataclass(frozen=True, slots=True)
class Skip(Generic[E]):
    """An earlier entry of the batch has the same external id or URL key: this one is left out, uncounted."""

    entry: E
    repeats: Literal["external_id", "url_key"]


@dataclass(frozen=True, slots=True)
class Unchanged(Generic[E]):
    """Seen before under this id, same content hash: nothing to write."""

    entry: E


@dataclass(frozen=True, slots=True)
class Update(Generic[E]):
    """Seen before under this id and URL, content changed: the item takes the new content, the link its hash."""

    entry: E
    item_id: int


@dataclass(frozen=True, slots=True)
class Repoint(Generic[E]):
    """Seen before under this id, content changed and now at another URL: the link takes the new hash and
    points at the workspace's item for that URL (`item_id`), or at a new item (None). The old item stays."""

    entry: E
    item_id: int | None


@dataclass(frozen=True, slots=True)
class Rehash(Generic[E]):
    """Seen before under this id, content changed, but the item its link points at is gone: only the link
    takes the new hash. Counted as nothing."""

    entry: E


@dataclass(frozen=True, slots=True)
class Link(Generic[E]):
    """A new id for a URL the workspace already holds: a link to that item, no second item."""

    entry: E
    item_id: int


@dataclass(frozen=True, slots=True)
class Insert(Generic[E]):
    """A new id and a new URL: a new item and its link."""

    entry: E


Decision = Skip[E] | Unchanged[E] | Update[E] | Repoint[E] | Rehash[E] | Link[E] | Insert[E]


def decide(batch: Sequence[E], known: Known) -> list[Decision[E]]:
    """One decision per entry of `batch`, in its order (storage relies on the order: new items get their ids
    in it)."""
    out: list[Decision[E]] = []
    skips = _skips(batch)
    for position, entry in enumerate(batch):
        repeats = skips.get(position)
        if repeats is not None:
            out.append(Skip(entry, repeats))
            continue
        link = known.links.get(entry.external_id)
        if link is None:
            item_id = known.items.get(entry.url_key)
            out.append(Insert(entry) if item_id is None else Link(entry, item_id))
        elif link.content_hash == entry.content_hash:
            out.append(Unchanged(entry))
        elif link.item_url_key is None:
            out.append(Rehash(entry))
        elif link.item_url_key == entry.url_key:
            out.append(Update(entry, link.item_id))
        else:
            out.append(Repoint(entry, known.items.get(entry.url_key)))
    return out


def ids_to_look_up(batch: Sequence[Incoming]) -> list[str]:
    """The external ids whose links `decide` reads: those of the entries it does not skip."""
    skips = _skips(batch)
    return [entry.external_id for position, entry in enumerate(batch) if position not in skips]


def urls_to_look_up(batch: Sequence[Incoming], links: Mapping[str, KnownLink]) -> list[str]:
    """The URL keys whose items `decide` reads, or storage then writes: entries never seen before (link or
    insert) and entries whose content changed while their item still exists (update or repoint). None for an
    unchanged batch, so a poll whose items are all known costs one lookup."""
    skips = _skips(batch)
    keys: list[str] = []
    for position, entry in enumerate(batch):
        if position in skips:
            continue
        link = links.get(entry.external_id)
        if link is None or (link.content_hash != entry.content_hash and link.item_url_key is not None):
            keys.append(entry.url_key)
    return keys


def _skips(batch: Sequence[Incoming]) -> dict[int, Literal["external_id", "url_key"]]:
    """The positions of the entries to skip, and why. Only kept entries claim an id and a URL: an entry
    skipped for its URL does not stop a later one with its id."""
    seen_ids: set[str] = set()
    seen_urls: set[str] = set()
    skipped: dict[int, Literal["external_id", "url_key"]] = {}
    if len({entry.external_id for entry in batch}) == len({entry.url_key for entry in batch}) == len(batch):
        return skipped  # the usual batch: nothing repeats
    for position, entry in enumerate(batch):
        if entry.external_id in seen_ids:
            skipped[position] = "external_id"
        elif entry.url_key in seen_urls:
            skipped[position] = "url_key"
        else:
            seen_ids.add(entry.external_id)
            seen_urls.add(entry.url_key)
    return skipped
