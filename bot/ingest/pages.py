"""What a parse worker runs (`ingest/parse_worker`): one fetched page parsed by its source kind, and entries
normalised into what is stored. Pure, no I/O, no clock: jobs and results are plain picklable data, so the same
code runs in a worker process or, with BRIEFBOT_PARSE_WORKERS=0, in the poller's own."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from bot.core.normalize import one_line, strip_html
from bot.sources.base import Document, Entry
from bot.sources.item import NormalisedItem, normalise_entry
from bot.sources.registry import get_kind


@dataclass(frozen=True, slots=True)
class Normalising:
    """How a source's entries become items. `outlet` names items that name no outlet of their own; None on a
    first page: the page's own title (or its entries' most common outlet), else `host`."""

    outlet: str | None
    host: str
    max_chars: int
    now: datetime
    source_url: str


@dataclass(slots=True)
class PageRead:
    """What a page held. `items` when the page was normalised; `entries` when it is one page of a longer list,
    normalised with the others once the whole list is known to have changed; neither when normalising was
    not asked for (the same bytes as last time)."""

    title: str  # one_line of the page's title, else its entries' most common outlet
    next_url: str | None
    warnings: list[str]
    entries_count: int
    undated: int
    items: list[NormalisedItem] | None = None
    skipped: int = 0
    entries: list[Entry] | None = None


@dataclass(slots=True)
class Normalised:
    items: list[NormalisedItem]
    skipped: int  # entries with neither a link nor a title


@dataclass(frozen=True, slots=True)
class PageJob:
    """Parse one page as source kind `kind`. A first page with no next page is the whole list: normalised at
    once when `normalising` is given. A page of a longer list (`following`, or one that names a next page) keeps
    its entries instead."""

    kind: str
    document: Document
    normalising: Normalising | None
    following: bool = False  # the second page of a list, or a later one

    def run(self) -> PageRead:
        kind = get_kind(self.kind)
        parsed = kind.parse(self.document)
        entries = list(parsed.entries)
        # Boards and careers pages rarely name themselves; their postings name the company.
        title = one_line(strip_html(parsed.title)) or _most_common_outlet(entries)
        read = PageRead(title=title, next_url=parsed.next_url, warnings=list(parsed.warnings),
                        entries_count=len(entries), undated=sum(1 for e in entries if e.published_at is None))
        if parsed.next_url or self.following:
            read.entries = entries
        elif self.normalising is not None:
            done = normalise(entries, kind=self.kind, normalising=self.normalising, title=title)
            read.items, read.skipped = done.items, done.skipped
        return read


@dataclass(frozen=True, slots=True)
class NormaliseJob:
    """Normalise the entries of every page of a list (source kind `kind`)."""

    kind: str
    entries: list[Entry]
    normalising: Normalising

    def run(self) -> Normalised:
        return normalise(self.entries, kind=self.kind, normalising=self.normalising, title="")


def normalise(entries: list[Entry], *, kind: str, normalising: Normalising, title: str) -> Normalised:
    item_kind = get_kind(kind).ITEM_KIND
    n = normalising
    outlet = n.outlet if n.outlet is not None else title or n.host
    items: list[NormalisedItem] = []
    skipped = 0
    for entry in entries:
        item = normalise_entry(entry, kind=item_kind, default_outlet=outlet, max_chars=n.max_chars, now=n.now,
                               source_url=n.source_url)
        if item is None:
            skipped += 1
        else:
            items.append(item)
    return Normalised(items=items, skipped=skipped)


def _most_common_outlet(entries: list[Entry]) -> str:
    counts = Counter(e.outlet for e in entries if e.outlet)
    return counts.most_common(1)[0][0] if counts else ""
