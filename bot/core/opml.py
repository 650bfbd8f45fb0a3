"""OPML subscription lists read into plain records, and written back as OPML 2.0. Pure: bytes in, data out; no
I/O, no clock.

Reading is bounded and refuses what only a hostile file holds: a DTD (so no entity expansion, internal or
external: no billion laughs, no file or network reads), NUL bytes, more than MAX_BYTES, MAX_OUTLINES or
MAX_DEPTH. Such a file fails as a whole with one plain `OpmlError`. Within a readable file each outline stands
alone: one without an xmlUrl, with a URL that is not http(s) or is over-long, or repeating an earlier URL is
skipped with its reason, and the rest are read.

Folders (outlines without an xmlUrl that hold others) become each feed's `category`, the folder names from the
top. briefbot writes each source's kind in its own attribute (`briefbot:kind`) so an export read back by
briefbot needs no fetch to tell a job board from a feed; other readers ignore it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urlsplit
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from bot.core.normalize import canonical_url, one_line, redact_url

MAX_BYTES = 2 * 1024 * 1024
MAX_OUTLINES = 2_000
MAX_ELEMENTS = 10_000  # every element, head included: a file of empty <x/> is refused as quickly
MAX_DEPTH = 32  # nested folders
MAX_URL = 2_000  # as the CLI's SPEC_MAX: a URL longer than this is not a feed anyone publishes
MAX_TITLE = 300  # sources.title
MAX_KIND = 32  # sources.kind
BRIEFBOT_NS = "urn:briefbot:opml"
_SEP = "\x1f"  # expat's separator between a namespace and a local name: never in a name
_KIND_ATTR = f"{BRIEFBOT_NS}{_SEP}kind"
FEED_TYPES = frozenset({"rss", "atom"})  # what feed readers write on a subscription's outline


class OpmlError(ValueError):
    """The file as a whole cannot be read; the message is one plain line."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str  # the xmlUrl, stripped
    title: str = ""  # title, else text; one line
    html_url: str = ""  # the site's page, when it is an http(s) URL
    category: tuple[str, ...] = ()  # the folders it sits in, outermost first
    declared_type: str = ""  # the outline's type, lower case ("rss"; "" when missing)
    kind: str = ""  # briefbot:kind, when the file came from briefbot

    @property
    def declares_feed(self) -> bool:
        return self.declared_type in FEED_TYPES


@dataclass(frozen=True, slots=True)
class Skipped:
    """An outline that was not read as a feed, and why."""

    where: str  # "outline 12 (Title)"
    url: str  # the xmlUrl as given ("" when none), for a summary line
    reason: str


@dataclass(frozen=True, slots=True)
class Opml:
    title: str
    feeds: tuple[OpmlFeed, ...]
    skipped: tuple[Skipped, ...] = ()


def parse_opml(data: bytes) -> Opml:
    """The feeds an OPML 1.0, 1.1 or 2.0 file lists, in document order, first of each URL kept."""
    if len(data) > MAX_BYTES:
        raise OpmlError(f"the file is {len(data):,} bytes; an OPML file briefbot reads has at most {MAX_BYTES:,}")
    if b"\x00" in data:
        raise OpmlError("the file holds NUL bytes (it is not UTF-8 text; OPML in UTF-16 is not read)")
    if not data.strip():
        raise OpmlError("the file is empty")
    reader = _Reader()
    parser = expat.ParserCreate(namespace_separator=_SEP)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = reader.refuse_doctype
    parser.EntityDeclHandler = reader.refuse_entity
    parser.ExternalEntityRefHandler = reader.refuse_external
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise OpmlError(f"not well-formed XML: {expat.ErrorString(exc.code)} at line {exc.lineno}") from exc
    if not reader.saw_opml:
        raise OpmlError("not an OPML file: there is no <opml> element")
    if not reader.saw_body:
        raise OpmlError("not an OPML file: <opml> has no <body>")
    return Opml(title=reader.title(), feeds=tuple(reader.feeds), skipped=tuple(reader.skipped))


@dataclass
class _Folder:
    """An outline being read: a folder until it turns out to carry an xmlUrl (then it is a feed)."""

    name: str
    attrs: dict[str, str]
    number: int
    children: int = 0


