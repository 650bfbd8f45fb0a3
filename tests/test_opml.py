"""bot/core/opml: OPML read into records (golden files, as tests/test_parsers_golden.py keeps them: inputs in
tests/fixtures/opml/ and the shared corpus, expected parses in tests/golden/opml/;
`BRIEFBOT_UPDATE_GOLDEN=1` rewrites them, read the diff), hostile files refused as a whole in one plain line,
and OPML 2.0 written back and read again unchanged. Pure: no database, no network."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.opml import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_ELEMENTS,
    MAX_OUTLINES,
    Opml,
    OpmlError,
    OpmlFeed,
    parse_opml,
    write_opml,
)
from tests.conftest import CORPUS

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures" / "opml"
GOLDEN = TESTS / "golden" / "opml"
UPDATE = os.environ.get("BRIEFBOT_UPDATE_GOLDEN") == "1"
NETNEWSWIRE = CORPUS / "feeds" / "netnewswire"
CASES = {
    "opml10_plain": FIXTURES / "opml10_plain.opml",
    "opml20_folders": FIXTURES / "opml20_folders.opml",
    "messy": FIXTURES / "opml_messy.opml",
    "netnewswire_subs": NETNEWSWIRE / "Subs.opml",
    "netnewswire_no_titles": NETNEWSWIRE / "SubsNoTitleAttributes.opml",
}
CREATED = datetime(2026, 11, 25, 12, tzinfo=UTC)


def as_json(opml: Opml) -> dict[str, object]:
    return {"title": opml.title, "feeds": [asdict(f) for f in opml.feeds], "skipped": [asdict(s) for s in opml.skipped]}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    path = CASES[name]
    if not path.exists():
        pytest.skip(f"the shared corpus is not beside this checkout ({path} missing)")
    got = json.loads(json.dumps(as_json(parse_opml(path.read_bytes()))))
    golden = GOLDEN / f"{name}.json"
    if UPDATE:
        golden.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert got == json.loads(golden.read_text(encoding="utf-8"))


def test_the_plain_opml_10_file_reads_every_feed_in_latin_1() -> None:
    opml = parse_opml(CASES["opml10_plain"].read_bytes())
    assert opml.title == "Café reading list"
    assert [(f.title, f.url, f.declared_type, f.declares_feed) for f in opml.feeds] == [
        ("Kestrel Wire", "https://wire.example/feed.xml", "", False),
        ("Harbor Ledger", "https://ledger.example/rss", "rss", True),
        ("München Logistik", "http://logistik.example/atom.xml", "atom", True)]
    assert opml.skipped == ()  # a note without xmlUrl, type or link is no feed left out


def test_folders_become_categories_and_only_briefbots_kind_is_read() -> None:
    feeds = {f.url: f for f in parse_opml(CASES["opml20_folders"].read_bytes()).feeds}
    kestrel = feeds["https://kestrel.example/newsroom.rss"]
    assert (kestrel.title, kestrel.category, kestrel.html_url) == (
        "Kestrel newsroom", ("Market", "Competitors"), "https://kestrel.example/news")  # title before text
    assert feeds["https://boards-api.greenhouse.io/v1/boards/acme/jobs?content=true"].kind == "greenhouse"
    assert feeds["https://other.example/feed"].kind == ""  # another namespace's "kind" is not briefbot's
    upper = feeds["https://upper.example/feed.xml"]
    assert (upper.declared_type, upper.category, upper.html_url) == ("rss", ("Market", "Logistics"), "")
    assert feeds["https://top.example/feed"].category == ()
    assert feeds["https://jobs.lever.co/kestrel"].category == ("Jobs",)


def test_each_bad_outline_is_skipped_with_its_reason_and_the_rest_are_read() -> None:
    opml = parse_opml(CASES["messy"].read_bytes())
    assert opml.title == "Messy list"
    assert [(f.title, f.url) for f in opml.feeds] == [
        ("Good one", "https://good.example/feed.xml?utm_source=opml"),
        ("Tab and line break & café", "https://tabs.example/feed"),
        ("", "https://untitled.example/feed")]
    reasons = {s.where.split(" (", 1)[1].rstrip(")"): s.reason for s in opml.skipped}
    assert reasons == {
        "Same, other tracking": "the same URL is listed earlier in the file",
        "No address": "it has no xmlUrl (the feed's address)",
        "A link outline": "it has no xmlUrl (the feed's address)",
        "Empty address": "its xmlUrl is empty",
        "FTP": "only http and https feeds are followed, not ftp: URLs",
        "Script": "only http and https feeds are followed, not javascript: URLs",
        "feed scheme": "only http and https feeds are followed, not feed: URLs",
        "Relative": "only http and https feeds are followed, not scheme-less: URLs",
        "Space inside": "its xmlUrl holds spaces or control characters",
        "Bad port": "its xmlUrl is not a URL that can be read",
        "Too long": "its xmlUrl is 2,121 characters long; at most 2,000 are read",
    }
    assert all(len(s.url) <= 2000 for s in opml.skipped)


def _outlines(n: int) -> bytes:
    body = "".join(f'<outline type="rss" xmlUrl="https://f{i}.example/feed"/>' for i in range(n))
    return f'<opml version="2.0"><head/><body>{body}</body></opml>'.encode()


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                             for i in range(1, 10))
                  + b']><opml version="2.0"><body><outline text="&lol9;" xmlUrl="https://a.example/"/></body></opml>')


@pytest.mark.parametrize(("data", "message"), [
    (BILLION_LAUGHS, "declares a DTD"),
    (b'<?xml version="1.0"?><!DOCTYPE opml SYSTEM "file:///etc/passwd"><opml><body/></opml>', "declares a DTD"),
    (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]><opml><body>'
     b'<outline text="&x;" xmlUrl="https://a.example/"/></body></opml>', "declares a DTD"),
    (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p"> %p;]><opml/>',
     "declares a DTD"),
    (b'<opml><body><outline text="&undeclared;" xmlUrl="https://a.example/"/></body></opml>', "undefined entity"),
    (b"<opml><body><outline xmlUrl='https://a.example/'>\x00</outline></body></opml>", "NUL bytes"),
    ("<opml/>".encode("utf-16"), "NUL bytes"),
    (b"<rss version='2.0'><channel/></rss>", "its root element is <rss>"),
    (b"<opml version='2.0'><head/></opml>", "has no <body>"),
    (b"", "the file is empty"),
    (b"  \n", "the file is empty"),
    (b"<opml><body><outline", "not well-formed XML"),
    (b"<html><body>a web page</body></html>", "its root element is <html>"),
    (b"<opml><body>" + b"<x/>" * (MAX_ELEMENTS + 1) + b"</body></opml>", f"more than {MAX_ELEMENTS:,} elements"),
    (_outlines(MAX_OUTLINES + 1), f"more than {MAX_OUTLINES:,} outlines"),
    (b"<opml><body>" + b"<outline text='f'>" * (MAX_DEPTH + 1) + b"</outline>" * (MAX_DEPTH + 1) + b"</body></opml>",
     f"nested more than {MAX_DEPTH} deep"),
    (b"<opml><body><outline xmlUrl='" + b"a" * MAX_BYTES + b"'/></body></opml>", f"at most {MAX_BYTES:,}"),
])
def test_a_hostile_or_broken_file_fails_as_a_whole_in_one_plain_line(data: bytes, message: str) -> None:
    started = time.monotonic()
    with pytest.raises(OpmlError) as caught:
        parse_opml(data)
    assert message in str(caught.value), str(caught.value)
    assert "\n" not in str(caught.value)
    assert time.monotonic() - started < 2  # refused before anything is expanded or read at length


def test_the_limits_themselves_are_read() -> None:
    assert len(parse_opml(_outlines(MAX_OUTLINES)).feeds) == MAX_OUTLINES
    deep = (b"<opml><body>" + b"<outline text='f'>" * (MAX_DEPTH - 1)
            + b"<outline xmlUrl='https://deep.example/'/>" + b"</outline>" * (MAX_DEPTH - 1) + b"</body></opml>")
    assert parse_opml(deep).feeds[0].category == ("f",) * (MAX_DEPTH - 1)


def test_written_opml_20_reads_back_as_the_same_records() -> None:
    feeds = (
        OpmlFeed("https://top.example/feed", "Top & <first>", declared_type="rss", kind="feed"),
        OpmlFeed("https://a.example/rss?x=1&y=2", 'Quotes "here" and \'there\'', "https://a.example/",
                 ("Market", "Competitors"), "rss", "feed"),
        OpmlFeed("https://boards-api.greenhouse.io/v1/boards/acme/jobs", "Acme", category=("Job boards",),
                 kind="greenhouse"),
        OpmlFeed("https://news.example/search?q=kestrel", "Kestrel search", category=("Market",),
                 declared_type="rss", kind="news"),
        OpmlFeed("https://cafe.example/feed", "Café ☕ — 東京", category=("Market", "Competitors"),
                 declared_type="rss"),
    )
    text = write_opml(feeds, title="briefbot sources (T1)", created=CREATED)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0"')
    assert "<dateCreated>Wed, 25 Nov 2026 12:00:00 +0000</dateCreated>" in text
    back = parse_opml(text.encode("utf-8"))
    assert back.title == "briefbot sources (T1)" and back.skipped == ()
    by_url = {f.url: f for f in back.feeds}
    assert by_url == {f.url: f for f in feeds}  # every field of every feed, folders included


def test_control_characters_in_titles_are_written_as_xml_can_hold_them() -> None:
    text = write_opml([OpmlFeed("https://a.example/", "bell\x07 and\nbreak\x00", category=("tab\there",))],
                      title="t\x01", created=CREATED)
    back = parse_opml(text.encode())
    assert (back.title, back.feeds[0].title, back.feeds[0].category) == ("t", "bell and break", ("tab here",))


def test_the_corpus_subscriptions_round_trip() -> None:
    path = CASES["netnewswire_subs"]
    if not path.exists():
        pytest.skip(f"the shared corpus is not beside this checkout ({path} missing)")
    read = parse_opml(path.read_bytes())
    again = parse_opml(write_opml(read.feeds, title=read.title, created=CREATED).encode())
    assert sorted(again.feeds, key=lambda f: f.url) == sorted(read.feeds, key=lambda f: f.url)
    assert len(again.feeds) == 206


def test_every_golden_file_has_a_case() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(CASES)
