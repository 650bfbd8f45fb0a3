"""Security: "Server-side request forgery: loopback, private ranges, link-local and metadata addresses, IPv6 forms,
decimal and octal IP spellings, DNS names that resolve to private addresses, redirects to any of these, and non-http
schemes are all refused."

With BRIEFBOT_ALLOW_PRIVATE_URLS off, through the real fetcher (bot/fetch/http.py with its guard, bot/fetch/guard.py)
and through the user-facing ways in (`briefbot sources add`, `briefbot poll`, `/brief follow`). An "internal" server
listens on 127.0.0.1 and counts every request: a refusal must say why, and nothing may reach it. Redirects start at
a "public" server on 127.0.0.2, allowed by BRIEFBOT_ALLOWED_NETWORKS as the first hop only.

No test touches the internet: targets are IP literals, `localhost`, names under `.invalid`, or names answered by the
test's resolver (the fetcher's resolver hook), which refuses to look anything else up.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import socket
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cli import main
from bot.context import Context
from bot.demo.server import LocalServer, Route
from bot.fetch.guard import Resolver, check_url, system_resolver
from bot.fetch.http import FetchResult, build_fetcher
from bot.settings import Settings
from bot.sources.base import SourceError
from bot.storage.db import build_engine
from bot.storage.models import Source
from tests.conftest import SLACK_SECRET, context_for, make_settings, serving, wait_for
from tests.feeds import numbered, rss
from tests.slack_requests import command_body, sign
from tests.slack_server import SlackServer

FRONT_HOST = "127.0.0.2"  # the "public" first hop of a redirect
HINT = "BRIEFBOT_ALLOWED_NETWORKS"  # the refusal points to allowing one address, not the blanket switch
ODD = "plain dotted form"  # the guard's words for octal, hex, integer and short spellings of an IPv4 address
SCHEME = "only http and https"
_paths = itertools.count(1)

# What the test resolver answers (as a DNS server would); anything else that is not an IP literal or localhost is
# refused by it, so no test ever sends a DNS query off this machine.
NAMES: dict[str, list[str]] = {
    "metadata.google.internal": ["169.254.169.254"],  # what GCE's resolver answers for it
    "intranet.corp.invalid": ["10.1.2.3"],
    "router.home.invalid": ["192.168.1.1"],
    "nas.office.invalid": ["172.20.0.9"],
    "cgnat.isp.invalid": ["100.64.7.7"],
    "loopback.nip.invalid": ["127.0.0.1"],  # like 127.0.0.1.nip.io: a public name that points home
    "v6.corp.invalid": ["fd00::7"],
    "v6-link.corp.invalid": ["fe80::1"],
    "mapped.corp.invalid": ["::ffff:127.0.0.1"],
    "split.example.invalid": ["93.184.216.34", "10.0.0.7"],  # one public and one private answer
    "public.example.invalid": ["93.184.216.34"],  # only for the controls; never connected to
}


async def offline_resolver(host: str, port: int) -> list[str]:
    """The fetcher's resolver hook: the NAMES above; IP literals (and what IDNA turns into one) and localhost
    through the system resolver, which answers those without the network; anything else refused."""
    if host in NAMES:
        return NAMES[host]
    try:
        ascii_host = host.encode("idna").decode()
    except UnicodeError:
        ascii_host = host
    if ascii_host == "localhost" or _is_ip(ascii_host):
        return await system_resolver(host, port)
    raise socket.gaierror(socket.EAI_NONAME, f"the test resolver does not look up {host} (no real DNS in tests)")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


# ---- the targets: (URL with {port} for the internal server's port, what the refusal must say) -----------------------

LOOPBACK = [
    pytest.param("http://127.0.0.1:{port}/secret", "a loopback address", id="127.0.0.1"),
    pytest.param("http://127.0.0.2:{port}/secret", "a loopback address", id="127.0.0.2"),
    pytest.param("http://127.255.255.254:{port}/secret", "a loopback address", id="127.255.255.254"),
    pytest.param("http://localhost:{port}/secret", "a loopback address", id="localhost"),
    pytest.param("http://LOCALHOST:{port}/secret", "a loopback address", id="LOCALHOST"),
    pytest.param("HTTP://127.0.0.1:{port}/secret", "a loopback address", id="upper-case scheme"),
    pytest.param("http://user:pass@127.0.0.1:{port}/secret", "a loopback address", id="with user info"),
    pytest.param("http://0.0.0.0:{port}/secret", "a private address", id="0.0.0.0"),
    pytest.param("http://[::1]:{port}/secret", "a loopback address", id="[::1]"),
    pytest.param("http://[0:0:0:0:0:0:0:1]:{port}/secret", "a loopback address", id="[::1] long form"),
    pytest.param("http://[::]:{port}/secret", "a private address", id="[::]"),
]
SPELLINGS = [
    pytest.param("http://127.1:{port}/secret", ODD, id="127.1"),
    pytest.param("http://127.0.1:{port}/secret", ODD, id="127.0.1"),
    pytest.param("http://2130706433:{port}/secret", ODD, id="decimal 2130706433"),
    pytest.param("http://0177.0.0.1:{port}/secret", ODD, id="octal 0177.0.0.1"),
    pytest.param("http://017700000001:{port}/secret", ODD, id="octal 017700000001"),
    pytest.param("http://0x7f.0.0.1:{port}/secret", ODD, id="hex 0x7f.0.0.1"),
    pytest.param("http://0x7f000001:{port}/secret", ODD, id="hex 0x7f000001"),
    pytest.param("http://0x7f.1:{port}/secret", ODD, id="hex 0x7f.1"),
    pytest.param("http://127.000.000.001:{port}/secret", ODD, id="zero-padded 127.000.000.001"),
    pytest.param("http://127.0.0.1.:{port}/secret", ODD, id="trailing dot 127.0.0.1."),
    pytest.param("http://0:{port}/secret", ODD, id="0"),
    pytest.param("http://2852039166/latest/meta-data/", ODD, id="decimal 169.254.169.254"),
    pytest.param("http://0251.0376.0251.0376/latest/meta-data/", ODD, id="octal 169.254.169.254"),
    pytest.param("http://167772161/", ODD, id="decimal 10.0.0.1"),
    pytest.param("http://①②⑦.0.0.1:{port}/secret", "a loopback address", id="unicode digits"),
    pytest.param("http://127。0。0。1:{port}/secret", "a loopback address", id="ideographic full stops"),
]
PRIVATE = [
    pytest.param("http://10.0.0.1:{port}/", "a private address", id="10.0.0.1"),
    pytest.param("http://10.255.255.254:{port}/", "a private address", id="10.255.255.254"),
    pytest.param("http://172.16.0.1:{port}/", "a private address", id="172.16.0.1"),
    pytest.param("http://172.31.255.254:{port}/", "a private address", id="172.31.255.254"),
    pytest.param("http://192.168.0.1:{port}/", "a private address", id="192.168.0.1"),
    pytest.param("http://192.168.255.254:{port}/", "a private address", id="192.168.255.254"),
    pytest.param("http://100.64.0.1:{port}/", "a non-public address", id="CGNAT 100.64.0.1"),
    pytest.param("http://100.127.255.254:{port}/", "a non-public address", id="CGNAT 100.127.255.254"),
    pytest.param("http://198.18.0.1:{port}/", "a private address", id="benchmarking 198.18.0.1"),
    pytest.param("http://224.0.0.1:{port}/", "a reserved address", id="multicast 224.0.0.1"),
    pytest.param("http://255.255.255.255:{port}/", "a private address", id="broadcast"),
    pytest.param("http://169.254.0.1:{port}/", "a link-local address", id="link-local 169.254.0.1"),
    pytest.param("http://169.254.169.254/latest/meta-data/", "a cloud metadata address", id="metadata 169.254.169.254"),
    pytest.param("http://169.254.170.2/v2/credentials", "a cloud metadata address", id="metadata ECS 169.254.170.2"),
    pytest.param("http://100.100.100.200/latest/meta-data/", "a cloud metadata address", id="metadata Alibaba"),
    pytest.param("http://[fd00:ec2::254]/latest/meta-data/", "a cloud metadata address", id="metadata AWS IPv6"),
    pytest.param("http://[fe80::1]:{port}/", "a link-local address", id="[fe80::1]"),
    pytest.param("http://[fc00::1]:{port}/", "a private address", id="[fc00::1]"),
    pytest.param("http://[fd12:3456:789a::1]:{port}/", "a private address", id="[fd12:3456:789a::1]"),
]
MAPPED = [
    pytest.param("http://[::ffff:127.0.0.1]:{port}/secret", "a loopback address", id="[::ffff:127.0.0.1]"),
    pytest.param("http://[::ffff:7f00:1]:{port}/secret", "a loopback address", id="[::ffff:7f00:1]"),
    pytest.param("http://[0:0:0:0:0:ffff:127.0.0.1]:{port}/secret", "a loopback address", id="mapped long form"),
    pytest.param("http://[::ffff:10.0.0.1]:{port}/", "a private address", id="[::ffff:10.0.0.1]"),
    pytest.param("http://[::ffff:192.168.1.1]:{port}/", "a private address", id="[::ffff:192.168.1.1]"),
    pytest.param("http://[::ffff:169.254.169.254]/latest/meta-data/", "a cloud metadata address",
                 id="[::ffff:169.254.169.254]"),
    pytest.param("http://[::ffff:a9fe:a9fe]/latest/meta-data/", "a cloud metadata address", id="[::ffff:a9fe:a9fe]"),
    pytest.param("http://[::127.0.0.1]:{port}/secret", "a reserved address", id="IPv4-compatible [::127.0.0.1]"),
    pytest.param("http://[64:ff9b::a9fe:a9fe]/latest/meta-data/", "a cloud metadata address", id="NAT64 of metadata"),
]
NAMED = [
    pytest.param("http://metadata.google.internal/computeMetadata/v1/", "169.254.169.254, a cloud metadata address",
                 id="metadata.google.internal"),
    pytest.param("http://intranet.corp.invalid:{port}/", "10.1.2.3, a private address", id="name -> 10/8"),
    pytest.param("http://router.home.invalid:{port}/", "192.168.1.1, a private address", id="name -> 192.168/16"),
    pytest.param("http://nas.office.invalid:{port}/", "172.20.0.9, a private address", id="name -> 172.16/12"),
    pytest.param("http://cgnat.isp.invalid:{port}/", "100.64.7.7, a non-public address", id="name -> 100.64/10"),
    pytest.param("http://loopback.nip.invalid:{port}/secret", "127.0.0.1, a loopback address", id="name -> 127.0.0.1"),
    pytest.param("http://v6.corp.invalid:{port}/", "fd00::7, a private address", id="name -> fd00::7"),
    pytest.param("http://v6-link.corp.invalid:{port}/", "fe80::1, a link-local address", id="name -> fe80::1"),
    pytest.param("http://mapped.corp.invalid:{port}/secret", "::ffff:127.0.0.1, a loopback address",
                 id="name -> ::ffff:127.0.0.1"),
    pytest.param("http://split.example.invalid:{port}/", "10.0.0.7, a private address", id="name -> public and 10/8"),
]
ADDRESSES = LOOPBACK + SPELLINGS + PRIVATE + MAPPED + NAMED
# A redirect starts on 127.0.0.2, whose address is allowed for that hop: it cannot also be a target. A Location
# header is ASCII, so the Unicode spellings arrive in a redirect IDNA-encoded: as plain dotted addresses.
REDIRECT_TARGETS = [p for p in ADDRESSES if p.id != "127.0.0.2" and str(p.values[0]).isascii()]
BAD_PORT = pytest.param("http://127.0.0.1:99999/secret", "bad port", id="port 99999")

SCHEMES = [
    pytest.param("file:///etc/passwd", id="file:///etc/passwd"),
    pytest.param("file://localhost/etc/passwd", id="file://localhost"),
    pytest.param("ftp://127.0.0.1:{port}/secret", id="ftp"),
    pytest.param("gopher://127.0.0.1:{port}/_GET%20/secret%20HTTP/1.0%0d%0a%0d%0a", id="gopher"),
    pytest.param("dict://127.0.0.1:{port}/info", id="dict"),
    pytest.param("ldap://127.0.0.1:{port}/", id="ldap"),
    pytest.param("ws://127.0.0.1:{port}/secret", id="ws"),
    pytest.param("data:text/plain;base64,SGVsbG8=", id="data"),
    pytest.param("javascript:alert(document.domain)", id="javascript"),
]
REDIRECT_SCHEMES = SCHEMES


# ---- servers and the fetcher -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def internal() -> Iterator[LocalServer]:
    """The service SSRF would reach: answers anything, and counts it. Shared by the module's tests, which read its
    request count as a difference."""
    with LocalServer({"/secret": Route(body=b"internal only", content_type="text/plain"),
                      "/feed.xml": Route(body=rss(numbered(1), title="Internal Wire"))}) as server:
        yield server


@pytest.fixture(scope="module")
def front() -> Iterator[LocalServer]:
    """The "public" site whose redirects lead inside; it listens on 127.0.0.2, allowed as the first hop."""
    try:
        server = LocalServer(host=FRONT_HOST)
    except OSError as exc:  # 127.0.0.0/8 is all loopback on Linux; other systems may only have 127.0.0.1
        pytest.skip(f"cannot listen on {FRONT_HOST}: {exc}")
    with server:
        yield server


def at(url: str, internal: LocalServer) -> str:
    return url.replace("{port}", str(internal.port))


def redirecting(front: LocalServer, location: str, status: int = 302) -> str:
    """A fresh path on the front server that answers `status` with `location`; its URL."""
    path = f"/go/{next(_paths)}"
    route = Route(redirect=location) if status == 302 else Route(status=status, headers={"Location": location})
    front.route(path, route)
    return f"http://{FRONT_HOST}:{front.port}{path}"


def fetch(url: str, resolver: Resolver = offline_resolver, **overrides: Any) -> FetchResult:
    settings = make_settings("sqlite://", **{"briefbot_allow_private_urls": False, **overrides})

    async def run() -> FetchResult:
        fetcher = build_fetcher(settings, resolver)
        try:
            return await fetcher.fetch(url)
        finally:
            await fetcher.aclose()

    return asyncio.run(run())


def refusal(url: str, internal: LocalServer, **overrides: Any) -> SourceError:
    """The fetch of `url` must fail with a SourceError, and the internal server must not have been asked."""
    before = len(internal.requests)
    with pytest.raises(SourceError) as info:
        fetch(url, **overrides)
    assert len(internal.requests) == before, f"{url} reached the internal server: {internal.requests[before:]}"
    return info.value


def error_host(url: str) -> str:
    return url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]


def assert_says_why(error: SourceError, reason: str) -> None:
    message = str(error)
    assert error.kind == "blocked", f"{error.kind}: {message}"
    assert message.startswith("refused ") and reason in message, message
    if reason not in (ODD, SCHEME, "bad port") and not reason.startswith("refused redirect"):
        assert HINT in message, message  # and how to allow internal addresses on purpose


# ---- the fetcher -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "reason"), [*ADDRESSES, BAD_PORT])
def test_an_internal_address_is_refused_and_never_asked(internal: LocalServer, url: str, reason: str) -> None:
    assert_says_why(refusal(at(url, internal), internal), reason)


@pytest.mark.parametrize("url", SCHEMES)
def test_a_non_http_scheme_is_refused(internal: LocalServer, url: str) -> None:
    assert_says_why(refusal(at(url, internal), internal), SCHEME)


@pytest.mark.parametrize(("url", "reason"), [*REDIRECT_TARGETS, BAD_PORT])
def test_a_redirect_to_an_internal_address_is_refused_and_never_followed(
        internal: LocalServer, front: LocalServer, url: str, reason: str) -> None:
    target = at(url, internal)
    start = redirecting(front, target)
    error = refusal(start, internal, briefbot_allowed_networks=f"{FRONT_HOST}/32")
    if reason == ODD and "Invalid IPv4 address" in str(error):  # httpx itself refuses to parse the Location first
        reason = f"refused redirect: Invalid URL in location header: Invalid IPv4 address: '{error_host(target)}'"
    assert_says_why(error, reason)
    assert front.requests[-1][0] == start.split(str(front.port), 1)[1]  # the first hop was fetched, then refused


@pytest.mark.parametrize("url", REDIRECT_SCHEMES)
def test_a_redirect_to_a_non_http_scheme_is_refused(internal: LocalServer, front: LocalServer, url: str) -> None:
    error = refusal(redirecting(front, at(url, internal)), internal, briefbot_allowed_networks=f"{FRONT_HOST}/32")
    assert_says_why(error, SCHEME)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_every_redirect_status_is_checked(internal: LocalServer, front: LocalServer, status: int) -> None:
    start = redirecting(front, at("http://127.0.0.1:{port}/secret", internal), status)
    assert_says_why(refusal(start, internal, briefbot_allowed_networks=f"{FRONT_HOST}/32"), "a loopback address")


@pytest.mark.parametrize("location", ["//127.0.0.1:{port}/secret", "http://localhost:{port}/secret"])
def test_a_redirect_after_an_allowed_hop_is_still_checked(
        internal: LocalServer, front: LocalServer, location: str) -> None:
    """Two allowed hops, then inside; and a scheme-relative Location, which inherits http."""
    second = redirecting(front, at(location, internal))
    first = redirecting(front, second)
    assert_says_why(refusal(first, internal, briefbot_allowed_networks=f"{FRONT_HOST}/32"), "a loopback address")


def test_a_name_resolved_only_to_private_addresses_is_refused_before_connecting(internal: LocalServer) -> None:
    """`localhost` through the system resolver: the one real name that resolves inside without the network."""
    error = refusal(at("http://localhost:{port}/secret", internal), internal, resolver=system_resolver)
    assert_says_why(error, "a loopback address")


def test_dns_rebinding_is_refused(internal: LocalServer) -> None:
    """The check's lookup says public; the connection's own lookup (localhost) goes home."""
    async def lying(host: str, port: int) -> list[str]:
        return NAMES["public.example.invalid"]

    with pytest.raises(SourceError) as info:
        fetch(at("http://localhost:{port}/secret", internal), resolver=lying)
    assert info.value.kind == "blocked" and "the connection went to 127.0.0.1, a loopback address" in str(info.value)


def test_dns_rebinding_sends_nothing_to_the_internal_address(internal: LocalServer) -> None:
    async def lying(host: str, port: int) -> list[str]:
        return NAMES["public.example.invalid"]

    before = len(internal.requests)
    with pytest.raises(SourceError):
        fetch(at("http://localhost:{port}/secret", internal), resolver=lying)
    assert internal.requests[before:] == []


@pytest.mark.parametrize("url", ["http://[2002:7f00:1::]/", "http://[2002:a9fe:a9fe::]/latest/meta-data/"],
                         ids=["6to4 of 127.0.0.1", "6to4 of 169.254.169.254"])
def test_a_6to4_address_embedding_an_internal_one_is_refused(url: str) -> None:
    # The guard alone: were it let through, the fetcher would connect to a global IPv6 address (the internet).
    with pytest.raises(SourceError) as info:
        asyncio.run(check_url(url, allow_private=False, resolver=offline_resolver))
    assert info.value.kind == "blocked"


# ---- controls: the same servers and hooks, with internal addresses allowed, do answer --------------------------------


def test_control_the_internal_server_answers_when_private_urls_are_allowed(
        internal: LocalServer, front: LocalServer) -> None:
    before = len(internal.requests)
    assert fetch(at("http://localhost:{port}/secret", internal), briefbot_allow_private_urls=True).body == (
        b"internal only")
    redirected = fetch(redirecting(front, at("http://127.0.0.1:{port}/secret", internal)),
                       briefbot_allowed_networks="127.0.0.0/8")
    assert redirected.body == b"internal only" and redirected.url.endswith("/secret")
    assert len(internal.requests) == before + 2  # so "never asked" above is counted by a counter that counts


def test_control_the_offline_resolver_is_the_one_consulted() -> None:
    addresses = asyncio.run(check_url("http://public.example.invalid/", allow_private=False, resolver=offline_resolver))
    assert addresses == ["93.184.216.34"]
    with pytest.raises(SourceError) as info:  # and it never asks real DNS
        asyncio.run(check_url("http://example.com/", allow_private=False, resolver=offline_resolver))
    assert info.value.kind == "dns" and "no real DNS in tests" in str(info.value)


# ---- the CLI: `briefbot sources add URL`, and `--kind feed URL` then `briefbot poll` ---------------------------------


CLI_CASES = [
    pytest.param("http://127.0.0.1:{port}/feed.xml", "a loopback address", id="127.0.0.1"),
    pytest.param("http://localhost:{port}/feed.xml", "a loopback address", id="localhost"),
    pytest.param("http://0.0.0.0:{port}/feed.xml", "a private address", id="0.0.0.0"),
    pytest.param("http://127.1:{port}/feed.xml", ODD, id="127.1"),
    pytest.param("http://2130706433:{port}/feed.xml", ODD, id="decimal"),
    pytest.param("http://0177.0.0.1:{port}/feed.xml", ODD, id="octal"),
    pytest.param("http://0x7f.0.0.1:{port}/feed.xml", ODD, id="hex"),
    pytest.param("http://[::ffff:127.0.0.1]:{port}/feed.xml", "a loopback address", id="[::ffff:127.0.0.1]"),
    pytest.param("http://[::1]:{port}/feed.xml", "a loopback address", id="[::1]"),
    pytest.param("http://[fe80::1]:{port}/feed.xml", "a link-local address", id="[fe80::1]"),
    pytest.param("http://[fc00::1]:{port}/feed.xml", "a private address", id="[fc00::1]"),
    pytest.param("http://10.0.0.1:{port}/feed.xml", "a private address", id="10.0.0.1"),
    pytest.param("http://172.16.0.1:{port}/feed.xml", "a private address", id="172.16.0.1"),
    pytest.param("http://192.168.0.1:{port}/feed.xml", "a private address", id="192.168.0.1"),
    pytest.param("http://100.64.0.1:{port}/feed.xml", "a non-public address", id="100.64.0.1"),
    pytest.param("http://169.254.169.254/latest/meta-data/", "a cloud metadata address", id="metadata"),
    pytest.param("redirect:http://127.0.0.1:{port}/feed.xml", "a loopback address", id="redirect to 127.0.0.1"),
    pytest.param("redirect:http://169.254.169.254/latest/meta-data/", "a cloud metadata address",
                 id="redirect to metadata"),
    pytest.param("redirect:file:///etc/passwd", SCHEME, id="redirect to file"),
    pytest.param("redirect:data:text/plain,hello", "only http and https", id="redirect to data"),
]
CLI_SCHEMES = [
    pytest.param("file:///etc/passwd", "only http and https URLs can be followed, not file:", id="file"),
    pytest.param("ftp://127.0.0.1:{port}/feed.xml", "only http and https URLs can be followed, not ftp:", id="ftp"),
    pytest.param("gopher://127.0.0.1:{port}/_x", "only http and https URLs can be followed, not gopher:", id="gopher"),
    pytest.param("dict://127.0.0.1:{port}/info", "only http and https URLs can be followed, not dict:", id="dict"),
    pytest.param("data:text/plain,hello", "unknown source kind 'data'", id="data"),
    pytest.param("javascript:alert(1)", "unknown source kind 'javascript'", id="javascript"),
]


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`briefbot` in-process on the test's database, with private URLs refused and only the front server allowed."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    env = {"DATABASE_URL": db_url, "BRIEFBOT_ALLOW_PRIVATE_URLS": "false",
           "BRIEFBOT_ALLOWED_NETWORKS": f"{FRONT_HOST}/32", "BRIEFBOT_FETCH_DEADLINE": "5",
           "BRIEFBOT_CONNECT_TIMEOUT": "2", "BRIEFBOT_READ_TIMEOUT": "2"}

    def run(*args: str, **overrides: str) -> Result:
        return CliRunner().invoke(main, list(args), env={**env, **overrides})

    return run


def sources(db_url: str) -> list[Source]:
    engine: Engine = build_engine(make_settings(db_url))
    try:
        with Session(engine) as session:
            return list(session.exec(select(Source)))
    finally:
        engine.dispose()


def cli_target(spec: str, internal: LocalServer, front: LocalServer) -> str:
    if spec.startswith("redirect:"):
        return redirecting(front, at(spec.removeprefix("redirect:"), internal))
    return at(spec, internal)


@pytest.mark.parametrize(("spec", "reason"), CLI_CASES)
def test_sources_add_refuses_an_internal_url_and_says_why(
        cli: Any, db_url: str, internal: LocalServer, front: LocalServer, spec: str, reason: str) -> None:
    url = cli_target(spec, internal, front)
    before = len(internal.requests)
    result = cli("sources", "add", url)
    # One line, whatever prefix the CLI puts before its errors ("Error:" or "briefbot:").
    assert result.exit_code == 1 and result.output.count("\n") == 1, (result.output, result.exception)
    assert result.output.split(": ", 1)[1].startswith("could not fetch "), result.output
    assert reason in result.output and "Traceback" not in result.output, result.output
    assert len(internal.requests) == before and sources(db_url) == []


@pytest.mark.parametrize(("spec", "message"), CLI_SCHEMES)
def test_sources_add_refuses_a_non_http_scheme(cli: Any, db_url: str, internal: LocalServer, spec: str,
                                               message: str) -> None:
    before = len(internal.requests)
    result = cli("sources", "add", at(spec, internal))
    assert result.exit_code == 1 and message in result.output, result.output
    assert len(internal.requests) == before and sources(db_url) == []


@pytest.mark.parametrize(("spec", "reason"), [p for p in CLI_CASES if not p.marks])
def test_a_source_added_without_a_fetch_is_refused_at_every_poll(
        cli: Any, db_url: str, internal: LocalServer, front: LocalServer, spec: str, reason: str) -> None:
    """`--kind feed` stores a URL without fetching it (the refusal's own advice); the poller's fetch is guarded."""
    url = cli_target(spec, internal, front)
    before = len(internal.requests)
    assert cli("sources", "add", "--kind", "feed", url).exit_code == 0
    polled = cli("poll", "--all")
    assert polled.exit_code == 0 and "1 failed" in polled.output and "failed (blocked)" in polled.output, (
        polled.output)
    assert reason in polled.output
    (source,) = sources(db_url)
    assert source.last_error_kind == "blocked" and reason in (source.last_error or "")
    assert source.failures == 1 and source.last_success_at is None
    assert len(internal.requests) == before


@pytest.mark.parametrize("kind", [None, "feed"])
def test_sources_add_refuses_a_bad_port_before_storing_it(cli: Any, db_url: str, kind: str | None) -> None:
    """A port out of range is refused when the source is added (with or without --kind), not at every poll."""
    args = ["sources", "add", *(["--kind", kind] if kind else []), "http://127.0.0.1:99999/feed.xml"]
    result = cli(*args)
    assert result.exit_code == 1 and "bad port" in result.output and "Traceback" not in result.output, result.output
    assert sources(db_url) == []


def test_control_the_cli_adds_the_internal_feed_when_private_urls_are_allowed(
        cli: Any, db_url: str, internal: LocalServer) -> None:
    result = cli("sources", "add", at("http://127.0.0.1:{port}/feed.xml", internal), BRIEFBOT_ALLOW_PRIVATE_URLS="true")
    assert result.exit_code == 0 and "Internal Wire" in result.output, result.output
    assert [s.title for s in sources(db_url)] == ["Internal Wire"]


# ---- Slack: `/brief follow URL` -------------------------------------------------------------------------------------


@pytest.fixture
def refusing_web(db_url: str, slack: SlackServer, clock: Any) -> Iterator[tuple[str, Context]]:
    """The real Bolt app on uvicorn with private URLs refused (the conftest's Slack settings allow them)."""
    settings: Settings = make_settings(db_url, slack_bot_token="xoxb-test", slack_signing_secret=SLACK_SECRET,
                                       slack_api_url=slack.api_url, briefbot_channel_post_interval=0.0,
                                       briefbot_slack_timeout=2.0, briefbot_allow_private_urls=False,
                                       briefbot_allowed_networks=f"{FRONT_HOST}/32")
    ctx: Context = context_for(settings, clock)
    with serving(ctx) as base:
        yield base, ctx
    ctx.engine.dispose()


SLACK_CASES = [
    ("http://127.0.0.1:{port}/feed.xml", "a loopback address"),
    ("http://localhost:{port}/feed.xml", "a loopback address"),
    ("http://2130706433:{port}/feed.xml", ODD),
    ("http://0177.0.0.1:{port}/feed.xml", ODD),
    ("http://[::ffff:127.0.0.1]:{port}/feed.xml", "a loopback address"),
    ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
    ("http://10.0.0.1:{port}/feed.xml", "a private address"),
    ("redirect:http://127.0.0.1:{port}/feed.xml", "a loopback address"),
    ("file:///etc/passwd", "only http and https URLs can be followed"),
    ("gopher://127.0.0.1:{port}/_x", "only http and https URLs can be followed"),
]


def test_brief_follow_refuses_internal_urls_and_says_why(
        refusing_web: tuple[str, Context], slack: SlackServer, internal: LocalServer, front: LocalServer) -> None:
    base, ctx = refusing_web
    before = len(internal.requests)
    for n, (spec, reason) in enumerate(SLACK_CASES):
        url = cli_target(spec, internal, front)
        body = command_body(f"follow {url}", response_url=slack.hook_url(f"f{n}"))
        ack = httpx.post(base + "/slack/events", content=body, headers=sign(SLACK_SECRET, body), timeout=10)
        assert ack.status_code == 200, ack.text
        text = wait_for(partial(slack.hooks, f"f{n}"), timeout=10)[-1]["text"]
        assert text.startswith("Couldn't follow") and reason in text, (spec, text)
    with Session(ctx.engine) as session:
        assert list(session.exec(select(Source))) == []
    assert len(internal.requests) == before

    # The control: with the front server itself (allowed), a feed is followed, so the refusals above are refusals.
    front.route("/feed.xml", Route(body=rss(numbered(1), title="Front Wire")))
    body = command_body(f"follow http://{FRONT_HOST}:{front.port}/feed.xml", response_url=slack.hook_url("ok"))
    httpx.post(base + "/slack/events", content=body, headers=sign(SLACK_SECRET, body), timeout=10)
    assert wait_for(lambda: slack.hooks("ok"), timeout=10)[-1]["text"].startswith("Following *Front Wire*")
