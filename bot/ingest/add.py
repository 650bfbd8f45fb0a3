"""Adding a source from a spec: resolve it offline where the spec says enough, otherwise fetch the URL
once to learn what it is (a feed, a JSON Feed, a job board's API, a page that links to its feed, or a careers
page). Whatever the URL serves, the answer is an `Added` or a one-line `SpecError`, never another exception."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.core.normalize import canonical_url, one_line, redact_url
from bot.core.routing import alert_policy
from bot.fetch.http import Fetcher, FetchResult
from bot.settings import Settings
from bot.sources import careers, feed, jsonfeed
from bot.sources.base import Document, SourceError, SpecError, load_json
from bot.sources.html_page import discover_feeds, looks_like_html
from bot.sources.registry import KINDS, kind_of_json, resolve_spec
from bot.storage.db import session_scope
from bot.storage.models import Source
from bot.storage.sources import add_source, subscribe
from bot.storage.transactions import Engine

# Autodiscovery fetches the page and at most this many of the feeds it links to, one level deep, each URL once:
# anyone who may add a source (a Slack user, through /brief follow) decides what the page links to.
MAX_FEED_CANDIDATES = 5
BOARD_KINDS = ("greenhouse", "lever", "ashby", "smartrecruiters", "workable")


@dataclass(frozen=True, slots=True)
class Added:
    source: Source
    created: bool
    how: str  # how the kind was chosen, for the CLI to say
    alert: str | None = None  # the follow's alert policy in effect, when a channel follows it


@dataclass(frozen=True, slots=True)
class Identified:
    kind: str
    locator: str
    title: str
    how: str


async def identify_url(url: str, fetcher: Fetcher) -> tuple[str, str, str, str]:
    """(kind, locator, title, how) for a URL whose kind only its content tells."""
    fetched = await _fetch(url, fetcher)
    doc = fetched.document()
    if looks_like_html(doc.body, doc.mime):
        found = await _from_page(doc, url, fetcher)
    else:
        found = _read_document(doc, url)
    return found.kind, found.locator, found.title, found.how


async def _fetch(url: str, fetcher: Fetcher) -> FetchResult:
    try:
        return await fetcher.fetch(url)
    except SourceError as exc:
        # --kind adds a source without looking at it first; an address the guard refuses stays refused either way.
        hint = "" if exc.kind == "blocked" else " (pass --kind to add it anyway)"
        raise SpecError(one_line(f"could not fetch {redact_url(url)}: {exc}{hint}")) from exc


async def _from_page(page: Document, url: str, fetcher: Fetcher) -> Identified:
    """The first feed a web page links to (one level: a linked page's own links are not followed), else the page
    itself as a careers page."""
    seen = {_canonical(url), _canonical(page.url)}
    tried: list[str] = []
    links = discover_feeds(page.body, page.url)
    for _, link in links:
        if len(tried) == MAX_FEED_CANDIDATES:
            break
        if _canonical(link) in seen:  # the page itself, or a link already tried
            continue
        seen.add(_canonical(link))
        tried.append(link)
        found = await _try_feed_link(link, fetcher)
        if found is not None:
            return found
    if careers.has_job_postings(page.body):
        return Identified(careers.NAME, url, "", "careers page with schema.org JobPosting data")
    if tried:
        raise SpecError(f"{redact_url(url)} is a web page whose {len(tried)} feed link(s) tried did not lead to a "
                        "feed, and it has no schema.org JobPosting data")
    if links:
        raise SpecError(f"{redact_url(url)} is a web page whose feed links point back to the page itself, and it has "
                        "no schema.org JobPosting data")
    raise SpecError(f"{redact_url(url)} is a web page with no feed link and no schema.org JobPosting data")


async def _try_feed_link(link: str, fetcher: Fetcher) -> Identified | None:
    try:
        fetched = await fetcher.fetch(link)
    except SourceError:
        return None
    doc = fetched.document()
    if looks_like_html(doc.body, doc.mime):
        return None  # a link to another page: followed no further
    try:
        found = _read_document(doc, link)
    except SpecError:
        return None
    if found.kind not in (feed.NAME, jsonfeed.NAME):
        return None
    return Identified(found.kind, found.locator, found.title, f"feed found on the page: {link}")


def _read_document(doc: Document, url: str) -> Identified:
    """A fetched non-HTML document as a JSON Feed, a job board's API response, or an RSS/Atom feed."""
    if doc.body[:64].lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")):
        return _read_json(doc, url)
    try:
        parsed = feed.parse(doc)
    except SourceError as exc:
        raise SpecError(one_line(f"{redact_url(url)} is not a feed: {exc}")) from exc
    return Identified(feed.NAME, url, parsed.title, "RSS/Atom feed")


def _read_json(doc: Document, url: str) -> Identified:
    where = redact_url(url)
    try:
        data = load_json(doc)
    except SourceError as exc:
        raise SpecError(one_line(f"{where} serves JSON that cannot be read: {exc}")) from exc
    except RecursionError as exc:  # [[[[…]]]] nested deeper than Python's JSON reader goes
        raise SpecError(f"{where} serves JSON nested too deeply to read") from exc
    if isinstance(data, dict) and "jsonfeed.org" in str(data.get("version", "")):
        return Identified(jsonfeed.NAME, url, _title(jsonfeed.NAME, doc, url), "JSON Feed")
    kind = kind_of_json(data)
    if kind is None:
        raise SpecError(f"{where} serves JSON that is neither a JSON Feed nor a job board response briefbot "
                        f"recognises; if it is a board's API, add it with --kind and one of: {', '.join(BOARD_KINDS)}")
    return Identified(kind, url, _title(kind, doc, url), f"{kind} API response, recognised by its shape")


def _title(kind: str, doc: Document, url: str) -> str:
    """The source's title from a first parse, which also proves the parser can read it."""
    try:
        return KINDS[kind].parse(doc).title
    except Exception as exc:  # even a parser's own bug on this shape is this URL's problem, told in one line
        reason = str(exc) if isinstance(exc, SourceError) else f"{type(exc).__name__}: {exc}"
        raise SpecError(one_line(f"{redact_url(url)} looks like a {kind} response but cannot be read: {reason}")) \
            from exc


def _canonical(url: str) -> str:
    try:
        return canonical_url(url)
    except ValueError:
        return url


async def add_by_spec(
    *, spec: str, kind: str | None, team_id: str, channel_id: str | None,
    settings: Settings, engine: Engine, fetcher: Fetcher, clock: Clock, alert: str | None = None, title: str = "",
) -> Added:
    """`title` names a source whose kind the spec gives (an OPML outline's); one found by fetching is named by
    what it serves. The first poll names it by its own title either way."""
    resolved = resolve_spec(spec, settings, kind)
    how = f"kind {resolved.kind}"
    if resolved.kind is None:
        kind_name, locator, title, how = await identify_url(resolved.locator, fetcher)
    else:
        kind_name, locator = resolved.kind, resolved.locator
    with session_scope(engine) as session:
        source, created = add_source(session=session, team_id=team_id, kind=kind_name, locator=locator,
                                     spec=spec.strip(), title=title, now=clock())
        policy = None
        if channel_id:
            sub = subscribe(session=session, team_id=team_id, channel_id=channel_id, source_id=source.id or 0,
                            now=clock(), alert=alert)
            policy = alert_policy(sub.alert, source.kind)
    return Added(source=source, created=created, how=how, alert=policy)
