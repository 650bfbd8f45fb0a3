"""The posting lifecycle through the real poller against local Greenhouse boards, on SQLite and PostgreSQL: a
posting that leaves its board is closed with the poll's time and reopens when it comes back; a closed posting
come back under a new id is a repost; a board that suddenly lists nothing, or far fewer, closes nothing on first
sight; an unchanged poll closes nothing; a posting another source lists stays open; one source whose closing
fails fails alone; `briefbot items` and answers say how long a posting was open."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.ask.retrieve import retrieve
from bot.cli import main
from bot.core.question import read_question
from bot.demo.server import LocalServer, Route
from bot.settings import Settings
from bot.storage.lifecycle import lifecycles
from bot.storage.models import Item, ItemLink, Source
from bot.storage.sources import list_sources
from tests.db_faults import allow, refuse
from tests.test_poller import add, poll, source

POSTED = datetime(2026, 11, 1, 9, tzinfo=UTC)
Job = tuple[int, str, str]  # id, title, location


def board(jobs: list[Job], company: str = "Kestrel Commerce", slug: str = "kestrel",
          posted: dict[int, datetime] | None = None) -> Route:
    """A Greenhouse board; every job posted on POSTED unless `posted` says otherwise."""
    dates = posted or {}
    return Route(body=json.dumps({"name": company, "jobs": [
        {"id": n, "title": title, "absolute_url": f"https://boards.example/{slug}/{n}", "location": {"name": where},
         "company_name": company, "first_published": dates.get(n, POSTED).isoformat()}
        for n, title, where in jobs]}).encode(), content_type="application/json")


def warehouse(ids: range | list[int], where: str = "Kent, WA") -> list[Job]:
    return [(n, f"Warehouse Associate {n}", where) for n in ids]


def postings(engine: Engine, team: str = "T1") -> dict[str, Item]:
    """The team's job items by their board id."""
    with Session(engine) as session:
        return {i.external_id: i for i in session.exec(select(Item).where(Item.team_id == team, Item.kind == "job"))}


def closed(engine: Engine) -> dict[str, datetime | None]:
    return {ext: i.closed_at for ext, i in postings(engine).items()}


def notes(engine: Engine, source_id: int) -> str:
    with Session(engine) as session:
        health = next(h for h in list_sources(session=session) if h.source.id == source_id)
    return health.as_dict()["notes"] or ""


