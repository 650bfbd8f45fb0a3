"""Golden files for every source kind: `parse` then `normalise_entry` must give tests/golden/<case>.json;
`BRIEFBOT_UPDATE_GOLDEN=1` rewrites them (read the diff). Job boards come from tests/fixtures/boards/ (see
make_boards.py); feeds are read in place from ../shared/corpus/ and skip without it. A `known_bug` case's golden
file holds the output expected after the fix, is never rewritten, and its strict xfail says when the fix lands."""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.core.locations import parse_places, structured_place
from bot.sources import ashby, careers, feed, greenhouse, jsonfeed, lever, news, smartrecruiters, workable
from bot.sources.base import Document, Parsed, SourceError
from bot.sources.item import NormalisedItem, normalise_entry

TESTS = Path(__file__).parent
BOARDS = TESTS / "fixtures" / "boards"
GOLDEN = TESTS / "golden"
CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"
NO_CORPUS = f"the shared corpus is not at {CORPUS} (it sits beside the checkout in CI)"
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
UPDATE = os.environ.get("BRIEFBOT_UPDATE_GOLDEN") == "1"
SR_PAGE2 = "https://api.smartrecruiters.com/v1/companies/Visa/postings?offset=4&limit=100"


@dataclass(frozen=True)
class Case:
    name: str
    kind: ModuleType
    path: Path
    url: str
    known_bug: str | None = None


def _board(name: str, kind: ModuleType, url: str, known_bug: str | None = None) -> Case:
    return Case(name, kind, BOARDS / f"{name}.{'html' if kind is careers else 'json'}", url, known_bug=known_bug)


def _corpus(name: str, kind: ModuleType, path: str, url: str, known_bug: str | None = None) -> Case:
    return Case(name, kind, CORPUS / path, url, known_bug=known_bug)


GH_DOCS = "jobs/greenhouse_job_board_list_jobs_content_true.example.json"
CASES = [
    _board("greenhouse_anduril", greenhouse, "https://boards-api.greenhouse.io/v1/boards/andurilindustries/jobs?content=true"),
    _corpus("greenhouse_docs_example", greenhouse, GH_DOCS, "https://boards-api.greenhouse.io/v1/boards/vaulttec/jobs"),
    _board("lever_palantir", lever, "https://api.lever.co/v0/postings/palantir?mode=json"),
    _board("ashby_elevenlabs", ashby, "https://api.ashbyhq.com/posting-api/job-board/elevenlabs"),
    _board("smartrecruiters_visa_page1", smartrecruiters, "https://api.smartrecruiters.com/v1/companies/Visa/postings?limit=4"),
    _board("smartrecruiters_visa_page2", smartrecruiters, SR_PAGE2),
    _board("workable_keywords", workable, "https://apply.workable.com/api/v1/widget/accounts/keywords-intl1"),
    _board("careers_stripe", careers, "https://stripe.com/jobs/search"),
    _corpus("rss091_dicas_l_latin1", feed, "feeds/feed-rs/rss0/rss_0.91_encoding_1.xml", "http://www.dicas-l.com.br/index.xml"),
    _corpus("rss092_userland", feed, "feeds/feed-rs/rss0/rss_0.92_spec_1.xml", "http://www.scripting.com/gratefulDead.xml"),
    _corpus("rss10_biorxiv", feed, "feeds/feed-rs/rss1/rss_1.0_biorxiv.xml", "http://connect.biorxiv.org/genomics.xml"),
    _corpus("rss20_bbc", feed, "feeds/feed-rs/rss2/rss_2.0_bbc.xml", "https://podcasts.files.bbci.co.uk/b006qykl.rss"),
    _corpus("rss20_guardian", feed, "feeds/rss-parser/input/guardian.rss", "https://www.theguardian.com/us/rss"),
    _corpus("rss20_jn_latin1", feed, "feeds/rss-parser/input/encoding.rss", "http://feeds.jn.pt/JN-ULTIMAS"),
    _corpus("rss_uol_latin1_undeclared", feed, "feeds/rss-parser/input/uolNoticias.rss", "http://rss.uol.com.br/index.xml"),
    _corpus("rss20_kc0011_gb2312", feed, "feeds/netnewswire/kc0011.rss", "http://www.kc0011.net/rss.asp"),
    _corpus("rss20_invalid_dates", feed, "feeds/feedjira/InvalidDateFormat.xml", "http://example.com/feed.xml"),
    _corpus("atom_heise", feed, "feeds/rss-parser/input/heise.atom", "https://www.heise.de/developer/rss/news-atom.xml"),
    _corpus("atom_youtube", feed, "feeds/feedjira/youtube_atom.xml", "https://www.youtube.com/feeds/videos.xml"),
    _corpus("atom_google_alerts", news, "feeds/feedjira/google_alerts_atom.xml", "https://www.google.com/alerts/feeds/1/2"),
    _corpus("jsonfeed10_example", jsonfeed, "feeds/feed-rs/jsonfeed/jsonfeed_example_1.json", "https://example.org/feed.json"),
    _corpus("jsonfeed11_influxdata", jsonfeed, "feeds/feed-rs/jsonfeed/jsonfeed_elastic_1.1.json",
            "https://www.influxdata.com/feed/json"),
    _corpus("daringfireball_rss", feed, "feeds/netnewswire/DaringFireball.rss", "https://daringfireball.net/index.xml"),
    _corpus("daringfireball_atom", feed, "feeds/netnewswire/DaringFireball.atom", "https://daringfireball.net/feeds/main"),
    # The JSON version goes through `feed`, which hands JSON Feeds to the JSON Feed parser.
    _corpus("daringfireball_json", feed, "feeds/netnewswire/DaringFireball.json", "https://daringfireball.net/feeds/json"),
]
BY_NAME = {c.name: c for c in CASES}