@dataclass
class _Reader:
    """expat's handlers: the path of open elements, the outlines read so far."""

    feeds: list[OpmlFeed] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    saw_opml: bool = False
    saw_body: bool = False
    _path: list[str] = field(default_factory=list)
    _outlines: list[_Folder] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _count: int = 0
    _elements: int = 0
    _title: list[str] = field(default_factory=list)

    def refuse_doctype(self, *_: object) -> None:
        raise OpmlError("the file declares a DTD (<!DOCTYPE …>); OPML needs none, and briefbot refuses one so no "
                        "entity is ever expanded")

    def refuse_entity(self, *_: object) -> None:
        raise OpmlError("the file declares an entity; briefbot expands none")

    def refuse_external(self, *_: object) -> int:
        raise OpmlError("the file refers to an external entity; briefbot reads none")

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        name = tag.rsplit(_SEP, 1)[-1].lower()
        self._elements += 1
        if self._elements > MAX_ELEMENTS:
            raise OpmlError(f"the file has more than {MAX_ELEMENTS:,} elements")
        if not self._path and name != "opml":
            raise OpmlError(f"not an OPML file: its root element is <{one_line(name)[:30]}>")
        self.saw_opml = True
        self.saw_body = self.saw_body or (self._path == ["opml"] and name == "body")
        self._path.append(name)
        if name != "outline" or "body" not in self._path:
            return
        self._count += 1
        if self._count > MAX_OUTLINES:
            raise OpmlError(f"the file has more than {MAX_OUTLINES:,} outlines; split it into smaller files")
        if len(self._outlines) >= MAX_DEPTH:
            raise OpmlError(f"outlines are nested more than {MAX_DEPTH} deep")
        if self._outlines:
            self._outlines[-1].children += 1
        fields = {k if _SEP in k else k.lower(): v for k, v in attrs.items()}
        self._outlines.append(_Folder(name=_label(fields), attrs=fields, number=self._count))

    def end(self, tag: str) -> None:
        name = self._path.pop()
        if name != "outline" or "body" not in self._path:
            return
        outline = self._outlines.pop()
        category = tuple(o.name for o in self._outlines if "xmlurl" not in o.attrs)
        self._read(outline, category)

    def text(self, data: str) -> None:
        if self._path[-2:] == ["head", "title"] and sum(map(len, self._title)) < MAX_TITLE * 4:
            self._title.append(data)

    def title(self) -> str:
        return one_line("".join(self._title))[:MAX_TITLE]

    def _read(self, outline: _Folder, category: tuple[str, ...]) -> None:
        attrs, label = outline.attrs, outline.name
        where = f"outline {outline.number}" + (f" ({label[:80]})" if label else "")
        raw = attrs.get("xmlurl")
        if raw is None:
            if outline.children == 0 and _looks_like_a_feed(attrs):
                self.skipped.append(Skipped(where, "", "it has no xmlUrl (the feed's address)"))
            return  # a folder (or an empty one, or a note): nothing to follow
        url = raw.strip()
        problem = url_problem(url)
        if problem:
            self.skipped.append(Skipped(where, url[:MAX_URL], problem))
            return
        key = _key(url)
        if key in self._seen:
            self.skipped.append(Skipped(where, url, "the same URL is listed earlier in the file"))
            return
        self._seen.add(key)
        kind = one_line(attrs.get(_KIND_ATTR, "")).lower()[:MAX_KIND]
        if label in (url, redact_url(url)):
            label = ""  # a reader's stand-in for a feed with no name (and what write_opml puts there)
        self.feeds.append(OpmlFeed(
            url=url, title=label, html_url=_http_or_empty(attrs.get("htmlurl", "")), category=category,
            declared_type=one_line(attrs.get("type", "")).lower()[:MAX_KIND], kind=kind))


def url_problem(url: str) -> str:
    """Why `url` cannot be followed as given, or "" when it can be tried."""
    if not url:
        return "its xmlUrl is empty"
    if len(url) > MAX_URL:
        return f"its xmlUrl is {len(url):,} characters long; at most {MAX_URL:,} are read"
    if any(ord(c) < 0x21 or 0x7F <= ord(c) < 0xA0 for c in url):
        return "its xmlUrl holds spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - read for its ValueError on a port such as 99999
    except ValueError:
        return "its xmlUrl is not a URL that can be read"
    if parts.scheme.lower() not in ("http", "https"):
        return f"only http and https feeds are followed, not {(parts.scheme or 'scheme-less')[:20]}: URLs"
    if not parts.hostname:
        return "its xmlUrl has no host name"
    return ""


def _key(url: str) -> str:
    try:
        return canonical_url(url)
    except ValueError:
        return url


def _label(attrs: dict[str, str]) -> str:
    return one_line(attrs.get("title") or attrs.get("text") or "")[:MAX_TITLE]


def _looks_like_a_feed(attrs: dict[str, str]) -> bool:
    """An outline meant as a subscription that lacks its address (a type, a site URL), not a plain note."""
    return bool(attrs.get("type", "").strip() or attrs.get("htmlurl", "").strip() or attrs.get("url", "").strip())


def _http_or_empty(url: str) -> str:
    url = url.strip()
    return url if not url_problem(url) else ""


def write_opml(feeds: Sequence[OpmlFeed], *, title: str, created: datetime) -> str:
    """OPML 2.0: one folder per category (nested as the category's names are), feeds in the order given within
    each, folders sorted by name, feeds without a category at the top."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<opml version="2.0" xmlns:briefbot="{BRIEFBOT_NS}">',
             "  <head>",
             f"    <title>{escape(_xml_text(title))}</title>",
             f"    <dateCreated>{format_datetime(created)}</dateCreated>",
             "    <docs>http://opml.org/spec2.opml</docs>",
             "  </head>",
             "  <body>"]
    lines.extend(_folder_lines(feeds, depth=0))
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _folder_lines(feeds: Iterable[OpmlFeed], depth: int) -> list[str]:
    here: list[OpmlFeed] = []
    folders: dict[str, list[OpmlFeed]] = {}
    for feed in feeds:
        if len(feed.category) <= depth:
            here.append(feed)
        else:
            folders.setdefault(feed.category[depth], []).append(feed)
    pad = "  " * (depth + 2)
    lines = [pad + _outline(feed) for feed in here]
    for name in sorted(folders, key=str.casefold):
        text = quoteattr(_xml_text(name))
        lines.append(f"{pad}<outline text={text} title={text}>")
        lines.extend(_folder_lines(folders[name], depth + 1))
        lines.append(f"{pad}</outline>")
    return lines


def _outline(feed: OpmlFeed) -> str:
    title = _xml_text(feed.title)
    attrs = [("text", title), ("title", title)] if title else [("text", redact_url(feed.url))]
    if feed.declared_type:
        attrs.append(("type", feed.declared_type))
    attrs.append(("xmlUrl", feed.url))
    if feed.html_url:
        attrs.append(("htmlUrl", feed.html_url))
    if feed.kind:
        attrs.append(("briefbot:kind", feed.kind))
    return "<outline " + " ".join(f"{name}={quoteattr(_xml_text(value))}" for name, value in attrs) + "/>"


def _xml_text(value: str) -> str:
    """One line XML 1.0 can hold: no control characters (which it refuses), no line breaks."""
    return one_line(value)
