"""Hostile sources against the fetcher and `sources add` (issue 11, items 5, 6, 11, 12 and 13).

Every attack runs over a real connection to a server on 127.0.0.1 that the test starts: pages whose feed links
point back at themselves or list thousands of feeds (the requests are counted), compression bombs generated as
they are sent (1 GiB of zeros, never held whole), metadata addresses with internal URLs allowed, JSON that is not
a JSON Feed, and Retry-After values that are not numbers. Each test asserts what a person sees (one line) and
what it cost (requests, memory).
"""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import socket
import struct
import threading
import tracemalloc
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.core.schedule import LONGEST_WAIT, next_poll_at
from bot.demo.server import LocalServer, Route
from bot.fetch.decode import BodyDecoder
from bot.fetch.guard import check_peer, check_url, system_resolver
from bot.fetch.http import FetchResult, build_fetcher
from bot.ingest.add import MAX_FEED_CANDIDATES, Added, add_by_spec
from bot.settings import Settings
from bot.sources.base import SourceError, SpecError
from bot.sources.registry import kind_of_json, resolve_spec
from tests.conftest import make_settings
from tests.feeds import numbered, rss

MiB = 1 << 20
BOARDS = Path(__file__).parent / "fixtures" / "boards"


# ---- helpers -----------------------------------------------------------------------------------------------------


def fetch(url: str, **overrides: Any) -> FetchResult:
    settings = make_settings("sqlite://", **overrides)

    async def run() -> FetchResult:
        fetcher = build_fetcher(settings)
        try:
            return await fetcher.fetch(url)
        finally:
            await fetcher.aclose()

    return asyncio.run(run())


def fetch_error(url: str, **overrides: Any) -> SourceError:
    with pytest.raises(SourceError) as info:
        fetch(url, **overrides)
    return info.value


def add(spec: str, settings: Settings, engine: Engine, clock: Callable[[], datetime], kind: str | None = None) -> Added:
    async def run() -> Added:
        fetcher = build_fetcher(settings)
        try:
            return await add_by_spec(spec=spec, kind=kind, team_id="T_HOSTILE", channel_id=None, settings=settings,
                                     engine=engine, fetcher=fetcher, clock=clock)
        finally:
            await fetcher.aclose()

    return asyncio.run(run())


def add_refused(spec: str, settings: Settings, engine: Engine, clock: Callable[[], datetime]) -> str:
    """`sources add SPEC` must fail with a SpecError (the CLI prints it as one line), nothing else."""
    with pytest.raises(SpecError) as info:
        add(spec, settings, engine, clock)
    message = str(info.value)
    assert message and "\n" not in message and "Traceback" not in message, message
    return message


def page(*hrefs: str, link_type: str = "application/rss+xml") -> Route:
    links = "".join(f'<link rel="alternate" type="{link_type}" href="{h}">' for h in hrefs)
    return Route(body=f"<!doctype html><html><head>{links}</head><body>hi</body></html>".encode(),
                 content_type="text/html; charset=utf-8")


# ---- item 5: feed autodiscovery is bounded -------------------------------------------------------------------------


def test_a_page_whose_feed_link_is_itself_is_fetched_once(
        server: LocalServer, settings: Settings, engine: Engine, clock: Any) -> None:
    """Was: 954 fetches and a RecursionError. Every spelling of the page's own URL is the page."""
    self_url = server.url("/self")
    server.route("/self", page("/self", "", "#feed", "/self?utm_source=x", self_url, f"//127.0.0.1:{server.port}/self",
                               "./self"))
    message = add_refused(self_url, settings, engine, clock)
    assert "point back to the page itself" in message
    assert server.hits["/self"] == 1


def test_pages_that_link_to_each_other_are_followed_one_level(
        server: LocalServer, settings: Settings, engine: Engine, clock: Any) -> None:
    server.route("/a", page("/b"))
    server.route("/b", page("/a", "/c"))
    server.route("/c", Route(body=rss(numbered(1), title="Too Deep")))
    message = add_refused(server.url("/a"), settings, engine, clock)
    assert "1 feed link(s) tried" in message
    assert (server.hits["/a"], server.hits["/b"], server.hits["/c"]) == (1, 1, 0)