def _marks(case: Case, bug: str | None) -> list[pytest.MarkDecorator]:
    marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
    if case.path.is_relative_to(CORPUS):
        marks.append(pytest.mark.skipif(not CORPUS.is_dir(), reason=NO_CORPUS))
    return marks


def parse_case(case: Case) -> Parsed:
    return case.kind.parse(Document(url=case.url, body=case.path.read_bytes()))


def normalise_all(case: Case, parsed: Parsed) -> list[NormalisedItem | None]:
    outlet = parsed.title or urlsplit(case.url).hostname or ""
    return [normalise_entry(e, kind=case.kind.ITEM_KIND, default_outlet=outlet, max_chars=4000, now=NOW,
                            source_url=case.url)
            for e in parsed.entries]


def render(case: Case) -> dict[str, Any]:
    parsed = parse_case(case)
    entries = [i and asdict(i) | {"published_at": i.published_at and i.published_at.isoformat()}
               for i in normalise_all(case, parsed)]
    return {"case": case.name, "kind": case.kind.NAME, "url": case.url, "title": parsed.title,
            "next_url": parsed.next_url, "entries": entries}


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=_marks(c, c.known_bug)) for c in CASES])
def test_golden(case: Case) -> None:
    golden = GOLDEN / f"{case.name}.json"
    actual = json.loads(json.dumps(render(case)))
    if UPDATE:
        if case.known_bug:
            pytest.skip("golden file holds the output expected after the fix; not rewritten")
        golden.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", "utf-8")
    expected = json.loads(golden.read_text("utf-8"))
    assert actual | {"entries": len(actual["entries"])} == expected | {"entries": len(expected["entries"])}
    for n, (got, want) in enumerate(zip(actual["entries"], expected["entries"], strict=True)):
        assert got == want, f"entry {n} differs from {golden.name}"


def test_every_golden_file_has_a_case() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(BY_NAME)


@pytest.mark.skipif(not CORPUS.is_dir(), reason=NO_CORPUS)
def test_board_fixtures_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location("make_boards", TESTS / "fixtures" / "make_boards.py")
    assert spec and spec.loader
    make_boards = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_boards)
    built = make_boards.build_all()
    assert built == make_boards.build_all(), "the generator is not deterministic"
    assert {name: (BOARDS / name).read_text("utf-8") for name in built} == built


# --- what each kind must get right, beyond "the same as last time" ---------------------------------------------

def items(name: str) -> list[NormalisedItem]:
    case = BY_NAME[name]
    return [i for i in normalise_all(case, parse_case(case)) if i is not None]


def by_id(name: str) -> dict[str, NormalisedItem]:
    return {i.external_id: i for i in items(name)}


def test_greenhouse_content_becomes_plain_text() -> None:
    got = items("greenhouse_anduril")  # the docs example's doubly escaped content is its golden case's known bug
    for item in got:
        assert not any(bad in item.text for bad in ("<", "&lt;", "&amp;")) and "R&D teams" in item.text, item.text
    assert got[0].outlet == "Anduril" and got[0].department == "Engineering"
    assert got[0].published_at == datetime(2024, 4, 8, 17, 15, 15, tzinfo=UTC)  # first_published at -04:00


