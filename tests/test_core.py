"""Unit tests on the pure core: URLs, text, hashes, locations, schedules, specs, settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from ipaddress import ip_address

import pytest

from bot.core.locations import parse_places, structured_place
from bot.core.normalize import canonical_url, cap_text, content_hash, external_key, strip_html
from bot.core.schedule import next_poll_at
from bot.fetch.guard import blocked_reason
from bot.fetch.http import parse_retry_after
from bot.settings import Settings
from bot.sources.base import SpecError, parse_iso
from bot.sources.registry import resolve_spec

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("raw", "canonical"), [
    ("HTTPS://News.Example.COM:443/a?utm_source=x&id=3&fbclid=9#top", "https://news.example.com/a?id=3"),
    ("http://example.com", "http://example.com/"),
    ("http://example.com:8080/p?gclid=1", "http://example.com:8080/p"),
    ("https://boards.greenhouse.io/acme/jobs/1?gh_src=abc&t=2", "https://boards.greenhouse.io/acme/jobs/1?t=2"),
    ("https://example.com/p?source=feed&ref=home", "https://example.com/p?source=feed&ref=home"),
])
def test_canonical_url_drops_tracking_only(raw: str, canonical: str) -> None:
    assert canonical_url(raw) == canonical


def test_strip_html_keeps_words_drops_markup_and_scripts() -> None:
    html = "<p>Hiring <b>5</b> roles &amp; more</p><script>steal()</script><ul><li>one</li><li>two</li></ul>"
    assert strip_html(html) == "Hiring 5 roles & more\none\ntwo"
    assert strip_html("Fish &amp; chips") == "Fish & chips"
    assert strip_html("<p>unclosed <b>tag") == "unclosed tag"


def test_cap_text_cuts_at_a_word() -> None:
    assert cap_text("short", 10) == "short"
    capped = cap_text("warehouse associates wanted in seattle today", 30)
    assert len(capped) <= 30 and capped.endswith("…") and capped.startswith("warehouse associates")


def test_content_hash_is_versioned_and_order_free() -> None:
    a = content_hash({"title": "x", "text": "y"})
    assert a.startswith("v1:") and a == content_hash({"text": "y", "title": "x"})
    assert a != content_hash({"title": "x", "text": "y!"})


def test_external_key_hashes_only_long_ids() -> None:
    assert external_key(" 123 ") == "123"
    long = "https://example.com/" + "x" * 300
    assert external_key(long).startswith("sha256:") and len(external_key(long)) < 80


@pytest.mark.parametrize(("raw", "expected"), [
    ("Seattle, WA", [("Seattle", "Washington", "United States", False)]),
    ("Seattle, Washington, United States", [("Seattle", "Washington", "United States", False)]),
    ("Kent, WA; Remote - US", [("Kent", "Washington", "United States", False),
                               (None, None, "United States", True)]),
    ("London, UK", [("London", None, "United Kingdom", False)]),
    ("Toronto, ON, Canada", [("Toronto", "Ontario", "Canada", False)]),
    ("San Francisco, CA", [("San Francisco", "California", "United States", False)]),
    ("Remote", [(None, None, None, True)]),
    ("", []),
])
def test_locations_are_normalised(raw: str, expected: list[tuple[object, ...]]) -> None:
    assert [(p.city, p.region, p.country, p.remote) for p in parse_places(raw)] == expected


def test_structured_places_read_codes() -> None:
    place = structured_place(city="Tacoma", region="WA", country="us")
    assert (place.city, place.region, place.country) == ("Tacoma", "Washington", "United States")


def test_backoff_grows_is_capped_and_honours_retry_after() -> None:
    delays = [(next_poll_at(now=NOW, interval=900, failures=f, max_backoff=3600, source_id=7) - NOW).total_seconds()
              for f in range(1, 9)]
    assert delays[0] >= 60 and delays[1] >= 2 * 60 and delays == sorted(delays) and max(delays) == 3600
    assert next_poll_at(now=NOW, interval=900, failures=0, max_backoff=3600) == NOW + timedelta(seconds=900)
    assert next_poll_at(now=NOW, interval=900, failures=1, max_backoff=3600, retry_after=1800) >= NOW + timedelta(
        seconds=1800)
    assert next_poll_at(now=NOW, interval=900, failures=1, max_backoff=3600, retry_after=10**9) == NOW + timedelta(
        seconds=3600)


def test_sources_that_failed_together_retry_apart_each_at_its_own_steady_time() -> None:
    def delay(source_id: int, failures: int = 2) -> float:
        due = next_poll_at(now=NOW, interval=900, failures=failures, max_backoff=86400, source_id=source_id)
        return (due - NOW).total_seconds()

    delays = [delay(source_id) for source_id in range(1, 201)]
    assert all(120 <= d <= 132 for d in delays)  # 2 minutes after a second failure, plus at most 10%
    assert len(set(delays)) > 150  # without the jitter all 200 would come back in the same second
    assert max(delays) - min(delays) > 10
    assert [delay(source_id) for source_id in range(1, 201)] == delays  # steady: the same source, the same wait
    assert delay(7, failures=3) == 2 * delay(7)  # the jitter scales with the backoff, it does not add a constant


def test_retry_after_reads_seconds_and_dates() -> None:
    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after("Wed, 25 Nov 2026 12:10:00 GMT", NOW) == 600
    assert parse_retry_after("soon", NOW) is None


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("192.168.0.1", "private"), ("172.16.5.5", "private"),
    ("169.254.169.254", "metadata"), ("169.254.1.1", "link-local"), ("::1", "loopback"), ("fe80::1", "link-local"),
    ("fd00:ec2::254", "metadata"), ("::ffff:10.0.0.1", "private"), ("0.0.0.0", "address"),
    ("100.64.0.1", "address"), ("8.8.8.8", None), ("2606:4700::1111", None),
])
def test_blocked_reason(address: str, reason: str | None) -> None:
    found = blocked_reason(ip_address(address))
    assert (found is None) if reason is None else (found is not None and reason in found)


def test_parse_iso_accepts_what_boards_send() -> None:
    assert parse_iso("2026-11-23T10:00:00Z") == datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert parse_iso("2026-11-23") == datetime(2026, 11, 23, tzinfo=UTC)
    assert parse_iso(1_795_000_000_000) == parse_iso(1_795_000_000)
    assert parse_iso("not a date") is None and parse_iso(None) is None


def test_specs_resolve_or_say_what_is_wrong() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert resolve_spec("lever:acme", settings).locator == "https://api.lever.co/v0/postings/acme?mode=json"
    assert resolve_spec("https://jobs.ashbyhq.com/acme", settings).kind == "ashby"
    assert resolve_spec("https://apply.workable.com/acme/", settings).kind == "workable"
    assert resolve_spec("https://jobs.smartrecruiters.com/Acme1", settings).kind == "smartrecruiters"
    assert "q=tiktok+fulfillment" in resolve_spec('news:"tiktok fulfillment"', settings).locator
    assert resolve_spec("https://example.com/feed", settings).kind is None
    for bad, message in [("ftp://x.example/feed", "only http and https"), ("nope", "neither a URL"),
                         ("bogus:x", "unknown source kind"), ("greenhouse:a b", "not a board name"),
                         ('news:""', "needs search words"), ("", "empty")]:
        with pytest.raises(SpecError, match=message):
            resolve_spec(bad, settings)


def test_settings_mask_secrets_and_check_the_clock() -> None:
    settings = Settings(_env_file=None, openai_api_key="sk-abcdefghijklmnopqrstuvwxyz",  # type: ignore[call-arg]
                        database_url="postgresql://bot:hunter2@db.example/briefbot")
    masked = settings.masked()
    assert "abcdefghijklmnop" not in str(masked) and "hunter2" not in str(masked)
    assert masked["DATABASE_URL"].startswith("postgresql+psycopg://bot:***@")
    with pytest.raises(ValueError, match="time zone"):
        Settings(_env_file=None, briefbot_now="2026-03-01T09:00:00")  # type: ignore[call-arg]


def test_redact_url_drops_credentials_and_tokens() -> None:
    from bot.core.normalize import redact_url

    assert redact_url("https://user:pw@feeds.example:8443/private.xml?token=s3cret#x") == (
        "https://feeds.example:8443/private.xml?…")
    assert redact_url("http://[::1]:8801/feed.xml") == "http://[::1]:8801/feed.xml"  # not http://::1:8801/


def test_google_news_links_that_carry_their_article_become_it() -> None:
    """A Google News link whose token still holds its article's address is that article (one report, one
    item); an opaque token, a broken one or a non-web address inside stays the Google link."""
    import base64

    def token(payload: bytes) -> str:
        return base64.urlsafe_b64encode(payload).decode().rstrip("=")

    article = b"https://www.harborledger.example/real-estate/2026/11/24/kent-lease"
    carried = token(b"\x08\x13\x22" + bytes([len(article)]) + article + b"\xd2\x01\x00")
    assert canonical_url(f"https://news.google.com/rss/articles/{carried}?oc=5") == article.decode()
    long_article = b"https://news.example/" + b"a" * 200  # a two-byte length
    long_token = token(b"\x08\x13\x22" + bytes([(len(long_article) & 0x7F) | 0x80, len(long_article) >> 7])
                       + long_article)
    assert canonical_url(f"https://news.google.com/rss/articles/{long_token}") == long_article.decode()
    for opaque in ("AU_yqLMpZ3x9", token(b"\x08\x13\x22\x10javascript:alert1"), "%%%", "x" * 5000,
                   token(b"\x08\x13\x22\x7fhttps://short.example/")):
        url = f"https://news.google.com/rss/articles/{opaque}"
        assert canonical_url(url).startswith("https://news.google.com/rss/articles/")


def test_google_redirect_links_become_their_target() -> None:
    url = "https://www.google.com/url?rct=j&sa=t&url=https://news.example/a%3Futm_source%3Dalert&ct=ga"
    assert canonical_url(url) == "https://news.example/a"


def test_a_board_that_is_not_utf8_is_an_encoding_error() -> None:
    from bot.sources import greenhouse
    from bot.sources.base import Document, SourceError

    with pytest.raises(SourceError) as info:
        greenhouse.parse(Document(url="https://x.example/jobs", body=b'{"jobs": [{"title": "Caf\xe9"}]}'))
    assert info.value.kind == "encoding" and "not UTF-8" in str(info.value)
