"""Source kinds by name, and source specs (`kind:identifier` or a URL) resolved to a kind and a locator."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Protocol, cast
from urllib.parse import urlsplit

from bot.settings import Settings
from bot.sources import ashby, careers, feed, greenhouse, jsonfeed, lever, news, smartrecruiters, workable
from bot.sources.base import Document, ItemKind, Parsed, SpecError


class SourceKind(Protocol):
    """The shape every module in bot/sources/ has."""

    NAME: str
    ITEM_KIND: ItemKind
    EXAMPLE: str
    SUMMARY: str

    def locator(self, identifier: str, settings: Settings) -> str: ...
    def recognise(self, url: str) -> str | None: ...
    def parse(self, doc: Document) -> Parsed: ...


_MODULES: tuple[ModuleType, ...] = (feed, jsonfeed, news, greenhouse, lever, ashby, smartrecruiters, workable, careers)
KINDS: dict[str, SourceKind] = {m.NAME: cast(SourceKind, m) for m in _MODULES}
ALIASES = {"rss": "feed", "atom": "feed", "json": "jsonfeed", "jsonld": "careers", "schema": "careers"}


def get_kind(name: str) -> SourceKind:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in KINDS:
        raise SpecError(f"unknown source kind {name!r}; known kinds: {', '.join(sorted(KINDS))}")
    return KINDS[key]


@dataclass(frozen=True, slots=True)
class Resolved:
    """A spec resolved without touching the network. `kind` is None when only fetching the URL can tell
    (a feed, a JSON Feed, a page with a feed link, or a careers page)."""

    kind: str | None
    locator: str


def resolve_spec(spec: str, settings: Settings, kind: str | None = None) -> Resolved:
    spec = spec.strip()
    if not spec:
        raise SpecError("empty source spec; try a feed URL or e.g. greenhouse:acme")
    if _is_url(spec):
        return _resolve_url(spec, settings, kind)
    if kind is not None:
        raise SpecError(f"--kind {kind} needs a URL; {spec!r} is not one (or write {kind}:{spec})")
    name, sep, identifier = spec.partition(":")
    if not sep or not identifier.strip():
        raise SpecError(f"{spec!r} is neither a URL nor kind:identifier (e.g. greenhouse:acme, news:\"acme\")")
    source_kind = get_kind(name)
    return Resolved(source_kind.NAME, source_kind.locator(identifier.strip(), settings))


def _is_url(spec: str) -> bool:
    scheme = urlsplit(spec).scheme.lower()
    return scheme in ("http", "https") or (scheme != "" and "//" in spec)


def _resolve_url(url: str, settings: Settings, kind: str | None) -> Resolved:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise SpecError(f"only http and https URLs can be followed, not {parts.scheme}:")
    if not parts.hostname:
        raise SpecError(f"{url!r} has no host name")
    if kind is not None:
        source_kind = get_kind(kind)
        # A careers-page URL becomes the board's API; any other URL is taken as the API endpoint itself.
        identifier = source_kind.recognise(url)
        return Resolved(source_kind.NAME, source_kind.locator(identifier or url, settings))
    for source_kind in KINDS.values():
        identifier = source_kind.recognise(url)
        if identifier:
            return Resolved(source_kind.NAME, source_kind.locator(identifier, settings))
    return Resolved(None, url)
