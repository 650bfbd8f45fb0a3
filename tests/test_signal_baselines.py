"""Baselines from posting dates, through the real poller against a local Greenhouse board, on SQLite and
PostgreSQL: a board's own dates give the company's pace, so a surge is found in the first poll after the
backfill that sees it; the backfill alone, or a trickle at the dated pace, is no signal."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.analysis.briefing import MAX_SOURCES
from bot.analysis.run import analyse
from bot.analysis.signal_update import update_signals
from bot.briefs.builtin import write_builtin
from bot.briefs.model import BriefInput, SourceRef
from bot.briefs.writers import BuiltinWriter
from bot.cli import main
from bot.demo.server import LocalServer, Route
from bot.llm.brief_writer import prompt_values
from bot.settings import Settings
from bot.storage.models import Brief, Signal
from tests.test_poller import add, poll

WRITER = BuiltinWriter("no LLM in this test")


def board(jobs: list[tuple[int, str, str, datetime]]) -> Route:
    """A Greenhouse board: (id, title, location, first published) per job."""
    return Route(body=json.dumps({"name": "Kestrel Commerce", "jobs": [
        {"id": n, "title": title, "absolute_url": f"https://boards.example/kestrel/{n}", "location": {"name": where},
         "company_name": "Kestrel Commerce", "first_published": posted.isoformat()}
        for n, title, where, posted in jobs]}).encode(), content_type="application/json")


def signals(engine: Engine) -> list[tuple[str, str, str, int]]:
    with Session(engine) as session:
        return [(s.family, s.metro, s.reason, s.item_count) for s in session.exec(select(Signal))]


def test_a_surge_is_found_in_the_first_poll_after_a_dated_backfill(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    first_poll = clock()
    seattle = [(n, f"Warehouse Associate {n}", "Kent, WA", first_poll - timedelta(days=1 + 9 * n / 7))
               for n in range(8)]  # posted over the ten days before the first poll
    older = [(100 + n, f"Software Engineer {n}", "San Francisco, CA", first_poll - timedelta(days=30 + 15 * n))
             for n in range(3)]
    older += [(150 + n, f"Warehouse Lead {n}", "Seattle, WA", first_poll - timedelta(days=28 + 15 * n))
              for n in range(2)]  # open for four and six weeks: they date the Seattle group's pace
    server.route("/kestrel", board(seattle + older))
    add(engine, clock, server.url("/kestrel"), kind="greenhouse")
    assert poll(settings, engine, clock, due_only=False).items_new == 13
    params = settings.signal_params()
    assert update_signals(engine=engine, clock=clock, params=params).created == []
    assert signals(engine) == []  # the backfill alone is history

    clock.now += timedelta(days=2)
    new = [(200 + n, f"Fulfillment Associate {n}", "Seattle, WA", clock() - timedelta(hours=3 + n)) for n in range(6)]
    server.route("/kestrel", board(seattle + older + new))
    assert poll(settings, engine, clock, due_only=False).items_new == 6
    report = analyse(engine=engine, clock=clock, settings=settings, writer=WRITER)
    assert report.problems == []
    # The window's postings: the eight dated in it by the board (backfill) and the six new ones.
    assert signals(engine) == [("fulfillment_logistics", "Seattle", "surge", 14)]
    with Session(engine) as session:
        signal = session.exec(select(Signal)).one()
        brief = session.exec(select(Brief)).one()
    assert signal.first_at == seattle[-1][3] and 0 < signal.baseline < 1
    assert brief.headline == "Kestrel Commerce hiring 14 fulfillment and logistics roles in Seattle"
    assert "posted 14 fulfillment and logistics roles" in brief.summary


def test_a_trickle_at_the_boards_dated_pace_is_no_surge(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    first_poll = clock()
    history = [(n, f"Warehouse Associate {n}", "Reno, NV", first_poll - timedelta(days=n, hours=2))
               for n in range(60)]  # one a day for two months, as the board's dates show
    server.route("/kestrel", board(history))
    add(engine, clock, server.url("/kestrel"), kind="greenhouse")
    poll(settings, engine, clock, due_only=False)
    params = settings.signal_params()
    jobs = list(history)
    for day in range(1, 22):  # three weeks more at the same pace: the window holds 14 or 15 against ~14
        clock.now = first_poll + timedelta(days=day)
        jobs.append((1000 + day, f"Warehouse Associate, Shift {day}", "Sparks, NV", clock() - timedelta(hours=2)))
        server.route("/kestrel", board(jobs))
        assert poll(settings, engine, clock, due_only=False).items_new == 1
        update_signals(engine=engine, clock=clock, params=params)
        assert signals(engine) == [], f"day {day}"


def test_a_brief_counts_the_signals_postings_not_its_cited_items() -> None:
    """A 14-posting signal cites the newest 12 (MAX_SOURCES); its brief still says 14."""
    refs = tuple(SourceRef(item_id=n, title=f"Warehouse Associate {n}", url=f"https://x.example/{n}",
                           outlet="Kestrel Commerce", published_at=None) for n in range(MAX_SOURCES))
    inp = BriefInput(subject="signal", subject_id=1, subject_version=1, items=refs, company="Kestrel Commerce",
                     function_label="fulfillment and logistics", metro="Seattle", reason="surge", item_count=14)
    draft = write_builtin(inp).draft
    assert draft.headline == "Kestrel Commerce hiring 14 fulfillment and logistics roles in Seattle"
    assert draft.summary.startswith("Kestrel Commerce posted 14 fulfillment and logistics roles")
    values = prompt_values(inp)
    assert values["count"] == "14" and values["items"].endswith("(2 more items not shown)")
    assert prompt_values(replace(inp, item_count=None))["count"] == "12"  # no count given: the items cited


def test_signals_says_when_an_undated_companys_baseline_is_ready(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: LocalServer) -> None:
    """`briefbot signals` with nothing to show says, per company, where its pace comes from and when a surge
    can be judged: undated postings are learned by watching (first seen + two windows), dated ones are known."""
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "BRIEFBOT_ALLOW_PRIVATE_URLS": "true",
           "BRIEFBOT_NOW": "2026-11-25T12:00:00+00:00"}

    def cli(*args: str) -> str:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    undated = {"jobs": [{"id": 1, "title": "Picker", "absolute_url": "https://boards.example/tide/1",
                         "location": {"name": "Kent, WA"}, "company_name": "Tidewater Freight"}]}
    server.route("/tide", Route(body=json.dumps(undated).encode(), content_type="application/json"))
    server.route("/kestrel", board([(1, "Software Engineer", "Austin, TX", datetime(2026, 10, 1, tzinfo=UTC))]))
    cli("sources", "add", server.url("/tide"), "--kind", "greenhouse")
    cli("sources", "add", server.url("/kestrel"), "--kind", "greenhouse")
    cli("poll")
    out = cli("signals")
    assert out.startswith("no hiring signals yet\n")
    lines = {line.split(" (")[0].strip(): line for line in out.splitlines()[1:]}
    assert f"({server.url('/tide')}): baseline still being learned: its postings carry no dates" in lines[
        "Tidewater Freight"]
    assert "first seen 2026-11-25" in lines["Tidewater Freight"]
    assert "surges can be judged from 2026-12-23" in lines["Tidewater Freight"]
    assert f"({server.url('/kestrel')}): pace known from its postings' dates since 2026-10-01" in lines[
        "Kestrel Commerce"]
    assert json.loads(cli("signals", "--json")) == []  # the JSON keeps its shape


def test_a_postings_date_is_the_first_its_board_gave(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    """A board that later dates a posting anew (an edit shown as its date) does not move it in time: the
    posting keeps the first date seen, so it stays where the window and the pace first counted it."""
    from bot.storage.models import Item

    posted = clock() - timedelta(days=40)
    server.route("/kestrel", board([(1, "Warehouse Lead", "Seattle, WA", posted)]))
    add(engine, clock, server.url("/kestrel"), kind="greenhouse")
    poll(settings, engine, clock, due_only=False)
    clock.now += timedelta(days=1)
    server.route("/kestrel", board([(1, "Warehouse Lead (nights)", "Seattle, WA", clock() - timedelta(hours=1))]))
    assert poll(settings, engine, clock, due_only=False).items_updated == 1
    with Session(engine) as session:
        item = session.exec(select(Item)).one()
    assert item.job_title == "Warehouse Lead (nights)" and item.published_at == posted
