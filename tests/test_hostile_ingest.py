"""Hostile input through polling and analysis, on SQLite and PostgreSQL: each unit of work fails alone.

Boards and feeds are served by a local HTTP server; where the database itself must refuse something (a unit
that fails for a reason no sanitising can foresee), a trigger in the test's own schema refuses it, so the
boundary is tested through the real code path without patching anything."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.analysis.run import analyse
from bot.briefs.writers import BuiltinWriter
from bot.demo.server import LocalServer, Route
from bot.settings import Settings
from bot.storage.health import analysis_problem
from bot.storage.models import Brief, Item, Poll, Signal, Source
from tests.db_faults import allow, refuse
from tests.test_poller import add, poll, source

HUGE_CITY = "Lake " + "Very" * 60 + "long City"  # 250 characters: a metro name over its column's 200


def greenhouse(jobs: list[dict[str, Any]], name: str = "") -> Route:
    return Route(body=json.dumps({"jobs": jobs, "name": name}).encode(), content_type="application/json")


def job(n: int, title: str, location: Any, company: str) -> dict[str, Any]:
    return {"id": n, "title": title, "absolute_url": f"https://boards.example/{company}/{n}", "location": location,
            "company_name": company, "first_published": "2026-11-20T10:00:00Z"}


WRITER = BuiltinWriter("no LLM in this test")
WAREHOUSE = ["Warehouse Associate", "Forklift Operator", "Inventory Specialist", "Picker Packer"]


def boards_with_new_postings(server: LocalServer, settings: Settings, engine: Engine, clock: Any,
                             boards: dict[str, tuple[str, Any, list[str]]]) -> dict[str, int]:
    """Each team's board (company, location, titles): first polled with one engineer (history), then again a
    day later with the warehouse roles added (news)."""
    ids = {}
    for team, (company, _location, _titles) in boards.items():
        server.route(f"/{team}", greenhouse([job(1, "Software Engineer", {"name": "Boise, ID"}, company)]))
        ids[team] = add(engine, clock, server.url(f"/{team}"), kind="greenhouse", team=team)
    poll(settings, engine, clock, due_only=False)
    clock.now += timedelta(days=1)
    for team, (company, location, titles) in boards.items():
        jobs = [job(1, "Software Engineer", {"name": "Boise, ID"}, company)]
        jobs += [job(10 + n, t, location, company) for n, t in enumerate(titles)]
        server.route(f"/{team}", greenhouse(jobs))
    report = poll(settings, engine, clock, due_only=False)
    assert report.errors == 0, report.failures
    return ids


def signals_by_team(engine: Engine) -> dict[str, list[Signal]]:
    out: dict[str, list[Signal]] = {}
    with Session(engine) as session:
        for signal in session.exec(select(Signal)):
            out.setdefault(signal.team_id, []).append(signal)
    return out


def test_a_250_character_location_makes_a_signal_and_spares_the_next_workspace(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    """Issue 11.1: the metro was over its column's 200 characters on PostgreSQL; saving the signal failed and
    analysis stopped for that workspace and every workspace after it."""
    boards_with_new_postings(server, settings, engine, clock, {
        "T_A": ("Lakeside Freight", {"name": f"{HUGE_CITY}, WA"}, WAREHOUSE),
        "T_B": ("Kestrel Commerce", {"name": "Kent, WA"}, WAREHOUSE),
    })
    report = analyse(engine=engine, clock=clock, settings=settings, writer=WRITER)
    assert report.problems == []
    signals = signals_by_team(engine)
    assert [s.metro for s in signals["T_B"]] == ["Seattle"]
    assert len(signals["T_A"]) == 1 and signals["T_A"][0].item_count == 4
    assert signals["T_A"][0].metro.startswith("Lake Very") and len(signals["T_A"][0].metro) <= 200
    with Session(engine) as session:
        assert {b.team_id for b in session.exec(select(Brief))} == {"T_A", "T_B"}


def test_a_company_the_database_refuses_fails_alone_and_says_why(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    """One company's signals fail (whatever the reason): the workspace's other companies and the next
    workspace still get theirs, the failure is recorded on the workspace, and a later clean pass clears it."""
    server.route("/T_A-2", greenhouse([job(1, "Software Engineer", {"name": "Boise, ID"}, "Good Co")]))
    boards_with_new_postings(server, settings, engine, clock, {
        "T_A": ("Bad Co", {"name": "Kent, WA"}, WAREHOUSE),
        "T_B": ("Kestrel Commerce", {"name": "Kent, WA"}, WAREHOUSE),
    })
    # A second board in the first workspace, whose new postings arrive in the same pass.
    add(engine, clock, server.url("/T_A-2"), kind="greenhouse", team="T_A")
    poll(settings, engine, clock, due_only=False)
    clock.now += timedelta(hours=1)
    tacoma = [job(20 + n, t, {"name": "Tacoma, WA"}, "Good Co") for n, t in enumerate(WAREHOUSE)]
    server.route("/T_A-2", greenhouse([job(1, "Software Engineer", {"name": "Boise, ID"}, "Good Co"), *tacoma]))
    poll(settings, engine, clock, due_only=False)

    refuse(engine, "refuse_on_signals", "signals", "NEW.company = 'Bad Co'")
    report = analyse(engine=engine, clock=clock, settings=settings, writer=WRITER)
    signals = signals_by_team(engine)
    assert [s.company for s in signals["T_A"]] == ["Good Co"]
    assert [s.company for s in signals["T_B"]] == ["Kestrel Commerce"]
    assert len(report.problems) == 1 and "'Bad Co'" in report.problems[0]
    with Session(engine) as session:
        problem = analysis_problem(session=session, team_id="T_A")
        assert problem is not None and "hiring signals for 'Bad Co' failed" in problem[0]
        assert "\n" not in problem[0]
        assert analysis_problem(session=session, team_id="T_B") is None
    status = briefbot_status(settings)  # the operator's view of it
    assert "warning: workspace T_A: the last analysis pass" in status and "'Bad Co'" in status
    assert "T_B" not in status

    # A pass that does no work for a workspace (nothing wanted there) leaves what another pass recorded.
    from bot.storage.db import session_scope
    from bot.storage.health import record_analysis

    with session_scope(engine) as session:
        record_analysis(session=session, team_id="T_B", problems=["seen by another worker"], now=clock())
    analyse(engine=engine, clock=clock, settings=settings, writer=WRITER, only_wanted=True)
    with Session(engine) as session:
        kept = analysis_problem(session=session, team_id="T_B")
    assert kept is not None and kept[0] == "seen by another worker"

    allow(engine, "refuse_on_signals", "signals")
    clock.now += timedelta(minutes=5)
    report = analyse(engine=engine, clock=clock, settings=settings, writer=WRITER, only_wanted=True)
    assert report.problems == []
    assert sorted(s.company for s in signals_by_team(engine)["T_A"]) == ["Bad Co", "Good Co"]
    with Session(engine) as session:
        assert analysis_problem(session=session, team_id="T_A") is None
    assert "workspace T_A" not in briefbot_status(settings)  # cleared; T_B keeps what another worker recorded


def briefbot_status(settings: Settings) -> str:
    """`briefbot status`, run in this process on the test's database."""
    from click.testing import CliRunner

    from bot.cli import main

    env = {"DATABASE_URL": settings.database_url, "SLACK_BOT_TOKEN": None, "SLACK_CLIENT_ID": None}
    result = CliRunner().invoke(main, ["status"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_brief_the_database_refuses_fails_alone(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    boards_with_new_postings(server, settings, engine, clock, {
        "T_A": ("Bad Co", {"name": "Kent, WA"}, WAREHOUSE),
        "T_B": ("Kestrel Commerce", {"name": "Kent, WA"}, WAREHOUSE),
    })
    refuse(engine, "refuse_on_briefs", "briefs", "NEW.headline LIKE '%Bad Co%'")
    report = analyse(engine=engine, clock=clock, settings=settings, writer=WRITER)
    with Session(engine) as session:
        assert [b.team_id for b in session.exec(select(Brief))] == ["T_B"]
        problem = analysis_problem(session=session, team_id="T_A")
    assert problem is not None and problem[0].startswith("the brief for signal")
    assert len(report.problems) == 1
    allow(engine, "refuse_on_briefs", "briefs")
    analyse(engine=engine, clock=clock, settings=settings, writer=WRITER, only_wanted=True)
    with Session(engine) as session:  # the brief left wanted is written by the next pass
        assert sorted(b.team_id for b in session.exec(select(Brief))) == ["T_A", "T_B"]


def json_feed(items: list[Any]) -> Route:
    return Route(body=json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Hostile",
                                  "items": items}).encode(), content_type="application/feed+json")


def rss_feed(title: str) -> Route:
    return Route(body=(f"<rss version='2.0'><channel><title>{title}</title><item><title>Healthy news</title>"
                       f"<link>https://healthy.example/{title}/1</link></item></channel></rss>").encode())


def test_hostile_headers_and_nul_items_fail_nothing_in_their_batch(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    """Issue 11.2: a 600-character ETag, a 150-character Last-Modified and an item with NUL characters failed
    while the batch was stored on PostgreSQL, and the healthy sources of the batch lost their results."""
    long_etag = Route(body=rss_feed("etag").body, etag=False, headers={"ETag": '"' + "e" * 600 + '"'})
    long_date = Route(body=rss_feed("date").body, etag=False, last_modified="Tue, 01 Dec 2026 10:00:00 GMT" + "x" * 120)
    nul = json_feed([{"id": "n\u0000ul", "url": "https://nul.example/1\u0000", "title": "NUL\u0000 in the title",
                      "content_html": "<p>text\u0000 and \ud800 a lone surrogate</p>",
                      "authors": [{"name": "A\u0000uthor"}]},
                     {"id": "2", "url": "https://nul.example/2", "title": "Plain"}])
    ids = {}
    for name, route in {"etag": long_etag, "date": long_date, "nul": nul, "healthy": rss_feed("healthy")}.items():
        server.route(f"/{name}", route)
        ids[name] = add(engine, clock, server.url(f"/{name}"))
    report = poll(settings, engine, clock, due_only=False)
    assert (report.polled, report.errors, report.failures) == (4, 0, [])
    for source_id in ids.values():
        polled = source(engine, source_id)
        assert (polled.last_success_at, polled.lease_owner, polled.failures) == (clock(), None, 0)
    assert source(engine, ids["etag"]).etag is None  # too long to keep: the next fetch is unconditional
    assert source(engine, ids["date"]).last_modified is None
    with Session(engine) as session:
        items = {i.url: i for i in session.exec(select(Item).where(Item.source_id == ids["nul"]))}
    assert set(items) == {"https://nul.example/1", "https://nul.example/2"}
    first = items["https://nul.example/1"]
    assert (first.title, first.text, first.author, first.external_id) == (
        "NUL in the title", "text and a lone surrogate", "Author", "nul")


def test_an_item_the_database_refuses_leaves_the_others_stored(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    """One item failing to store (a reason no sanitising foresaw) costs that item, not the source's poll."""
    server.route("/feed", json_feed([{"id": str(n), "url": f"https://x.example/{n}", "title": f"Story {n}"}
                                     for n in range(5)] + [{"id": "p", "url": "https://x.example/p",
                                                            "title": "Poison pill"}]))
    feed_id = add(engine, clock, server.url("/feed"))
    refuse(engine, "refuse_on_items", "items", "NEW.title LIKE 'Poison%'")
    report = poll(settings, engine, clock, due_only=False)
    assert (report.errors, report.items_new) == (0, 5)
    with Session(engine) as session:
        assert len(session.exec(select(Item)).all()) == 5
        notes = session.exec(select(Poll.notes).where(Poll.source_id == feed_id)).one()
    assert notes is not None and "1 of 6 items could not be stored (" in notes and "refused by the test" in notes
    shown = source(engine, feed_id).last_notes  # what `sources list` shows
    assert shown is not None and "1 of 6 items could not be stored" in shown

    allow(engine, "refuse_on_items", "items")  # the same bytes next time: the refused item is tried again, and stored
    clock.now += timedelta(hours=1)
    report = poll(settings, engine, clock, due_only=False)
    assert (report.errors, report.items_new) == (0, 1)
    with Session(engine) as session:
        assert len(session.exec(select(Item)).all()) == 6
    assert "could not be stored" not in (source(engine, feed_id).last_notes or "")


def test_a_poll_whose_every_item_is_refused_is_an_error_and_retried(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    server.route("/feed", json_feed([{"id": str(n), "url": f"https://x.example/{n}", "title": f"Poison {n}"}
                                     for n in range(3)]))
    feed_id = add(engine, clock, server.url("/feed"))
    refuse(engine, "refuse_on_items", "items", "NEW.title LIKE 'Poison%'")
    assert poll(settings, engine, clock, due_only=False).errors == 1
    failed = source(engine, feed_id)
    assert failed.last_error_kind == "store" and failed.body_hash is None
    assert failed.last_error is not None and "3 of 3 items could not be stored" in failed.last_error


def test_a_source_whose_poll_cannot_be_recorded_spares_its_batch(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    """Even recording the outcome fails for one source: the others in its batch keep their results and leases
    are released; the failing one is reported and retried when its lease runs out."""
    server.route("/bad", rss_feed("bad"))
    server.route("/good", rss_feed("good"))
    bad, good = add(engine, clock, server.url("/bad")), add(engine, clock, server.url("/good"))
    refuse(engine, "refuse_on_polls", "polls", f"NEW.source_id = {bad}")
    report = poll(settings, engine, clock, due_only=False)
    assert report.polled == 2 and report.errors == 1
    assert [(sid, kind) for sid, kind, _ in report.failures] == [(bad, "unrecorded")]
    assert "refused by the test" in report.failures[0][2]
    assert source(engine, good).last_success_at == clock() and source(engine, good).lease_owner is None
    assert source(engine, bad).lease_owner is not None  # runs out by itself; nothing of the failed poll was kept
    with Session(engine) as session:
        assert {i.url for i in session.exec(select(Item))} == {"https://healthy.example/good/1"}


def test_one_bad_item_never_loses_the_source(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    """Issue 11.7: an absurd date dropped the feed's good items; a location given as text failed the board."""
    server.route("/feed", json_feed([
        {"id": "1", "url": "https://x.example/1", "title": "Good one", "date_published": "2026-11-20T10:00:00Z"},
        {"id": "2", "url": "https://x.example/2", "title": "Absurd date", "date_published": "20261201100000000000"},
        {"id": "3", "url": "https://x.example/3", "title": "Numeric date", "date_published": 20261201100000000000},
        "not an item",
        {"id": "4", "url": "https://x.example/4", "title": "Good two", "date_published": "0001-01-01T00:00:00Z"},
    ]))
    server.route("/board", greenhouse([
        job(1, "Warehouse Associate", "Kent, WA", "Kestrel"),  # the location as bare text
        job(2, "Picker", {"name": "Tacoma, WA"}, "Kestrel"),
        job(3, "Driver", ["Seattle, WA"], "Kestrel"),  # a list: no place read, the posting kept
        {**job(4, "Loader", None, "Kestrel"), "offices": "Renton", "departments": "Logistics", "metadata": 7},
    ]))
    feed_id = add(engine, clock, server.url("/feed"))
    board_id = add(engine, clock, server.url("/board"), kind="greenhouse")
    report = poll(settings, engine, clock, due_only=False)
    assert report.errors == 0, report.failures
    with Session(engine) as session:
        feed_items = {i.title: i for i in session.exec(select(Item).where(Item.source_id == feed_id))}
        jobs = {i.job_title: i for i in session.exec(select(Item).where(Item.source_id == board_id))}
        notes = session.exec(select(Poll.notes).where(Poll.source_id == feed_id)).one()
    assert set(feed_items) == {"Good one", "Absurd date", "Numeric date", "Good two"}
    assert feed_items["Absurd date"].published_at is None and feed_items["Good two"].published_at is None
    assert notes is not None and "skipped 1 of 5 items that could not be read (#4: TypeError: a str" in notes
    assert set(jobs) == {"Warehouse Associate", "Picker", "Driver", "Loader"}
    assert jobs["Warehouse Associate"].locations[0]["city"] == "Kent"
    assert jobs["Loader"].locations[0]["city"] == "Renton"


def test_sources_list_shows_a_source_that_failed_to_store(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    """A store failure of the whole poll is recorded on the source as its own error kind, and retried."""
    server.route("/feed", json_feed([{"id": "p", "url": "https://x.example/p", "title": "Poison pill"}]))
    feed_id = add(engine, clock, server.url("/feed"))
    refuse(engine, "refuse_on_items", "items", "NEW.title LIKE 'Poison%'")
    report = poll(settings, engine, clock, due_only=False)
    assert report.errors == 1
    failed = source(engine, feed_id)
    assert failed.last_error_kind == "store" and failed.lease_owner is None and failed.failures == 1
    assert failed.last_error is not None and "could not be stored" in failed.last_error
    assert "\n" not in failed.last_error
    with Session(engine) as session:
        assert session.exec(select(Source.next_due_at).where(Source.id == feed_id)).one() > clock()


def test_the_flush_guard_fits_what_a_boundary_missed(engine: Engine, clock: Any, caplog: Any) -> None:
    """The storage backstop: text longer than its column, NUL and lone surrogates never reach the database; a
    value that names a row (here a team id) is refused rather than cut into another row's name."""
    import pytest

    from bot.storage.db import session_scope
    from bot.storage.fit import UnfitValueError
    from bot.storage.models import Workspace

    with session_scope(engine) as session:
        session.add(Workspace(team_id="T1", name="N\x00ame \ud800" + "y" * 500, created_at=clock()))
    with Session(engine) as session:
        workspace = session.exec(select(Workspace)).one()
    assert workspace.name.startswith("Name y") and len(workspace.name) == 200
    assert "workspaces.name: a value too long or with unstorable characters was cut to fit" in caplog.text
    with pytest.raises(UnfitValueError, match=r"workspaces\.team_id: a value of 49 characters"), \
            session_scope(engine) as session:
        session.add(Workspace(team_id="T\x00HOSTILE" + "x" * 40, created_at=clock()))
    with Session(engine) as session:
        assert [w.team_id for w in session.exec(select(Workspace))] == ["T1"]


def test_normalise_reads_any_type_a_parser_passes_on() -> None:
    """Parsers hand on what publishers sent; the stored form is built whatever the types."""
    from bot.sources.base import Entry, PlaceHint
    from bot.sources.item import normalise_entry

    hostile: Any = Entry(external_id=12345, url="https://x.example/a\x00b", title=42,  # type: ignore[arg-type]
                         text=None, outlet={"name": "x"}, author=["a"], published_at="yesterday",  # type: ignore[arg-type]
                         job_title=3.5, department={}, employment_type=[], remote="yes",  # type: ignore[arg-type]
                         places=[PlaceHint(text=None, city=7, region=["WA"], country={"c": 1}),  # type: ignore[arg-type]
                                 "Seattle"])  # type: ignore[list-item]
    from tests.conftest import NOW

    item = normalise_entry(hostile, kind="job", default_outlet="Board", max_chars=1000, now=NOW)
    assert item is not None
    assert (item.external_id, item.url, item.title, item.outlet, item.author) == (
        "12345", "https://x.example/ab", "42", "Board", "")
    assert (item.published_at, item.job_title, item.department, item.remote) == (None, "3.5", None, None)
    assert item.locations and item.locations[0]["city"] == "7"


def test_a_briefs_lease_outlasts_the_writers_own_deadline(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    """A slow LLM brief (within its deadline) must not lose its subject's lease mid-way: the lease is the longer
    of BRIEFBOT_LEASE_SECONDS and the writer's bound plus a minute."""
    from bot.briefs.model import BriefInput, WrittenBrief
    from bot.storage.models import WorkLease

    seen: list[float] = []

    class LeaseReadingWriter(BuiltinWriter):
        def write(self, inp: BriefInput) -> WrittenBrief:
            with Session(engine) as session:
                lease = session.exec(select(WorkLease).where(WorkLease.name.startswith("brief:"))).one()
            seen.append((lease.lease_until - clock()).total_seconds())
            return super().write(inp)

    boards_with_new_postings(server, settings, engine, clock, {"T_A": ("Kestrel", {"name": "Kent, WA"}, WAREHOUSE)})
    analyse(engine=engine, clock=clock, settings=settings, writer=LeaseReadingWriter("test"), brief_seconds=1000)
    assert seen == [1060.0]


def test_a_source_added_with_a_hostile_title_and_spec_is_stored_fitted(engine: Engine, clock: Any) -> None:
    """add_source inserts with a Core statement (concurrent adds make one row), out of the flush guard's sight:
    it fits what it is given itself."""
    from bot.storage.db import session_scope
    from bot.storage.sources import add_source

    with session_scope(engine) as session:
        first, created = add_source(session=session, team_id="T1", kind="feed", locator="https://x.example/f\x00",
                                    spec="https://x.example/f\x00", title="T\x00" + "t" * 500, now=clock())
    with session_scope(engine) as session:
        again, created_again = add_source(session=session, team_id="T1", kind="feed", locator="https://x.example/f",
                                          spec="https://x.example/f", title="", now=clock())
    assert (created, created_again, again.id) == (True, False, first.id)
    assert (first.locator, first.spec, len(first.title), first.title[:2]) == (
        "https://x.example/f", "https://x.example/f", 300, "Tt")