def test_a_page_with_two_thousand_feed_links_costs_a_handful_of_fetches(
        server: LocalServer, settings: Settings, engine: Engine, clock: Any) -> None:
    """Was: 2,000 fetches. Now the page and at most MAX_FEED_CANDIDATES links, then a plain refusal."""
    server.route("/many", page(*(f"/gone/{n}" for n in range(2000))))
    message = add_refused(server.url("/many"), settings, engine, clock)
    assert f"{MAX_FEED_CANDIDATES} feed link(s) tried" in message
    assert len(server.requests) == 1 + MAX_FEED_CANDIDATES == 6


def test_the_same_link_written_two_thousand_ways_is_fetched_once(
        server: LocalServer, settings: Settings, engine: Engine, clock: Any) -> None:
    """Tracking parameters and fragments do not make a URL new: the (missing) feed is asked for once."""
    server.route("/dup", page(*(f"/feed.xml?utm_source={n}#x{n}" for n in range(2000))))
    assert "1 feed link(s) tried" in add_refused(server.url("/dup"), settings, engine, clock)
    assert server.hits["/feed.xml"] == 1 and len(server.requests) == 2


def test_the_first_feed_among_the_candidates_is_taken_and_none_after_it_fetched(
        server: LocalServer, settings: Settings, engine: Engine, clock: Any) -> None:
    server.route("/mixed", page("/missing", "/other-page", "/not-a-feed.json", "/feed.xml", "/never.xml"))
    server.route("/other-page", page("/deeper.xml"))
    server.route("/not-a-feed.json", Route(body=b'{"hello": "world"}', content_type="application/json"))
    server.route("/feed.xml", Route(body=rss(numbered(1), title="Found It")))
    added = add(server.url("/mixed"), settings, engine, clock)
    assert added.source.title == "Found It" and "feed found on the page" in added.how
    assert server.hits["/never.xml"] == 0 and server.hits["/deeper.xml"] == 0
    assert len(server.requests) == 5  # the page and four candidates


def test_a_feed_linked_after_the_candidate_limit_is_not_fetched(
        server: LocalServer, settings: Settings, engine: Engine, clock: Any) -> None:
    server.route("/late", page(*(f"/junk/{n}" for n in range(MAX_FEED_CANDIDATES)), "/feed.xml"))
    server.route("/feed.xml", Route(body=rss(numbered(1), title="Too Late")))
    add_refused(server.url("/late"), settings, engine, clock)
    assert server.hits["/feed.xml"] == 0 and len(server.requests) == 1 + MAX_FEED_CANDIDATES


# ---- item 6: decompression is capped while decompressing ------------------------------------------------------------


