"""Source kinds by name, and source specs (`kind:identifier` or a URL) resolved to a kind and a locator."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol, cast
from urllib.parse import SplitResult, urlsplit, urlunsplit

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
    board = _schemeless_board(spec)
    if board is not None:  # boards.greenhouse.io/acme, acme.workable.com: the README's own forms
        return _resolve_url(board, settings, kind)
    if kind is not None:
        raise SpecError(f"--kind {kind} needs a URL; {spec!r} is not one (or write {kind}:{spec})")
    name, sep, identifier = spec.partition(":")
    if not sep or not identifier.strip():
        if _looks_like_host(spec):
            raise SpecError(f"{spec!r} has no scheme; write it as a URL: https://{spec}")
        raise SpecError(f"{spec!r} is neither a URL nor kind:identifier (e.g. greenhouse:acme, news:\"acme\")")
    source_kind = get_kind(name)
    resolved = Resolved(source_kind.NAME, source_kind.locator(identifier.strip(), settings))
    _check_readable(resolved.locator)
    return resolved


def _is_url(spec: str) -> bool:
    scheme = _split(spec).scheme.lower()
    return scheme in ("http", "https") or (scheme != "" and "//" in spec)


def _split(url: str) -> SplitResult:
    """urlsplit, with its ValueError ("Invalid IPv6 URL" for http://[::1) turned into a plain SpecError."""
    try:
        return urlsplit(url)
    except ValueError as exc:
        raise SpecError(f"{url!r} is not a valid URL ({exc})") from exc


def _check_readable(locator: str) -> None:
    """A locator that is a URL must parse, so a bad one is refused when added rather than at every poll."""
    if locator.lower().startswith(("http://", "https://")):
        parts = _split(locator)
        if not parts.hostname:
            raise SpecError(f"{locator!r} has no host name")
        try:
            parts.port  # noqa: B018 - read for its ValueError on a port such as 99999
        except ValueError as exc:
            raise SpecError(f"{locator!r} has a bad port ({exc})") from exc


def _without_www(url: str) -> str:
    """https://www.jobs.lever.co/acme -> https://jobs.lever.co/acme, for the recognisers only (they read the host
    and path; the source's locator is built from the board name they find)."""
    parts = _split(url)
    host = (parts.hostname or "").lower()
    if not host.startswith("www."):
        return url
    return urlunsplit((parts.scheme, host.removeprefix("www."), parts.path, parts.query, ""))


def _board_kind(url: str) -> tuple[SourceKind, str] | None:
    """The job-board kind and board name a careers-page URL belongs to (with or without www.), or None."""
    for candidate in dict.fromkeys((_without_www(url), url)):  # www.acme.workable.com is acme's
        for source_kind in KINDS.values():
            identifier = source_kind.recognise(candidate)
            if identifier:
                return source_kind, identifier
    return None


def _schemeless_board(spec: str) -> str | None:
    """`boards.greenhouse.io/acme` as https://boards.greenhouse.io/acme, when a job-board kind recognises it."""
    if "://" in spec or any(c.isspace() for c in spec) or not _looks_like_host(spec):
        return None
    url = "https://" + spec
    try:
        return url if _board_kind(url) is not None else None
    except SpecError:
        return None


def _looks_like_host(spec: str) -> bool:
    """example.com/feed.xml: a dotted name before any slash, and no kind: prefix."""
    head = spec.split("/", 1)[0]
    return "." in head and ":" not in head and all(part for part in head.split("."))


def _resolve_url(url: str, settings: Settings, kind: str | None) -> Resolved:
    parts = _split(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise SpecError(f"only http and https URLs can be followed, not {parts.scheme}:")
    _check_readable(url)
    if kind is not None:
        source_kind = get_kind(kind)
        # A careers-page URL becomes the board's API; any other URL is taken as the API endpoint itself.
        identifier = source_kind.recognise(_without_www(url)) or source_kind.recognise(url)
        return Resolved(source_kind.NAME, source_kind.locator(identifier or url, settings))
    board = _board_kind(url)
    if board is not None:
        source_kind, identifier = board
        return Resolved(source_kind.NAME, source_kind.locator(identifier, settings))
    return Resolved(None, url)


def kind_of_json(data: Any) -> str | None:
    """The job-board API a JSON response came from, told by its shape (for a URL added without --kind), or None.
    Each test looks for keys only that API uses, so a list or object of anything else is not mistaken for one."""
    if isinstance(data, list):  # Lever answers a bare list of postings
        first = next((p for p in data if isinstance(p, dict)), None)
        if first is not None and ("hostedUrl" in first or {"text", "categories"} <= first.keys()):
            return lever.NAME
        return None
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("content"), list) and ("totalFound" in data or _first_has(data["content"], "refNumber")):
        return smartrecruiters.NAME
    jobs = data.get("jobs")
    if not isinstance(jobs, list):
        return None
    if "apiVersion" in data or _first_has(jobs, "jobUrl", "isListed"):
        return ashby.NAME
    if _first_has(jobs, "absolute_url") or (not jobs and isinstance(data.get("meta"), dict)):
        return greenhouse.NAME
    if _first_has(jobs, "shortcode", "application_url") or (not jobs and {"name", "description"} <= data.keys()):
        return workable.NAME
    return None


def _first_has(values: list[Any], *keys: str) -> bool:
    first = next((v for v in values if isinstance(v, dict)), None)
    return first is not None and any(key in first for key in keys)