def test_lever_created_at_milliseconds_become_utc() -> None:
    raw, got = json.loads(BY_NAME["lever_palantir"].path.read_bytes()), by_id("lever_palantir")
    assert len(got) == len(raw) == 28
    for posting in raw:
        when = got[posting["id"]].published_at
        assert when is not None and when.tzinfo is not None and when.utcoffset() == timedelta(0)
        assert round(when.timestamp() * 1000) == posting["createdAt"]
    assert str(got["289ad049-7b4e-41e3-8a39-146fbeb6fb64"].published_at) == "2023-07-19 07:14:05.165000+00:00"


@pytest.mark.parametrize(("workplace", "remote"), [("remote", True), ("hybrid", None), ("onsite", None)])
def test_lever_workplace_type(workplace: str, remote: bool | None) -> None:
    posting = json.loads(BY_NAME["lever_palantir"].path.read_bytes())[0] | {"workplaceType": workplace}
    entry = lever.parse(Document(url="https://api.lever.co/v0/postings/palantir", body=json.dumps([posting]).encode()))
    assert entry.entries[0].remote is remote


def test_ashby_skips_unlisted_and_keeps_secondary_locations() -> None:
    raw, got = json.loads(BY_NAME["ashby_elevenlabs"].path.read_bytes())["jobs"], by_id("ashby_elevenlabs")
    unlisted = [j["id"] for j in raw if not j["isListed"]]
    assert len(unlisted) == 1 and unlisted[0] not in got and len(got) == len(raw) - 1
    design = got["1371713c-0c4d-47bb-a4b9-2b1d101f1b2b"]
    assert [(p["city"], p["country"]) for p in design.locations] == [("London", "United Kingdom"),
                                                                     ("New York", "United States")]
    assert design.remote is None and got["3974b0ef-0f2f-4a1e-8327-b8f4a076612f"].remote is True


def test_smartrecruiters_pages_and_urls() -> None:
    first, second = parse_case(BY_NAME["smartrecruiters_visa_page1"]), parse_case(BY_NAME["smartrecruiters_visa_page2"])
    assert first.next_url == SR_PAGE2 and parse_qs(urlsplit(first.next_url).query)["offset"] == ["4"]
    assert second.next_url is None and len(first.entries) + len(second.entries) == 6 and first.title == "Visa"
    for entry in first.entries + second.entries:
        assert entry.url == f"https://jobs.smartrecruiters.com/Visa/{entry.external_id}"


def test_workable_telecommuting_marks_remote() -> None:
    got = by_id("workable_keywords")
    finnish, us = got["655E1BCA22"], got["B0CD44F5F0"]
    assert finnish.remote is True and finnish.locations[0]["country"] == "Canada" and finnish.locations[0]["remote"]
    assert us.remote is None and us.locations == [{"city": None, "region": None, "country": "United States",
                                                   "remote": False, "raw": "United States"}]


def test_careers_reads_json_ld_and_ignores_the_rest() -> None:
    onsite, remote = got = items("careers_stripe")
    assert [i.title for i in got] == ["Software Engineer, New Grad", "Full Stack Engineer - Optimized Checkout & Link"]
    assert onsite.external_id == "6025906" and onsite.remote is None and onsite.employment_type == "FULL_TIME"
    assert remote.remote is True and remote.url == "https://stripe.com/jobs/search?gh_jid=5685463"
    with pytest.raises(SourceError) as err:
        careers.parse(Document(url="https://stripe.com/jobs", body=b"<html><body>No openings</body></html>"))
    assert err.value.kind == "not_a_feed"


@pytest.mark.parametrize(("name", "external_id"), [("greenhouse_anduril", "4533649007"),
                                                   ("lever_palantir", "dea9d3d5-75b2-4588-b7bd-585a47b79c8c")])
def test_seattle_wa_becomes_city_region_country(name: str, external_id: str) -> None:
    place = by_id(name)[external_id].locations[0]
    assert (place["city"], place["region"], place["country"]) == ("Seattle", "Washington", "United States")


