"""`briefbot sources import` and `sources export` on SQLite and PostgreSQL, with feeds on a local HTTP server and
the SSRF guard on (only 127.0.0.1 allowed): each outline is added, already followed or refused with its reason,
one line each; a second import adds nothing; an export read back into another workspace follows every source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cli import main
from bot.core.opml import parse_opml
from bot.demo.server import LocalServer, Route
from bot.storage.models import Source, Subscription
from tests.feeds import numbered, rss

GREENHOUSE = {"jobs": [], "meta": {"total": 0}}


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str, server: LocalServer) -> Any:
    monkeypatch.chdir(tmp_path)  # no stray .env
    env = {"DATABASE_URL": db_url, "BRIEFBOT_ALLOW_PRIVATE_URLS": "false", "BRIEFBOT_ALLOWED_NETWORKS": "127.0.0.1/32",
           "BRIEFBOT_FETCH_DEADLINE": "5", "BRIEFBOT_NEWS_SEARCH_URL": server.url("/news?q={query}")}

    def run(*args: str, code: int = 0, stdin: str | None = None) -> Result:
        result = CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return run


@pytest.fixture
def engine_of(db_url: str) -> Any:
    from bot.storage.db import build_engine
    from tests.conftest import make_settings

    made: list[Engine] = []

    def build() -> Engine:
        made.append(build_engine(make_settings(db_url)))
        return made[-1]

    yield build
    for engine in made:
        engine.dispose()


def sources_of(engine: Engine, team: str) -> list[Source]:
    with Session(engine) as session:
        return list(session.exec(select(Source).where(Source.team_id == team).order_by(Source.id)))  # type: ignore[arg-type]


def follows_of(engine: Engine, channel: str) -> dict[int, str | None]:
    with Session(engine) as session:
        subs = session.exec(select(Subscription).where(Subscription.channel_id == channel))
        return {s.source_id: s.alert for s in subs}


def opml(*outlines: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0" xmlns:briefbot="urn:briefbot:opml">'
            "<head><title>t</title></head><body>\n" + "\n".join(outlines) + "\n</body></opml>\n")


def test_import_says_for_each_outline_what_became_of_it_and_a_second_import_adds_nothing(
        cli: Any, server: LocalServer, engine_of: Any, tmp_path: Path) -> None:
    server.route("/a.xml", Route(body=rss(numbered(2), title="A Wire")))
    server.route("/b.xml", Route(body=rss(numbered(2), title="B Wire")))
    server.route("/blog", Route(body=b"<html><head><link rel='alternate' type='application/rss+xml' href='/b.xml'>"
                                     b"</head><body>blog</body></html>", content_type="text/html"))
    server.route("/gh", Route(body=json.dumps(GREENHOUSE).encode(), content_type="application/json"))
    a, blog, gh, missing = server.url("/a.xml"), server.url("/blog"), server.url("/gh"), server.url("/missing")
    path = tmp_path / "subs.opml"
    path.write_text(opml(
        f'<outline text="A (declared)" type="rss" xmlUrl="{a}"/>',
        f'<outline text="Blog page" xmlUrl="{blog}"/>',
        '<outline text="Private" type="rss" xmlUrl="http://10.1.2.3/feed"/>',
        '<outline text="Metadata" type="rss" xmlUrl="http://169.254.169.254/latest/meta-data/"/>',
        f'<outline text="Gone" xmlUrl="{missing}"/>',
        f'<outline text="Acme jobs" xmlUrl="{gh}" briefbot:kind="greenhouse"/>',
        f'<outline text="Odd kind" xmlUrl="{server.url("/odd")}" briefbot:kind="frobnicator"/>',
        '<outline text="FTP" type="rss" xmlUrl="ftp://files.example/feed"/>',
        '<outline text="No address" type="rss"/>',
        f'<outline text="A again" type="rss" xmlUrl="{a}?utm_source=opml"/>'))

    first = json.loads(cli("sources", "import", str(path), "--channel", "C1", "--alert", "digest", "--team", "T1",
                           "--json").output)
    assert (first["added"], first["already_followed"], first["refused"]) == (3, 0, 7)
    lines = {line["title"]: line for line in first["lines"]}
    assert lines["A (declared)"]["outcome"] == "added" and lines["A (declared)"]["kind"] == "feed"
    assert server.hits["/a.xml"] == 0  # type="rss": added without fetching it
    assert (lines["B Wire"]["outcome"], lines["B Wire"]["kind"]) == ("added", "feed")  # fetched: the page's feed
    assert lines["B Wire"]["reason"] == f"feed found on the page: {server.url('/b.xml')}"
    assert (lines["Acme jobs"]["outcome"], lines["Acme jobs"]["kind"]) == ("added", "greenhouse")
    refused = {line["title"]: line["reason"] for line in first["lines"] if line["outcome"] == "refused"}
    assert "10.1.2.3" in refused["Private"] and "private" in refused["Private"]
    assert "169.254.169.254" in refused["Metadata"]
    assert "HTTP 404" in refused["Gone"]
    assert "unknown source kind 'frobnicator'" in refused["Odd kind"]
    assert refused["outline 8 (FTP)"] == "only http and https feeds are followed, not ftp: URLs"
    assert refused["outline 9 (No address)"] == "it has no xmlUrl (the feed's address)"
    assert refused["outline 10 (A again)"] == "the same URL is listed earlier in the file"

    engine = engine_of()
    stored = sources_of(engine, "T1")
    assert [(s.kind, s.locator, s.title) for s in stored] == [
        ("feed", a, "A (declared)"), ("feed", server.url("/b.xml"), "B Wire"), ("greenhouse", gh, "Acme jobs")]
    assert follows_of(engine, "C1") == {s.id: "digest" for s in stored}

    again = cli("sources", "import", str(path), "--channel", "C1", "--team", "T1").output.splitlines()
    assert again[0] == f"imported {path} into T1 in C1: 0 added, 3 already followed, 7 refused"
    assert f"already followed: A (declared) <{a}> (source {stored[0].id}, feed)" in again
    assert sum(line.startswith("refused: ") for line in again) == 7
    assert "refused: FTP: only http and https feeds are followed, not ftp: URLs" not in again  # where, not title
    assert "refused: outline 8 (FTP) <ftp://files.example/feed>: only http and https feeds are followed, not ftp: " \
           "URLs" in again
    assert len(sources_of(engine, "T1")) == 3 and follows_of(engine, "C1") == {s.id: "digest" for s in stored}

    other = json.loads(cli("sources", "import", "-", "--channel", "C2", "--team", "T1", "--json",
                           stdin=path.read_text()).output)  # another channel: followed there, no new source
    assert (other["added"], other["already_followed"]) == (3, 0)
    assert len(sources_of(engine, "T1")) == 3 and set(follows_of(engine, "C2")) == {s.id for s in stored}

    workspace_only = json.loads(cli("sources", "import", str(path), "--team", "T1", "--json").output)
    assert (workspace_only["added"], workspace_only["already_followed"]) == (0, 3)  # no channel: the workspace's


def test_an_export_read_back_into_another_workspace_follows_every_source(
        cli: Any, server: LocalServer, engine_of: Any, tmp_path: Path) -> None:
    feeds = [server.url(f"/feeds/{n}.xml") for n in range(40)]
    path = tmp_path / "many.opml"
    path.write_text(opml(*(f'<outline text="Feed {n}" type="rss" xmlUrl="{url}"/>' for n, url in enumerate(feeds))))
    assert "40 added, 0 already followed, 0 refused" in cli("sources", "import", str(path), "--team", "T1").output
    cli("sources", "add", server.url("/gh"), "--kind", "greenhouse", "--team", "T1", "--channel", "C9")
    cli("sources", "add", 'news:"kestrel robotics"', "--team", "T1", "--channel", "C9")
    cli("sources", "add", server.url("/careers"), "--kind", "careers", "--team", "T1")
    cli("sources", "add", server.url("/feed.json"), "--kind", "jsonfeed", "--team", "T1")
    assert sum(server.hits.values()) == 0  # nothing fetched: every kind was known

    exported = cli("sources", "export", "--team", "T1").output
    read = parse_opml(exported.encode())
    assert {f.category for f in read.feeds} == {("Feeds",), ("Job boards",), ("News searches",), ("Careers pages",)}
    out = tmp_path / "export.opml"
    out.write_text(exported)
    summary = json.loads(cli("sources", "import", str(out), "--team", "T2", "--json").output)
    assert (summary["added"], summary["already_followed"], summary["refused"]) == (44, 0, 0)

    engine = engine_of()
    one, two = sources_of(engine, "T1"), sources_of(engine, "T2")
    assert sorted((s.kind, s.locator, s.title) for s in two) == sorted((s.kind, s.locator, s.title) for s in one)
    assert "0 added, 44 already followed" in cli("sources", "import", str(out), "--team", "T2").output

    channel = parse_opml(cli("sources", "export", "--team", "T1", "--channel", "C9").output.encode())
    assert sorted(f.kind for f in channel.feeds) == ["greenhouse", "news"]  # only what C9 follows
    assert parse_opml(cli("sources", "export", "--team", "T3").output.encode()).feeds == ()


def test_a_hostile_file_fails_in_one_line_and_stores_nothing(cli: Any, engine_of: Any, tmp_path: Path) -> None:
    path = tmp_path / "laughs.opml"
    path.write_text('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
                    '<opml><body><outline text="&lol2;" xmlUrl="http://127.0.0.1:9/"/></body></opml>')
    result = cli("sources", "import", str(path), "--team", "T1", code=1)
    assert result.output.strip() == (f"briefbot: cannot read {path} as OPML: the file declares a DTD (<!DOCTYPE …>); "
                                     "OPML needs none, and briefbot refuses one so no entity is ever expanded")
    big = tmp_path / "big.opml"
    big.write_bytes(b"<opml><body>" + b" " * (3 * 1024 * 1024) + b"</body></opml>")
    assert "at most 2,097,152" in cli("sources", "import", str(big), "--team", "T1", code=1).output
    assert "--alert needs --channel" in cli("sources", "import", str(path), "--alert", "every", code=2).output
    assert sources_of(engine_of(), "T1") == []
