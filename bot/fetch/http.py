"""Fetching over HTTP the way the real web needs: timeouts and an overall deadline, a byte cap enforced
while streaming, redirects followed by hand (each hop re-checked by the SSRF guard), compression,
conditional GET, an honest User-Agent, and a cap on concurrent requests per host."""

from __future__ import annotations

import asyncio
import email.utils
import re
import ssl
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from bot.core.normalize import redact_url
from bot.fetch.decode import BodyDecoder
from bot.fetch.guard import Resolver, check_peer, check_url, system_resolver
from bot.settings import Settings
from bot.sources.base import Document, SourceError

LONGEST_RETRY_AFTER = 7 * 24 * 3600.0  # when the caller names no cap; the fetcher passes BRIEFBOT_MAX_BACKOFF
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)


@dataclass(slots=True)
class FetchResult:
    """A fetched document, or a 304 (not_modified, no body)."""

    url: str
    status: int
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    def document(self) -> Document:
        return Document(url=self.url, body=self.body, content_type=self.content_type, status=self.status,
                        headers=self.headers)


class Fetcher:
    """One per event loop. Build it with `build_fetcher(settings)`; close it with `aclose()`."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient, resolver: Resolver = system_resolver):
        self.settings = settings
        self.client = client
        self.resolver = resolver
        self.allowed = settings.allowed_networks()
        self._all = asyncio.Semaphore(settings.briefbot_concurrency)
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.briefbot_per_host_concurrency)
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET `url`, or raise SourceError with a reason a person can act on."""
        try:
            async with asyncio.timeout(self.settings.briefbot_fetch_deadline):
                return await self._follow(url, etag, last_modified)
        except TimeoutError as exc:
            raise SourceError("timeout", f"gave up after {self.settings.briefbot_fetch_deadline:g}s "
                                         "(server too slow)") from exc

    async def _follow(self, url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        for _hop in range(self.settings.briefbot_max_redirects + 1):
            await check_url(url, allow_private=self.settings.briefbot_allow_private_urls, resolver=self.resolver,
                            allowed=self.allowed)
            host = urlsplit(url).hostname or ""
            async with self._all, self._hosts[host]:
                result = await self._get_once(url, etag, last_modified)
            if isinstance(result, FetchResult):
                return result
            url = result  # a redirect target
        raise SourceError("redirects", f"more than {self.settings.briefbot_max_redirects} redirects")

    async def _get_once(self, url: str, etag: str | None, last_modified: str | None) -> FetchResult | str:
        headers = {"Accept": ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            async with self.client.stream("GET", url, headers=headers) as response:
                if response.status_code in REDIRECT_CODES:
                    location = response.headers.get("location")
                    if not location:
                        raise SourceError("http", f"HTTP {response.status_code} redirect without a Location")
                    return urljoin(url, str(location))
                if response.status_code == 304:
                    # A 304 has no body (h11 reads none, whatever the headers say); reading its end lets the
                    # connection go back to the pool instead of being closed: a new connection per 304 was most
                    # of a 304 round's fetch time (bench/ingest.py).
                    await response.aread()
                    return FetchResult(url=url, status=304, not_modified=True, etag=etag, last_modified=last_modified)
                if response.status_code >= 400:
                    raise http_error(response, float(self.settings.briefbot_max_backoff))
                body = await self._read_capped(response)
                return FetchResult(
                    url=url,
                    status=response.status_code,
                    body=body,
                    content_type=response.headers.get("content-type", ""),
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                    headers=dict(response.headers),
                )
        except httpx.TimeoutException as exc:
            raise SourceError("timeout", f"timed out ({type(exc).__name__}) fetching {redact_url(url)}") from exc
        except httpx.ConnectError as exc:
            if _is_tls(exc):
                raise SourceError("tls", f"TLS handshake failed: {exc}") from exc
            raise SourceError("connect", f"could not connect: {exc or type(exc).__name__}") from exc
        except httpx.DecodingError as exc:
            raise SourceError("encoding", f"response could not be decompressed: {exc}") from exc
        except httpx.RemoteProtocolError as exc:
            if "location header" in str(exc).lower():  # httpx itself refused an unparsable redirect target
                raise SourceError("blocked", f"refused redirect: {exc}") from exc
            raise SourceError("connection", f"connection broke: {exc or type(exc).__name__}") from exc
        except (httpx.ReadError, httpx.WriteError) as exc:
            raise SourceError("connection", f"connection broke: {exc or type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise SourceError("http", f"{type(exc).__name__}: {exc}") from exc
        except httpx.InvalidURL as exc:  # httpx read a redirect's Location it cannot follow (data:, javascript:)
            raise SourceError("blocked", "refused redirect to a URL without a host: only http and https are "
                                         "fetched") from exc

    async def _read_capped(self, response: httpx.Response) -> bytes:
        """The body, decompressed here a piece at a time (not by httpx, which expands a whole network chunk at
        once), so BRIEFBOT_MAX_BODY_BYTES caps what is held, compressed or not."""
        cap = self.settings.briefbot_max_body_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise SourceError("too_large", f"body of {int(declared):,} bytes is over the {cap:,}-byte limit")
        decoder = BodyDecoder(response.headers.get("content-encoding", ""))
        pieces: list[bytes] = []
        received = size = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > cap:  # also ends an endless stream of empty gzip members, which decodes to nothing
                raise SourceError("too_large", f"body grew past the {cap:,}-byte limit; stopped reading")
            for piece in decoder.decode(chunk):
                size += len(piece)
                if size > cap:
                    raise expands_past(cap) if decoder.compressed else SourceError(
                        "too_large", f"body grew past the {cap:,}-byte limit; stopped reading")
                pieces.append(piece)
        for piece in decoder.finish():
            size += len(piece)
            if size > cap:
                raise expands_past(cap)
            pieces.append(piece)
        return b"".join(pieces)


def expands_past(cap: int) -> SourceError:
    limit = f"{cap / 1_048_576:.3g} MB" if cap >= 1_048_576 else f"{cap:,} bytes"
    return SourceError("too_large", f"the response expands past {limit} when decompressed; stopped "
                                    "(BRIEFBOT_MAX_BODY_BYTES is the limit)")


def http_error(response: httpx.Response, longest_wait: float = LONGEST_RETRY_AFTER) -> SourceError:
    status = response.status_code
    reason = response.reason_phrase or ""
    retry_after = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC), longest_wait)
    kind = "http_5xx" if status >= 500 else "http_4xx"
    hint = {401: " (the source needs a login)", 403: " (the server refuses us)", 404: " (no such feed or board)",
            410: " (gone for good)", 429: " (rate-limited)"}.get(status, "")
    return SourceError(kind, f"HTTP {status} {reason}{hint}".strip(), retry_after=retry_after, status=status)


_SECONDS = re.compile(r"[0-9]+")  # ASCII digits only: str.isdigit() also says yes to "²", which float() refuses


def parse_retry_after(value: str | None, now: datetime, longest: float = LONGEST_RETRY_AFTER) -> float | None:
    """Retry-After as seconds from now: either a number of seconds or an HTTP date; at most `longest` seconds.
    Anything else (a superscript digit, a year 9999 date, garbage) is None, never an exception."""
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        seconds = float(value) if len(value) < 20 else float("inf")  # 30 nines: "a very long time"
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, OverflowError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        try:
            seconds = max(0.0, (when - now).total_seconds())
        except OverflowError:
            seconds = float("inf")
    return min(seconds, longest)


def _is_tls(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "SSL" in type(seen).__name__ or "CERTIFICATE" in str(seen).upper():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, checking the address each new connection reached before a byte of the
    request is written: a DNS answer that changed between `check_url` and the connection (DNS rebinding)
    never gets a request to an internal address."""

    def __init__(self, settings: Settings):
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = settings.briefbot_allow_private_urls
        self._allowed = settings.allowed_networks()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout=timeout, local_address=local_address,
                                               socket_options=socket_options)
        peer = stream.get_extra_info("server_addr")
        try:
            check_peer(peer[0] if peer else None, host, allow_private=self._allow_private, allowed=self._allowed)
        except SourceError:
            await stream.aclose()
            raise
        return stream

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise SourceError("blocked", "refused a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def build_fetcher(settings: Settings, resolver: Resolver = system_resolver) -> Fetcher:
    """The one place the HTTP client is configured."""
    limits = httpx.Limits(max_connections=settings.briefbot_concurrency, max_keepalive_connections=20)
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    # httpx has no setting for the network backend: its transport's pool is rebuilt with the guarded one, with
    # the same limits and TLS defaults (tests/test_security_ssrf.py fails if the guard is ever bypassed).
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(), max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
        network_backend=GuardedBackend(settings))
    client = httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,
        timeout=httpx.Timeout(settings.briefbot_read_timeout, connect=settings.briefbot_connect_timeout),
        headers={"User-Agent": settings.briefbot_user_agent, "Accept-Encoding": "gzip, deflate"},
        trust_env=False,
    )
    return Fetcher(settings, client, resolver)