def _bomb_stream(wbits: int, megabytes: int) -> Iterator[bytes]:
    """`megabytes` MiB of zeros compressed (gzip for wbits 31, zlib for 15, raw deflate for -15), made as it is
    sent: each MiB is one full-flushed deflate segment, so one segment serves for all of them."""
    zeros = bytes(MiB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    yield compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    segment = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc, adler = zlib.crc32(zeros), zlib.adler32(zeros)
    for _ in range(megabytes - 1):
        yield segment
        crc, adler = zlib.crc32(zeros, crc), zlib.adler32(zeros, adler)
    final_block = b"\x03\x00"  # an empty final block with fixed Huffman codes
    if wbits > 15:
        yield final_block + struct.pack("<II", crc, (megabytes * MiB) & 0xFFFFFFFF)
    elif wbits > 0:
        yield final_block + struct.pack(">I", adler)
    else:
        yield final_block


def _gzip_members(megabytes: int) -> Iterator[bytes]:
    member = gzip.compress(bytes(MiB), 9)  # ~1 KB; RFC 1952 lets members follow one another
    for _ in range(megabytes):
        yield member


def _nested(megabytes: int) -> Iterator[bytes]:
    """gzip of a gzip bomb (Content-Encoding: gzip, gzip): the outer layer expands to a small inner bomb."""
    outer = zlib.compressobj(9, zlib.DEFLATED, 31)
    for chunk in _bomb_stream(31, megabytes):
        yield outer.compress(chunk) + outer.flush(zlib.Z_SYNC_FLUSH)  # sent as made, not when zlib's buffer fills
    yield outer.flush()


def _empty_members() -> Iterator[bytes]:
    member = gzip.compress(b"")  # 20 bytes that decode to nothing, forever
    while True:
        yield member * 512


BOMBS: dict[str, tuple[str, Callable[[], Iterator[bytes]]]] = {
    "/gzip": ("gzip", lambda: _bomb_stream(31, 1024)),
    "/x-gzip": ("x-gzip", lambda: _bomb_stream(31, 1024)),
    "/deflate": ("deflate", lambda: _bomb_stream(15, 1024)),
    "/raw-deflate": ("deflate", lambda: _bomb_stream(-15, 1024)),
    "/members": ("gzip", lambda: _gzip_members(1024)),
    "/nested": ("gzip, gzip", lambda: _nested(1024)),
    "/empty-members": ("gzip", _empty_members),
}


class BombServer:
    """Serves BOMBS as fast as the client reads, with no Content-Length (so only decoding can tell the size)."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()  # compressed bytes written per path
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                encoding, make = BOMBS[self.path]
                self.send_response(200)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Encoding", encoding)
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                try:
                    for chunk in make():
                        self.wfile.write(chunk)
                        outer.sent[self.path] += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{path}"

    def __enter__(self) -> BombServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(scope="module")
def bombs() -> Iterator[BombServer]:
    with BombServer() as server:
        yield server


SLOW_MACHINE = {"briefbot_read_timeout": 15.0, "briefbot_fetch_deadline": 30.0}  # shared CPUs: fail on size only


def peak_memory_of(action: Callable[[], Any]) -> tuple[Any, int]:
    """What `action` raised (or returned), and the peak of Python allocations while it ran, in bytes."""
    tracemalloc.start()
    try:
        try:
            outcome = action()
        except SourceError as exc:
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("path", ["/gzip", "/x-gzip", "/deflate", "/raw-deflate", "/members", "/nested"])
def test_a_compression_bomb_fails_that_fetch_with_bounded_memory(bombs: BombServer, path: str) -> None:
    """Was: one 64 KB gzip chunk expanded to 67 MB in one call before the cap was checked (peak 70+ MB for this
    fetch). Now the cap holds while decoding: the fetch fails, and memory stays near the cap."""
    cap = MiB
    error, peak = peak_memory_of(lambda: fetch(bombs.url(path), briefbot_max_body_bytes=cap, **SLOW_MACHINE))
    assert isinstance(error, SourceError), f"the bomb was accepted: {error!r}"
    assert error.kind == "too_large" and str(error).startswith("the response expands past 1 MB when decompressed")
    assert peak < 12 * MiB, f"{path}: peak {peak / MiB:.1f} MiB"
    assert bombs.sent[path] < 64 * MiB  # and the reading stopped: nowhere near the 1 GiB the server offered


def test_an_endless_run_of_empty_gzip_members_is_cut_off_by_the_wire_cap(bombs: BombServer) -> None:
    error = fetch_error(bombs.url("/empty-members"), briefbot_max_body_bytes=64 * 1024, **SLOW_MACHINE)
    assert error.kind == "too_large" and "grew past the 65,536-byte limit" in str(error)


def test_the_default_cap_names_megabytes(bombs: BombServer) -> None:
    error = fetch_error(bombs.url("/gzip"), **SLOW_MACHINE)
    assert error.kind == "too_large" and "expands past 10 MB" in str(error)


@pytest.mark.parametrize(("encoding", "body"), [
    ("gzip", gzip.compress(b"<rss>" + b"x" * 300_000 + b"</rss>")),
    ("gzip", gzip.compress(b"<rss>first member ") + gzip.compress(b"second member</rss>")),
    ("gzip", gzip.compress(bytes(MiB)) + gzip.compress(b"\1" * MiB) + gzip.compress(bytes(MiB))),
    ("gzip", gzip.compress(b"<rss>padded</rss>") + b"\0" * 16),
    ("deflate", zlib.compress(b"<rss>zlib-wrapped</rss>")),
    ("deflate", zlib.compress(b"<rss>raw deflate</rss>")[2:-4]),
    ("gzip, gzip", gzip.compress(gzip.compress(b"<rss>twice</rss>"))),
    ("utf-8", b"<rss>a server's odd Content-Encoding is ignored</rss>"),
], ids=["large", "two members", "3 MiB in members", "zero padding", "zlib", "raw deflate", "nested", "unknown token"])
def test_control_compressed_bodies_within_the_cap_decode_exactly(server: LocalServer, encoding: str,
                                                                  body: bytes) -> None:
    server.route("/c", Route(body=body, headers={"Content-Encoding": encoding}))
    expected = body
    for name in reversed([e.strip() for e in encoding.split(",")]):
        if name == "gzip":
            expected = gzip.decompress(expected)  # every member
        elif name == "deflate":
            try:
                expected = zlib.decompress(expected)
            except zlib.error:
                expected = zlib.decompress(expected, -15)
    assert fetch(server.url("/c"), briefbot_max_body_bytes=4 * MiB).body == expected


@pytest.mark.parametrize("body", [
    gzip.compress(b"<rss>x</rss>") + b"\r\n",
    gzip.compress(b"<rss>x</rss>") + b"garbage",
    gzip.compress(b"<rss>x</rss>") + b"\0" * 8 + b"\n",
    gzip.compress(b"<rss>x") + gzip.compress(b"</rss>") + b"\n",
    gzip.compress(b"<rss>x</rss>") + b"\n" + gzip.compress(b"not a member: after junk, nothing is read"),
    gzip.compress(b"<rss>x</rss>") + b"\x1f",
], ids=["CRLF", "garbage", "zeros then newline", "two members then newline", "junk then a member", "half a magic"])
def test_bytes_after_the_last_gzip_member_are_ignored(server: LocalServer, body: bytes) -> None:
    """Was: a newline after the gzip output (a PHP script's or a CDN's) failed the fetch with "incorrect header
    check", where httpx's decoder and browsers read the feed. Now only a new gzip header starts another member."""
    server.route("/trailing", Route(body=body, headers={"Content-Encoding": "gzip"}))
    assert fetch(server.url("/trailing")).body == b"<rss>x</rss>"


def test_a_gzip_member_split_from_its_magic_across_chunks_is_still_read() -> None:
    """The next member's first byte may end one network chunk and its second begin the next."""
    first, second = gzip.compress(b"<rss>x"), gzip.compress(b"</rss>")
    decoder = BodyDecoder("gzip")
    chunks = [first + second[:1], second[1:], b"\r\n"]
    assert b"".join(piece for chunk in chunks for piece in decoder.decode(chunk)) + b"".join(decoder.finish()) \
        == b"<rss>x</rss>"


@pytest.mark.parametrize(("encoding", "says"), [
    ("br", "compressed with br, which briefbot did not ask for"),
    ("gzip, gzip, gzip, gzip", "compressed 4 times over"),
])
def test_encodings_that_cannot_be_capped_are_refused(server: LocalServer, encoding: str, says: str) -> None:
    server.route("/e", Route(body=b"\x1b\x00" * 10, headers={"Content-Encoding": encoding}))
    error = fetch_error(server.url("/e"))
    assert error.kind == "encoding" and says in str(error)


def test_corrupt_gzip_is_an_encoding_error(server: LocalServer) -> None:
    server.route("/bad", Route(body=b"\x1f\x8b\x08\x00garbage-not-deflate" * 4, headers={"Content-Encoding": "gzip"}))
    error = fetch_error(server.url("/bad"))
    assert error.kind == "encoding" and "could not be decompressed (gzip)" in str(error)


# ---- item 11: metadata addresses stay refused with BRIEFBOT_ALLOW_PRIVATE_URLS=true ---------------------------------

METADATA_NAMES = {"metadata.google.internal": ["169.254.169.254"], "ecs.local.invalid": ["169.254.170.2"],
                  "alibaba.invalid": ["100.100.100.200"], "v6meta.invalid": ["fd00:ec2::254"],
                  "mapped.invalid": ["::ffff:169.254.169.254"], "mixed.invalid": ["10.0.0.8", "169.254.169.254"]}


async def metadata_resolver(host: str, port: int) -> list[str]:
    if host in METADATA_NAMES:
        return METADATA_NAMES[host]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise socket.gaierror(socket.EAI_NONAME, f"the test resolver does not look up {host}") from None
    return await system_resolver(host, port)


METADATA_URLS = [
    pytest.param("http://169.254.169.254/latest/meta-data/", "cloud metadata", id="169.254.169.254"),
    pytest.param("http://169.254.170.2/v2/credentials", "cloud metadata", id="ECS 169.254.170.2"),
    pytest.param("http://100.100.100.200/latest/meta-data/", "cloud metadata", id="Alibaba 100.100.100.200"),
    pytest.param("http://[fd00:ec2::254]/latest/meta-data/", "cloud metadata", id="AWS IPv6 fd00:ec2::254"),
    pytest.param("http://169.254.0.23/meta-data/", "cloud metadata", id="Tencent 169.254.0.23"),
    pytest.param("http://[fd20:ce::254]/computeMetadata/v1/", "cloud metadata", id="GCP IPv6 fd20:ce::254"),
    pytest.param("http://[::ffff:169.254.0.23]/", "cloud metadata", id="IPv4-mapped Tencent"),
    pytest.param("http://[::ffff:169.254.169.254]/", "cloud metadata", id="IPv4-mapped"),
    pytest.param("http://[::ffff:a9fe:a9fe]/", "cloud metadata", id="IPv4-mapped hex"),
    pytest.param("http://[64:ff9b::a9fe:a9fe]/", "cloud metadata", id="NAT64"),
    pytest.param("http://[2002:a9fe:a9fe::]/", "cloud metadata", id="6to4"),
    pytest.param("http://[::169.254.169.254]/", "cloud metadata", id="IPv4-compatible"),
    pytest.param("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata", id="GCE name"),
    pytest.param("http://mapped.invalid/", "cloud metadata", id="name -> ::ffff:169.254.169.254"),
    pytest.param("http://mixed.invalid/", "cloud metadata", id="name -> private and metadata"),
    pytest.param("http://2852039166/latest/meta-data/", "plain dotted form", id="decimal 2852039166"),
    pytest.param("http://0xa9fea9fe/latest/meta-data/", "plain dotted form", id="hex 0xa9fea9fe"),
    pytest.param("http://0251.0376.0251.0376/latest/meta-data/", "plain dotted form", id="octal"),
    pytest.param("http://0xa9.0xfe.0xa9.0xfe/", "plain dotted form", id="dotted hex"),
    pytest.param("http://169.254.43518/", "plain dotted form", id="169.254.43518"),
    pytest.param("http://169.254.169.254./", "plain dotted form", id="trailing dot"),
]


@pytest.mark.parametrize(("url", "says"), METADATA_URLS)
def test_metadata_addresses_are_refused_even_with_private_urls_allowed(url: str, says: str) -> None:
    with pytest.raises(SourceError) as info:
        asyncio.run(check_url(url, allow_private=True, resolver=metadata_resolver,
                              allowed=[ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]))
    assert info.value.kind == "blocked" and says in str(info.value), str(info.value)
    if says == "cloud metadata":
        assert "BRIEFBOT_ALLOWED_NETWORKS" in str(info.value)


def test_a_metadata_address_is_fetched_only_when_listed_on_purpose() -> None:
    def allowed(*networks: str) -> bool:
        try:
            asyncio.run(check_url("http://169.254.169.254/", allow_private=True, resolver=metadata_resolver,
                                  allowed=[ipaddress.ip_network(n) for n in networks]))
        except SourceError:
            return False
        return True

    assert allowed("169.254.169.254/32") and allowed("169.254.169.0/24")
    assert not allowed() and not allowed("0.0.0.0/0") and not allowed("128.0.0.0/1") and not allowed("10.0.0.0/8")
    # Was: the whole link-local /16, which people allow for ordinary link-local devices, counted as naming it.
    assert not allowed("169.254.0.0/16") and not allowed("169.254.128.0/17")
    # The blanket switch still opens ordinary internal addresses: it is only metadata that stays shut.
    assert asyncio.run(check_url("http://10.0.0.1/", allow_private=True, resolver=metadata_resolver)) == ["10.0.0.1"]


def test_a_connection_that_lands_on_a_metadata_address_is_refused_with_private_urls_allowed() -> None:
    with pytest.raises(SourceError) as info:
        check_peer("169.254.169.254", "rebound.example", allow_private=True)
    assert "the connection went to 169.254.169.254, a cloud metadata address" in str(info.value)
    check_peer("10.0.0.1", "intranet.example", allow_private=True)  # control: allowed by the switch


def test_sources_add_of_a_metadata_url_is_refused_with_private_urls_allowed(
        settings: Settings, engine: Engine, clock: Any) -> None:
    assert settings.briefbot_allow_private_urls
    message = add_refused("http://169.254.169.254/latest/meta-data/iam/", settings, engine, clock)
    assert message.startswith("could not fetch") and "a cloud metadata address" in message
    assert "--kind" not in message  # adding it without a look would not make it fetchable


def test_the_ordinary_link_local_network_allowed_does_not_open_any_metadata_address() -> None:
    link_local = [ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fd00::/8"),
                  ipaddress.ip_network("fd20:ce::/64")]
    for url in ("http://169.254.169.254/", "http://169.254.0.23/", "http://169.254.170.2/", "http://[fd20:ce::254]/"):
        with pytest.raises(SourceError) as info:
            asyncio.run(check_url(url, allow_private=True, resolver=metadata_resolver, allowed=link_local[:2]))
        assert "a cloud metadata address" in str(info.value), url
    # An ordinary link-local device in that network is fetched; and a /64 still names the GCP IPv6 address.
    assert asyncio.run(check_url("http://169.254.1.7/", allow_private=False, resolver=metadata_resolver,
                                 allowed=link_local)) == ["169.254.1.7"]
    assert asyncio.run(check_url("http://[fd20:ce::254]/", allow_private=True, resolver=metadata_resolver,
                                 allowed=link_local[2:])) == ["fd20:ce::254"]


@pytest.mark.parametrize("url", ["http://[::ffff:127.0.0.1]:8080/", "http://[::ffff:7f00:1]:8080/",
                                 "http://[2002:7f00:1::]:8080/"])
def test_the_hint_for_an_address_carrying_ipv4_names_that_ipv4_address(url: str) -> None:
    """Was: `::ffff:127.0.0.1/128`, which can never match: the allowed check runs on the IPv4 address inside."""
    with pytest.raises(SourceError) as info:
        asyncio.run(check_url(url, allow_private=False, resolver=metadata_resolver))
    assert "set BRIEFBOT_ALLOWED_NETWORKS=127.0.0.1/32" in str(info.value), str(info.value)
    allowed = [ipaddress.ip_network("127.0.0.1/32")]  # and that advice works
    assert asyncio.run(check_url(url, allow_private=False, resolver=metadata_resolver, allowed=allowed))


def test_the_refusal_points_to_allowing_one_address(server: LocalServer) -> None:
    server.route("/feed", Route(body=rss(numbered(1))))
    error = fetch_error(server.url("/feed"), briefbot_allow_private_urls=False)
    assert "set BRIEFBOT_ALLOWED_NETWORKS=127.0.0.1/32" in str(error)
    assert fetch(server.url("/feed"), briefbot_allow_private_urls=False,
                 briefbot_allowed_networks="127.0.0.1/32").status == 200  # and that advice works


# ---- item 13: the README's board forms without a scheme ------------------------------------------------------------

SCHEMELESS = [
    ("boards.greenhouse.io/acme", "greenhouse", "acme"),
    ("job-boards.greenhouse.io/acme", "greenhouse", "acme"),
    ("jobs.lever.co/acme", "lever", "acme"),
    ("jobs.ashbyhq.com/acme", "ashby", "acme"),
    ("acme.workable.com", "workable", "acme"),
    ("apply.workable.com/acme", "workable", "acme"),
    ("jobs.smartrecruiters.com/acme", "smartrecruiters", "acme"),
    ("www.boards.greenhouse.io/acme", "greenhouse", "acme"),
    ("www.jobs.lever.co/acme/0a1b2c", "lever", "acme"),
    ("www.acme.workable.com", "workable", "acme"),
    ("https://www.acme.workable.com/", "workable", "acme"),
    ("https://www.jobs.ashbyhq.com/acme", "ashby", "acme"),
    ("  boards.greenhouse.io/acme/jobs/123  ", "greenhouse", "acme"),
]


@pytest.mark.parametrize(("spec", "kind", "board"), SCHEMELESS)
def test_board_forms_without_a_scheme_resolve(spec: str, kind: str, board: str) -> None:
    resolved = resolve_spec(spec, make_settings("sqlite://"))
    assert resolved.kind == kind and board in resolved.locator and "www" not in resolved.locator


@pytest.mark.parametrize(("spec", "says"), [
    ("example.com/feed.xml", "has no scheme; write it as a URL: https://example.com/feed.xml"),
    ("acme", "neither a URL nor kind:identifier"),
    ("http://[::1", "is not a valid URL (Invalid IPv6 URL)"),
    ("https://[::1/feed", "is not a valid URL"),
    ("http://example.com:99999/feed", "has a bad port"),
    ("feed:http://[::1", "only http and https"),
])
def test_specs_that_cannot_be_urls_say_why(spec: str, says: str) -> None:
    with pytest.raises(SpecError) as info:
        resolve_spec(spec, make_settings("sqlite://"))
    assert says in str(info.value)


def test_a_schemeless_board_is_added_without_the_network(settings: Settings, engine: Engine, clock: Any) -> None:
    added = add("boards.greenhouse.io/acme", settings, engine, clock)
    assert added.source.kind == "greenhouse" and added.source.locator.startswith("https://boards-api.greenhouse.io/")


# ---- item 12: sources add says one line for what a URL serves ------------------------------------------------------


def test_an_unclosed_ipv6_bracket_is_one_line(settings: Settings, engine: Engine, clock: Any) -> None:
    assert "is not a valid URL" in add_refused("http://[::1", settings, engine, clock)


@pytest.mark.parametrize(("fixture", "kind"), [
    ("greenhouse_anduril.json", "greenhouse"), ("lever_palantir.json", "lever"), ("ashby_elevenlabs.json", "ashby"),
    ("smartrecruiters_visa_page1.json", "smartrecruiters"), ("workable_keywords.json", "workable"),
])
def test_a_board_api_response_is_recognised_by_its_shape(
        server: LocalServer, settings: Settings, engine: Engine, clock: Any, fixture: str, kind: str) -> None:
    server.route("/api/jobs", Route(body=(BOARDS / fixture).read_bytes(), content_type="application/json"))
    added = add(server.url("/api/jobs"), settings, engine, clock)
    assert added.source.kind == kind and added.source.locator == server.url("/api/jobs")
    assert "recognised by its shape" in added.how


def test_shapes_are_not_mistaken_for_boards() -> None:
    shapes: list[Any] = [{"jobs": [{"name": "x"}]}, {"content": "text"}, [1, 2], [{"id": 1}], {"items": []}, "x", None]
    for data in shapes:
        assert kind_of_json(data) is None, data
    assert kind_of_json({"jobs": [], "meta": {"total": 0}}) == "greenhouse"  # an empty board still has its shape


@pytest.mark.parametrize(("body", "says"), [
    (b'{"hello": "world"}', "neither a JSON Feed nor a job board response"),
    (b'[{"id": 1}]', "add it with --kind and one of: greenhouse, lever, ashby, smartrecruiters, workable"),
    (b'{"items": [', "serves JSON that cannot be read: malformed JSON"),
    (b"{" + b"\xff\xfe" * 10, "serves JSON that cannot be read: response is not UTF-8"),
    (b"[" * 200_000, "JSON nested too deeply"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": 7}', "cannot be read"),
    (b'{"jobs": [{"absolute_url": "x", "title": "t"}], "meta": {}', "malformed JSON"),
])
def test_json_that_is_not_a_feed_is_one_line(server: LocalServer, settings: Settings, engine: Engine, clock: Any,
                                             body: bytes, says: str) -> None:
    server.route("/data.json", Route(body=body, content_type="application/json"))
    assert says in add_refused(server.url("/data.json"), settings, engine, clock)


RETRY_AFTER = [
    pytest.param("120", 120.0, id="120 (control)"),
    pytest.param("²", None, id="superscript two"),
    pytest.param("9" * 30, 3600.0, id="30 nines"),
    pytest.param("9" * 5000, 3600.0, id="5000 nines"),
    pytest.param("Fri, 31 Dec 9999 23:59:59 GMT", 3600.0, id="year 9999"),
    pytest.param("Fri, 31 Dec 99999 23:59:59 GMT", None, id="year 99999"),
    pytest.param("-5", None, id="negative"),
    pytest.param("1e999", None, id="float overflow"),
]


@pytest.mark.parametrize(("value", "seconds"), RETRY_AFTER)
def test_retry_after_never_raises_and_is_capped_to_the_max_backoff(
        server: LocalServer, value: str, seconds: float | None) -> None:
    server.route("/busy", Route(status=429, headers={"Retry-After": value}))
    error = fetch_error(server.url("/busy"), briefbot_max_backoff=3600)
    assert error.kind == "http_4xx" and error.status == 429 and error.retry_after == seconds


def test_sources_add_of_a_rate_limited_url_with_a_garbled_retry_after_is_one_line(
        server: LocalServer, settings: Settings, engine: Engine, clock: Any) -> None:
    server.route("/busy", Route(status=429, headers={"Retry-After": "²"}))
    assert "HTTP 429" in add_refused(server.url("/busy"), settings, engine, clock)


NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("retry_after", [float("inf"), float("nan"), 1e300, -5.0, 10.0**30])
def test_next_due_holds_any_retry_after_to_the_max_backoff(retry_after: float) -> None:
    due = next_poll_at(now=NOW, interval=900, failures=1, max_backoff=3600, retry_after=retry_after, source_id=7)
    assert NOW + timedelta(seconds=60) <= due <= NOW + timedelta(seconds=3600)


def test_next_due_survives_absurd_settings_and_failure_counts() -> None:
    longest = NOW + timedelta(seconds=LONGEST_WAIT)
    assert next_poll_at(now=NOW, interval=10**15, failures=0, max_backoff=3600) == longest
    assert next_poll_at(now=NOW, interval=900, failures=10**9, max_backoff=10**15) == longest
    assert next_poll_at(now=NOW, interval=900, failures=3, max_backoff=10**15, retry_after=float("inf")) == longest
    near_the_end = datetime(9999, 12, 31, tzinfo=UTC)
    assert next_poll_at(now=near_the_end, interval=900, failures=0, max_backoff=3600).year == 9999

