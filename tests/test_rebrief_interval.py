"""BRIEFBOT_REBRIEF_MINUTES: a story briefed a moment ago is not rewritten on every pass as outlets join; the
change waits, the analysis stays wanted meanwhile, and the brief written once the interval is over covers all of
it in one LLM call. The LLM's first brief after a single report's built-in one never waits. Checked on the wire
(a local OpenAI-compatible server) on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.analysis.briefing import CARRIED_NOTE, CARRIED_PREFIX
from bot.settings import Settings
from bot.storage.briefs import latest_brief, list_briefs
from bot.storage.db import session_scope
from bot.storage.models import Brief
from bot.storage.wanted import request_work, teams_wanting_analysis
from tests.history import source
from tests.llm_server import FakeLLM, completion
from tests.test_follow_alerts import KENT, follow, report
from tests.test_single_report_briefs import DRAFT, context


def polled(ctx: Any, source_id: int, outlet: str, n: int) -> None:
    """A report stored as a poll stores it, asking for clustering as a poll does."""
    report(ctx, source_id, KENT, outlet, n)
    with session_scope(ctx.engine) as session:
        request_work(session=session, team_id="T1", kind="cluster")



def test_a_rebrief_waits_for_the_interval_and_then_covers_every_new_outlet(
    settings: Settings, engine: Engine, clock: Any, llm: FakeLLM
) -> None:
    ctx = context(settings, clock, llm, briefbot_rebrief_minutes=120)
    feeds = [source(ctx.engine, "T1", f"https://feed{n}.example/rss", clock()) for n in range(5)]
    follow(ctx, feeds[0], "C_EVERY")
    report(ctx, feeds[0], KENT, "The Harbor Ledger", 1)
    assert len(ctx.analyse().briefs) == 1 and llm.requests == []  # the single report: built-in

    clock.now += timedelta(minutes=10)
    report(ctx, feeds[1], KENT, "Metro Wire", 2)
    llm.enqueue(completion(json.dumps(DRAFT)))
    assert len(ctx.analyse().briefs) == 1 and len(llm.requests) == 1  # the LLM's first brief: at once

    for minutes, (n, outlet) in zip((15, 30, 45), enumerate(("Coast Daily", "Sound Post", "Bay Times"), 3),
                                    strict=True):
        clock.now += timedelta(minutes=15)
        polled(ctx, feeds[n - 1], outlet, n)
        ran = ctx.analyse(only_wanted=True)
        assert ran.briefs == [], f"rewritten {minutes} minutes after its brief"
        with session_scope(engine) as session:
            assert teams_wanting_analysis(session=session) == ["T1"]  # not forgotten: still wanted
    assert len(llm.requests) == 1

    clock.now += timedelta(minutes=75)  # two hours after the LLM's brief; nothing new arrived since
    llm.enqueue(completion(json.dumps(DRAFT)))
    assert len(ctx.analyse(only_wanted=True).briefs) == 1
    assert len(llm.requests) == 2  # one call for the three outlets that joined
    user = llm.requests[1]["messages"][1]["content"]
    assert all(outlet in user for outlet in ("Coast Daily", "Sound Post", "Bay Times"))
    assert "Earlier brief:" in user
    with session_scope(engine) as session:
        newest = list_briefs(session=session)[0]
        assert (newest.writer, newest.outlet_count, len(newest.sources)) == ("llm", 5, 5)
        assert teams_wanting_analysis(session=session) == []  # done: nothing waits any more
    assert ctx.analyse(only_wanted=True).briefs == [] and len(llm.requests) == 2


def test_with_no_interval_every_material_change_is_briefed_at_once(
    settings: Settings, engine: Engine, clock: Any, llm: FakeLLM
) -> None:
    """And a new outlet alone keeps the LLM's text with the sources updated (no call); the text is rewritten
    once the story has a third more items than when it was written, counted from that text, not from the last
    sources update."""
    ctx = context(settings, clock, llm, briefbot_rebrief_minutes=0)
    feeds = [source(ctx.engine, "T1", f"https://feed{n}.example/rss", clock()) for n in range(4)]
    follow(ctx, feeds[0], "C_EVERY")
    calls = []
    for n, outlet in enumerate(("The Harbor Ledger", "Metro Wire", "Coast Daily", "Sound Post"), 1):
        clock.now += timedelta(minutes=10)
        report(ctx, feeds[n - 1], KENT, outlet, n)
        if n in (2, 4):  # the calls expected
            llm.enqueue(completion(json.dumps(DRAFT | {"summary": f"Written from {n} reports."})))
        assert len(ctx.analyse().briefs) == 1, f"no brief at the {outlet} report"
        calls.append(len(llm.requests))
    assert calls == [0, 1, 1, 2]  # built-in, the LLM's first, a sources update, a rewrite at 4 items of 2
    with session_scope(engine) as session:
        rewritten, carried, first, _single = list_briefs(session=session)
    assert (carried.writer, carried.writer_note, carried.summary) == ("llm", CARRIED_NOTE, "Written from 2 reports.")
    assert carried.headline == first.headline and (carried.outlet_count, len(carried.sources)) == (3, 3)
    assert carried.prompt_tokens == 0 and carried.prompt_version == first.prompt_version
    assert (rewritten.writer, rewritten.writer_note, rewritten.summary) == ("llm", None, "Written from 4 reports.")
    user = llm.requests[1]["messages"][1]["content"]
    # The rewrite is sent the LLM's own text as the earlier brief, and both reports it has not read.
    assert "Earlier brief:" in user and "Coast Daily" in user and "Sound Post" in user
    assert "outlet: The Harbor Ledger" not in user and "outlet: Metro Wire" not in user


@pytest.mark.parametrize(("growth", "expected"), [
    (100, [0, 1, 1, 2, 2, 2]),  # the default: rewritten when doubled (2 -> 4); 6 of 4 is a sources update
    (30, [0, 1, 1, 2, 2, 3]),  # a third more: 6 of 4 is rewritten
])
def test_the_rewrite_growth_setting_decides_when_the_text_is_rewritten(
    settings: Settings, engine: Engine, clock: Any, llm: FakeLLM, growth: int, expected: list[int]
) -> None:
    """BRIEFBOT_REWRITE_GROWTH_PERCENT: below it, new reports update the brief's sources and counts under the
    LLM's text with no call; at it, the LLM rewrites the text."""
    ctx = context(settings, clock, llm, briefbot_rebrief_minutes=0, briefbot_rewrite_growth_percent=growth)
    outlets = ("The Harbor Ledger", "Metro Wire", "Coast Daily", "Sound Post", "Bay Times", "Valley News")
    feeds = [source(ctx.engine, "T1", f"https://feed{n}.example/rss", clock()) for n in range(len(outlets))]
    follow(ctx, feeds[0], "C_EVERY")
    calls = []
    for n, outlet in enumerate(outlets, 1):
        clock.now += timedelta(minutes=10)
        report(ctx, feeds[n - 1], KENT, outlet, n)
        if expected[n - 1] > (expected[n - 2] if n > 1 else 0):  # a call expected: its reply
            llm.enqueue(completion(json.dumps(DRAFT | {"summary": f"Written from {n} reports."})))
        ctx.analyse()
        calls.append(len(llm.requests))
    assert calls == expected
    with session_scope(engine) as session:
        newest = list_briefs(session=session)[0]
    assert (newest.outlet_count, len(newest.sources)) == (6, 6)  # the counts and sources are current either way
    if growth == 100:
        assert (newest.writer_note, newest.summary, newest.prompt_tokens) == (
            CARRIED_NOTE, "Written from 4 reports.", 0)
        # A sources update stored under an earlier wording of the note is still passed over, by its prefix.
        with session_scope(engine) as session:
            row = session.get(Brief, newest.id)
            assert row is not None
            row.writer_note = ("sources updated: more outlets report it; the LLM rewrites the text when it grows by "
                               "a third")
        with session_scope(engine) as session:
            text_of = latest_brief(session=session, team_id="T1", subject="story", subject_id=newest.subject_id,
                                   passing_over=CARRIED_PREFIX)
            assert text_of is not None and (text_of.writer_note, text_of.item_count) == (None, 4)
    else:
        assert (newest.writer_note, newest.summary) == (None, "Written from 6 reports.")
