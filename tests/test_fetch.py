"""The fetcher against a real local HTTP server: conditional GET, redirects, caps, timeouts, SSRF guard."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.demo.server import LocalServer, Route
from bot.fetch.http import FetchResult, build_fetcher
from bot.sources.base import SourceError
from tests.conftest import make_settings

RSS = b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title></channel></rss>"


def fetch(url: str, resolver: Any = None, **overrides: Any) -> FetchResult:
    settings = make_settings("sqlite://", **overrides)

    async def run() -> FetchResult:
        fetcher = build_fetcher(settings, resolver) if resolver else build_fetcher(settings)
        try:
            return await fetcher.fetch(url, etag=overrides.get("_etag"), last_modified=overrides.get("_lm"))
        finally:
            await fetcher.aclose()

    overrides.pop("_etag", None)
    return asyncio.run(run())


def fetch_error(url: str, **overrides: Any) -> SourceError:
    with pytest.raises(SourceError) as info:
        fetch(url, **overrides)
    return info.value


def test_plain_get_sends_honest_user_agent_and_reads_body(server: LocalServer) -> None:
    server.route("/feed", Route(body=RSS))
    result = fetch(server.url("/feed"))
    assert result.status == 200 and result.body == RSS and result.etag
    assert server.requests[0][1]["user-agent"].startswith("briefbot/")


def test_etag_and_last_modified_make_a_304(server: LocalServer) -> None:
    server.route("/feed", Route(body=RSS, last_modified="Mon, 23 Nov 2026 10:00:00 GMT"))
    first = fetch(server.url("/feed"))
    settings = make_settings("sqlite://")

    async def again() -> FetchResult:
        fetcher = build_fetcher(settings)
        try:
            return await fetcher.fetch(server.url("/feed"), etag=first.etag, last_modified=first.last_modified)
        finally:
            await fetcher.aclose()

    second = asyncio.run(again())
    assert second.not_modified and second.status == 304 and second.body == b""
    assert server.requests[1][1]["if-none-match"] == first.etag
    assert server.requests[1][1]["if-modified-since"] == "Mon, 23 Nov 2026 10:00:00 GMT"


def test_gzip_is_decoded(server: LocalServer) -> None:
    server.route("/gz", Route(body=RSS * 50, gzip=True))
    assert fetch(server.url("/gz")).body == RSS * 50


def test_redirects_are_followed_up_to_the_cap(server: LocalServer) -> None:
    server.route("/a", Route(redirect="/b"))
    server.route("/b", Route(redirect=server.url("/feed")))
    server.route("/feed", Route(body=RSS))
    result = fetch(server.url("/a"))
    assert result.body == RSS and result.url == server.url("/feed")
    server.route("/loop", Route(redirect="/loop"))
    error = fetch_error(server.url("/loop"), briefbot_max_redirects=3)
    assert error.kind == "redirects" and "more than 3 redirects" in str(error)
    assert server.hits["/loop"] == 4


def test_oversize_bodies_are_cut_off_while_streaming(server: LocalServer) -> None:
    server.route("/big", Route(body=b"x" * 50_000))
    error = fetch_error(server.url("/big"), briefbot_max_body_bytes=10_000)
    assert error.kind == "too_large"
    server.route("/endless", Route(endless=True))
    assert fetch_error(server.url("/endless"), briefbot_max_body_bytes=100_000).kind == "too_large"
    server.route("/bomb", Route(body=b"\0" * 2_000_000, gzip=True))  # ~2 KB on the wire
    assert fetch_error(server.url("/bomb"), briefbot_max_body_bytes=100_000).kind == "too_large"


@pytest.mark.slow  # waits on purpose (a deadline, a drip, Retry-After or a quiet period)
def test_slow_hanging_and_dripping_servers_time_out(server: LocalServer) -> None:
    server.route("/hang", Route(hang=True))
    assert fetch_error(server.url("/hang"), briefbot_read_timeout=0.5).kind == "timeout"
    # Each chunk arrives within the read timeout, but the whole body takes too long: the deadline ends it.
    server.route("/drip", Route(body=RSS * 20, drip=0.2))
    error = fetch_error(server.url("/drip"), briefbot_read_timeout=1.0, briefbot_fetch_deadline=1.0)
    assert error.kind == "timeout" and "gave up after 1s" in str(error)


@pytest.mark.parametrize(("status", "kind"), [(404, "http_4xx"), (410, "http_4xx"), (500, "http_5xx")])
def test_http_errors_say_what_happened(server: LocalServer, status: int, kind: str) -> None:
    server.route("/x", Route(status=status, body=b"nope"))
    error = fetch_error(server.url("/x"))
    assert error.kind == kind and error.status == status and f"HTTP {status}" in str(error)


def test_retry_after_is_read(server: LocalServer) -> None:
    server.route("/busy", Route(status=429, headers={"Retry-After": "120"}))
    error = fetch_error(server.url("/busy"))
    assert error.retry_after == 120 and "rate-limited" in str(error)


def test_connection_refused_and_unknown_host() -> None:
    with LocalServer() as srv:
        url = srv.url("/gone")
    assert fetch_error(url).kind == "connect"
    assert fetch_error("http://no-such-host.invalid/feed").kind == "dns"


def test_private_addresses_are_refused_unless_allowed(server: LocalServer) -> None:
    server.route("/feed", Route(body=RSS))
    error = fetch_error(server.url("/feed"), briefbot_allow_private_urls=False)
    assert error.kind == "blocked" and "loopback" in str(error)
    # The hint allows that one address, not every internal one.
    assert "BRIEFBOT_ALLOWED_NETWORKS=127.0.0.1/32" in str(error) and "ALLOW_PRIVATE_URLS" not in str(error)
    assert server.hits["/feed"] == 0  # refused before any request left


def test_a_redirect_to_an_internal_address_is_refused(server: LocalServer) -> None:
    # 127.0.0.1 is allowed explicitly, as an internal feed server would be; the redirect target is not.
    for target in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/admin", "http://[::1]/x",
                   "http://167772161/", "http://012.0.0.5/", "http://0x0a000005/", "http://0177.1/",
                   "http://[::ffff:169.254.169.254]/", "file:///etc/passwd"):
        server.route("/r", Route(redirect=target))
        error = fetch_error(server.url("/r"), briefbot_allow_private_urls=False,
                            briefbot_allowed_networks="127.0.0.1/32")
        assert error.kind == "blocked", target


def test_dns_rebinding_is_caught_at_the_connection(server: LocalServer) -> None:
    server.route("/feed", Route(body=RSS))

    async def lying_resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]  # says public; the real connection goes to 127.0.0.1

    url = f"http://localhost:{server.port}/feed"
    with pytest.raises(SourceError) as info:
        fetch(url, resolver=lying_resolver, briefbot_allow_private_urls=False)
    assert info.value.kind == "blocked" and "connection went to 127.0.0.1" in str(info.value)


def test_an_untrusted_certificate_is_a_tls_error(tmp_path: Any) -> None:
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed, so no self-signed certificate can be made")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with LocalServer({"/feed": Route(body=RSS)}, tls=context) as tls_server:
        error = fetch_error(tls_server.url("/feed"))
    assert error.kind == "tls" and "TLS" in str(error)


def test_requests_to_one_host_are_capped(server: LocalServer) -> None:
    for n in range(12):
        server.route(f"/slow/{n}", Route(body=RSS, delay=0.2))
    settings = make_settings("sqlite://", briefbot_per_host_concurrency=3, briefbot_concurrency=32)

    async def run() -> list[FetchResult]:
        fetcher = build_fetcher(settings)
        try:
            return await asyncio.gather(*(fetcher.fetch(server.url(f"/slow/{n}")) for n in range(12)))
        finally:
            await fetcher.aclose()

    assert len(asyncio.run(run())) == 12
    assert server.most_active == 3  # never more than the cap, and the cap was reached