def test_a_posting_that_leaves_its_board_closes_with_the_polls_time_and_reopens_when_it_comes_back(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    server.route("/kestrel", board(warehouse(range(1, 6))))
    sid = add(engine, clock, server.url("/kestrel"), kind="greenhouse")
    poll(settings, engine, clock, due_only=False)
    assert set(closed(engine).values()) == {None}

    clock.now += timedelta(hours=6)
    gone_at = clock()
    server.route("/kestrel", board(warehouse([1, 2, 3, 5])))
    report = poll(settings, engine, clock, due_only=False)
    assert report.ok == 1
    assert closed(engine) == {"1": None, "2": None, "3": None, "4": gone_at, "5": None}
    assert source(engine, sid).listing_tracked_at is not None
    with Session(engine) as session:
        link = session.exec(select(ItemLink).where(ItemLink.external_id == "4")).one()
    assert link.delisted_at == gone_at

    clock.now += timedelta(days=2)
    server.route("/kestrel", board(warehouse(range(1, 6))))
    poll(settings, engine, clock, due_only=False)
    item = postings(engine)["4"]
    assert item.closed_at is None and item.repost_of is None  # the same id back: reopened, not a repost


def test_a_closed_posting_come_back_under_a_new_id_is_a_repost(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    roles = [(1, "Forklift Operator", "Kent, WA"), (2, "Picker Packer", "Seattle, WA"),
             (3, "Picker Packer", "Reno, NV")]
    server.route("/kestrel", board(roles))
    add(engine, clock, server.url("/kestrel"), kind="greenhouse")
    poll(settings, engine, clock, due_only=False)
    clock.now += timedelta(days=3)
    # In one poll: the Seattle picker leaves and comes back as #20 (same title, Tacoma is the same metro), a
    # second Seattle picker is new, and a forklift role appears in Reno, another metro.
    server.route("/kestrel", board([roles[0], roles[2], (20, "Picker  Packer", "Tacoma, WA"),
                                    (21, "Picker Packer", "Seattle, WA"), (22, "Forklift Operator", "Reno, NV")]))
    assert poll(settings, engine, clock, due_only=False).items_new == 3
    items = postings(engine)
    assert items["2"].closed_at == clock()
    assert items["20"].repost_of == items["2"].id  # the closed picker come back
    assert items["21"].repost_of is None and items["22"].repost_of is None  # new demand
    with Session(engine) as session:
        lives = lifecycles(session=session, team_id="T1", outlets=["Kestrel Commerce"])
        assert lifecycles(session=session, team_id="T2", item_ids=list(lives)) == {}  # another team sees nothing
    assert lives[items["20"].id or 0].repost_of == items["2"].id
    assert lives[items["2"].id or 0].closed_at == clock() and len(lives) == 6

    clock.now += timedelta(days=61)  # closed longer ago than the repost window: new demand
    server.route("/kestrel", board([roles[0], roles[2], (20, "Picker Packer", "Tacoma, WA"),
                                    (21, "Picker Packer", "Seattle, WA"), (22, "Forklift Operator", "Reno, NV"),
                                    (30, "Picker Packer", "Seattle, WA")]))
    poll(settings, engine, clock, due_only=False)
    assert postings(engine)["30"].repost_of is None


def test_a_relisting_held_for_a_poll_is_matched_as_reposts_once_confirmed(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    """A board re-lists its roles: all of them leave at once and come back under new ids over two polls. The
    disappearance is held for a poll (it may be an outage), so the postings back in that poll find nothing
    closed to repost when stored; the next poll confirms it, and they are matched then, as are the rest. A
    posting of the poll before, which still listed the old ones, is new demand."""
    old = [(n, f"Warehouse Associate {n}", "Kent, WA") for n in range(1, 11)]
    second = (11, "Warehouse Associate 1", "Kent, WA")  # a second opening of #1's role, listed beside it
    server.route("/kestrel", board([*old, second]))
    add(engine, clock, server.url("/kestrel"), kind="greenhouse")
    poll(settings, engine, clock, due_only=False)

    clock.now += timedelta(hours=1)
    relisted_at = clock()
    relisted = [(100 + n, title, where) for n, title, where in old]
    server.route("/kestrel", board([second, *relisted[:4]]))
    assert poll(settings, engine, clock, due_only=False).items_new == 4
    items = postings(engine)
    assert all(items[str(n)].closed_at is None for n in range(1, 11))  # ten of fourteen gone at once: held
    assert all(items[str(100 + n)].repost_of is None for n in range(1, 5))  # nothing closed to repost yet

    clock.now += timedelta(hours=1)
    server.route("/kestrel", board([second, *relisted]))
    assert poll(settings, engine, clock, due_only=False).items_new == 6  # and the disappearance is confirmed
    items = postings(engine)
    assert all(items[str(n)].closed_at == relisted_at for n in range(1, 11))  # dated when they left
    assert {n: items[str(100 + n)].repost_of for n in range(1, 11)} == {n: items[str(n)].id for n in range(1, 11)}
    assert items["11"].repost_of is None and items["11"].closed_at is None  # listed before they left: new demand


def test_an_empty_board_closes_nothing_on_first_sight_and_everything_on_the_second(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    server.route("/kestrel", board(warehouse(range(1, 31))))
    sid = add(engine, clock, server.url("/kestrel"), kind="greenhouse")
    poll(settings, engine, clock, due_only=False)

    clock.now += timedelta(hours=1)
    first_empty = clock()
    server.route("/kestrel", board([]))
    assert poll(settings, engine, clock, due_only=False).errors == 1
    assert set(closed(engine).values()) == {None}
    emptied = source(engine, sid)
    assert emptied.last_error_kind == "empty" and "closed if the next poll finds it empty too" in (emptied.last_error
                                                                                                   or "")
    clock.now += timedelta(minutes=5)
    report = poll(settings, engine, clock, due_only=False)
    assert report.ok == 1, report.failures
    assert set(closed(engine).values()) == {first_empty}  # gone since the first empty poll
    assert "its 30 open postings are closed" in notes(engine, sid)


def test_a_board_that_suddenly_lists_a_tiny_fraction_is_held_then_confirmed(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    server.route("/kestrel", board(warehouse(range(1, 21))))
    sid = add(engine, clock, server.url("/kestrel"), kind="greenhouse")
    poll(settings, engine, clock, due_only=False)

    clock.now += timedelta(hours=1)
    first_seen_gone = clock()
    server.route("/kestrel", board(warehouse([1, 2])))
    poll(settings, engine, clock, due_only=False)
    assert set(closed(engine).values()) == {None}
    assert "18 of 20 open postings left the board at once" in notes(engine, sid)
    assert source(engine, sid).body_hash is None  # read in full next time, though its bytes are the same

    clock.now += timedelta(hours=1)  # the same two postings: the fall is real
    report = poll(settings, engine, clock, due_only=False)
    assert report.ok == 1 and report.unchanged == 0
    gone = closed(engine)
    assert gone["1"] is None and gone["2"] is None
    assert {gone[str(n)] for n in range(3, 21)} == {first_seen_gone}
    assert "18 postings found gone by the last poll are closed" in notes(engine, sid)


def test_a_held_fall_the_next_poll_undoes_closes_nothing(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    server.route("/kestrel", board(warehouse(range(1, 11))))
    add(engine, clock, server.url("/kestrel"), kind="greenhouse")
    poll(settings, engine, clock, due_only=False)
    server.route("/kestrel", board(warehouse([1])))
    clock.now += timedelta(hours=1)
    poll(settings, engine, clock, due_only=False)
    server.route("/kestrel", board(warehouse(range(1, 11))))  # the board was broken for a while
    clock.now += timedelta(hours=1)
    poll(settings, engine, clock, due_only=False)
    assert set(closed(engine).values()) == {None}
    with Session(engine) as session:
        assert session.exec(select(ItemLink).where(col(ItemLink.missing_since).is_not(None))).all() == []


def test_an_unchanged_or_not_modified_poll_closes_nothing(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    server.route("/same", Route(body=board(warehouse(range(1, 4))).body, content_type="application/json",
                                etag=False))
    server.route("/etag", board(warehouse(range(11, 14)), slug="tide"))
    add(engine, clock, server.url("/same"), kind="greenhouse")
    add(engine, clock, server.url("/etag"), kind="greenhouse")
    poll(settings, engine, clock, due_only=False)
    clock.now += timedelta(hours=1)
    report = poll(settings, engine, clock, due_only=False)
    assert (report.unchanged, report.not_modified) == (1, 1)
    assert len(closed(engine)) == 6 and set(closed(engine).values()) == {None}


def test_a_posting_another_source_lists_stays_open(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    shared = warehouse([1, 2])
    server.route("/a", board(shared))
    server.route("/b", board(shared))  # the same postings (same URLs) through a second source
    add(engine, clock, server.url("/a"), kind="greenhouse")
    add(engine, clock, server.url("/b"), kind="greenhouse")
    poll(settings, engine, clock, due_only=False)
    clock.now += timedelta(hours=1)
    server.route("/a", board(shared[:1]))
    poll(settings, engine, clock, due_only=False)
    assert closed(engine)["2"] is None  # /b still lists it
    clock.now += timedelta(hours=1)
    server.route("/b", board(shared[:1]))
    poll(settings, engine, clock, due_only=False)
    assert closed(engine)["2"] == clock()


def test_news_items_never_close(settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    from tests.feeds import numbered, rss

    server.route("/feed", Route(body=rss(numbered(3))))
    add(engine, clock, server.url("/feed"))
    poll(settings, engine, clock, due_only=False)
    server.route("/feed", Route(body=rss(numbered(1))))
    clock.now += timedelta(hours=1)
    poll(settings, engine, clock, due_only=False)
    with Session(engine) as session:
        assert [i.closed_at for i in session.exec(select(Item))] == [None, None, None]


HOSTILE = [(1, "Warehouse\x00 Associate " + "Nights " * 3000, "Kent\x00, WA"), (2, "Picker\x00", "\x00"),
           (3, "Forklift Operator", "Reno, NV")]


def test_hostile_postings_close_and_one_sources_failed_closing_spares_the_others(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    server.route("/bad", board(HOSTILE, company="Bad\x00 Co", slug="bad"))
    server.route("/good", board(warehouse(range(10, 13)), slug="good"))
    bad = add(engine, clock, server.url("/bad"), kind="greenhouse")
    good = add(engine, clock, server.url("/good"), kind="greenhouse")
    assert poll(settings, engine, clock, due_only=False).errors == 0

    # The database refuses to close the bad source's postings: its poll fails alone.
    refuse(engine, "refuse_closing", "item_links", f"NEW.source_id = {bad} AND NEW.delisted_at IS NOT NULL",
           events=("UPDATE",))
    server.route("/bad", board(HOSTILE[2:], company="Bad\x00 Co", slug="bad"))
    server.route("/good", board(warehouse([10]), slug="good"))
    clock.now += timedelta(hours=1)
    report = poll(settings, engine, clock, due_only=False)
    assert report.errors == 1 and report.failures[0][0] == bad and report.failures[0][1] == "store"
    gone = closed(engine)
    assert gone["11"] == gone["12"] == clock() and gone["10"] is None  # the good source closed its own
    assert gone["1"] is None and gone["2"] is None
    assert source(engine, good).failures == 0

    allow(engine, "refuse_closing", "item_links", events=("UPDATE",))
    clock.now += timedelta(hours=1)
    assert poll(settings, engine, clock, due_only=False).errors == 0
    gone = closed(engine)
    assert gone["1"] == gone["2"] == clock() and gone["3"] is None  # hostile titles close like any other


def test_items_and_answers_say_how_long_a_posting_was_open(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any, db_url: str) -> None:
    server.route("/kestrel", board(warehouse(range(1, 4))))
    add(engine, clock, server.url("/kestrel"), kind="greenhouse")
    poll(settings, engine, clock, due_only=False)  # 25 Nov; the board says posted 1 Nov
    clock.now += timedelta(days=3)
    server.route("/kestrel", board(warehouse([1, 2])))
    poll(settings, engine, clock, due_only=False)
    clock.now += timedelta(days=2)
    server.route("/kestrel", board([*warehouse([1, 2]), (9, "Warehouse Associate 3", "Seattle, WA")],
                                   posted={9: clock() - timedelta(hours=2)}))
    poll(settings, engine, clock, due_only=False)
    items = postings(engine)

    env = {"DATABASE_URL": db_url, "BRIEFBOT_DEFAULT_TEAM": "T1", "BRIEFBOT_NOW": clock().isoformat()}
    result = CliRunner().invoke(main, ["items", "--json"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    shown = {row["external_id"]: row for row in json.loads(result.output)}
    assert shown["3"]["closed_at"] == datetime(2026, 11, 28, 12, tzinfo=UTC).isoformat()
    assert shown["3"]["open_days"] == 27 and shown["1"]["open_days"] == 29 and shown["1"]["closed_at"] is None
    assert shown["9"]["repost_of"] == items["3"].id and shown["9"]["long_open"] is False
    table = CliRunner().invoke(main, ["items"], env=env, catch_exceptions=False).output
    assert "closed 27d" in table and "open 29d" in table and "open 0d repost" in table

    with Session(engine) as session:
        found = retrieve(session, team_id="T1", question=read_question("How long do Kestrel's warehouse roles stay "
                                                                        "open?", clock()), now=clock(), limit=8)
    texts = {c.id: c.text for c in found.candidates}
    assert texts[items["3"].id or 0].startswith("Posting closed 28 Nov 2026 after 27 days.")
    assert texts[items["1"].id or 0].startswith("Posting open since 1 Nov 2026 (29 days).")
    assert texts[items["9"].id or 0].startswith(
        "Posting open since 30 Nov 2026 (under a day); repost of an earlier posting")

    answer = CliRunner().invoke(main, ["ask", "How long do Kestrel's warehouse roles stay open?"], env=env,
                                catch_exceptions=False).output
    assert "closed 28 Nov 2026 after 27 days" in answer and "open since 1 Nov 2026 (29 days)" in answer


def test_upgrading_keeps_the_full_text_search_of_items(engine: Engine) -> None:
    """Migration 0010 adds columns to `items` in place: a rebuilt table would lose SQLite's FTS triggers."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        triggers = {row[0] for row in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert {"items_fts_ai", "items_fts_ad", "items_fts_au"} <= triggers


def test_sources_removed_or_paused_do_not_keep_a_posting_open(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    shared = warehouse([1])
    server.route("/a", board(shared))
    server.route("/b", board(shared))
    add(engine, clock, server.url("/a"), kind="greenhouse")
    b = add(engine, clock, server.url("/b"), kind="greenhouse")
    poll(settings, engine, clock, due_only=False)
    with Session(engine) as session:
        paused = session.get(Source, b)
        assert paused is not None
        paused.enabled = False
        session.add(paused)
        session.commit()
    server.route("/a", board([]))
    for _ in range(2):  # an empty board: the second empty poll closes
        clock.now += timedelta(hours=1)
        poll(settings, engine, clock, due_only=False)
    assert closed(engine)["1"] is not None