@pytest.mark.parametrize(("fields", "expected"), [
    ({"raw": "Toronto, ON, Canada"}, ("Toronto", "Ontario", "Canada", False)),
    ({"raw": "London, UK"}, ("London", None, "United Kingdom", False)),
    ({"city": "Bellevue", "region": "WA", "country": "US"}, ("Bellevue", "Washington", "United States", False)),
    ({"raw": "Remote in USA"}, (None, None, "United States", True)),
    ({"raw": "NYC"}, ("New York", "New York", "United States", False)),
    ({"city": "Toronto", "region": "ON", "country": "CA"}, ("Toronto", "Ontario", "Canada", False)),
    ({"region": "Scotland", "country": "United Kingdom"}, (None, "Scotland", "United Kingdom", False)),
])
def test_locations(fields: dict[str, str], expected: tuple[Any, ...]) -> None:
    place = parse_places(fields["raw"])[0] if "raw" in fields else structured_place(
        city=fields.get("city"), region=fields.get("region"), country=fields.get("country"))
    assert (place.city, place.region, place.country, place.remote) == expected


@pytest.mark.skipif(not CORPUS.is_dir(), reason=NO_CORPUS)
def test_jsonfeed_reads_rfc822_dates() -> None:
    assert items("jsonfeed11_influxdata")[0].published_at == datetime(2019, 5, 31, 19, 17, 58, tzinfo=UTC)


def test_feed_resolves_relative_links() -> None:
    body = (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title><entry><title>Robots Run Amok</title>'
            b'<link href="/blog/2003/12/13/atom03"/><id>urn:uuid:1225c695</id></entry></feed>')
    entry = feed.parse(Document(url="https://example.com/blog/feed.xml", body=body)).entries[0]
    assert entry.url == "https://example.com/blog/2003/12/13/atom03"


def test_news_title_loses_its_outlet_suffix() -> None:
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>"acme" - Google News</title><item>'
            b"<title>Acme opens a warehouse in Reno - Reuters</title><link>https://news.example/a?utm_source=x</link>"
            b'<source url="https://www.reuters.com">Reuters</source></item></channel></rss>')
    entry = news.parse(Document(url="https://news.google.com/rss/search?q=acme", body=body)).entries[0]
    assert (entry.title, entry.outlet) == ("Acme opens a warehouse in Reno", "Reuters")


WRONG_SHAPES = {greenhouse: b"[]", lever: b'{"postings": []}', ashby: b'{"jobs": {"id": 1}}',
                smartrecruiters: b'{"offset": 0, "content": "none"}', workable: b"[]", jsonfeed: b'"feed"'}


@pytest.mark.parametrize("kind", list(WRONG_SHAPES), ids=lambda k: k.NAME)
@pytest.mark.parametrize("body", [b'{"jobs": [{"id": 1,', b"<html>502 Bad Gateway</html>", b"", None],
                         ids=["truncated", "html", "empty", "wrong-shape"])
def test_unusable_json_is_a_source_error(kind: ModuleType, body: bytes | None) -> None:
    with pytest.raises(SourceError) as err:
        kind.parse(Document(url="https://api.example/x", body=WRONG_SHAPES[kind] if body is None else body))
    assert err.value.kind == "malformed"


UNIQUE_ID_BUGS: dict[str, str] = {}


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=_marks(c, UNIQUE_ID_BUGS.get(c.name)))
                                  for c in CASES])
def test_external_ids_are_unique_within_a_document(case: Case) -> None:
    ids = [i.external_id for i in normalise_all(case, parse_case(case)) if i is not None]
    assert len(ids) == len(set(ids))


# --- cross-check against feed-rs's own expected parses (its model: entries[].title.content) ---------------------

FEED_RS = [pytest.param(p, id=f"{p.parent.name}/{p.name.removesuffix('.serde.json')}")
           for p in sorted((CORPUS / "feeds" / "feed-rs").rglob("*.serde.json"))]


@pytest.mark.parametrize("serde", FEED_RS or [pytest.param(None, marks=pytest.mark.skip(reason=NO_CORPUS))])
def test_feed_rs_cross_check(serde: Path) -> None:
    stem = serde.name.removesuffix(".serde.json")
    source = next(p for p in serde.parent.iterdir() if p.name.startswith(f"{stem}.") and p != serde)
    theirs = [" ".join(((e.get("title") or {}).get("content") or "").split())
              for e in json.loads(serde.read_bytes())["entries"]]
    parsed = feed.parse(Document(url="https://feeds.example/feed", body=source.read_bytes()))
    ours = [" ".join(e.title.split()) for e in parsed.entries]
    assert len(ours) == len(theirs)
    same = sum(a == b for a, b in zip(ours, theirs, strict=True))
    assert same >= 0.9 * len(theirs), [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
