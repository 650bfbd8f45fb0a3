"""A re-brief sends the LLM the earlier brief and only the items that arrived since it, while the brief still
cites every item: checked on the wire (the request body a local OpenAI-compatible server receives) and on the
input the writer is given."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.analysis.briefing import for_writer, source_text
from bot.briefs.builtin import write_builtin
from bot.briefs.model import BriefInput, SourceRef
from bot.briefs.writers import canonical_input
from bot.context import build_context
from bot.llm.prompts import DATA_END, DATA_START
from bot.settings import Settings
from bot.storage.briefs import list_briefs
from bot.storage.db import session_scope
from bot.storage.models import Brief
from tests.conftest import make_settings
from tests.llm_server import FakeLLM, completion
from tests.test_signal_update import post, seed_seattle_hiring

FIRST: dict[str, Any] = {"headline": "Kestrel Commerce opens hiring for warehouse roles around Seattle",
         "summary": "Kestrel Commerce posted three warehouse roles in Kent, its first in the Seattle area.",
         "why_it_matters": "It suggests a fulfillment site is coming.", "entities": ["Kestrel Commerce"],
         "places": ["Kent", "Seattle"], "event_type": "hiring_new_metro"}
SECOND = FIRST | {"headline": "Kestrel Commerce widens its Seattle-area warehouse hiring to Tacoma"}
OLD_TITLES = ("Warehouse Associate", "Forklift Operator", "Picker")
NEW_TITLES = ("Dock Lead", "Inventory Clerk")



def data_block(request: dict[str, Any]) -> str:
    user = request["messages"][1]["content"]
    return str(user.split(DATA_START, 1)[1].split(DATA_END, 1)[0])


def test_a_rebrief_sends_the_earlier_brief_and_only_the_new_postings(settings: Settings, engine: Engine, clock: Any,
                                                                     llm: FakeLLM) -> None:
    ctx = build_context(make_settings(settings.database_url, openai_base_url=llm.base_url,
                                      briefbot_brief_model="test-model", briefbot_llm_timeout=2.0,
                                      briefbot_llm_max_retries=0))
    ctx.clock = clock
    source = seed_seattle_hiring(engine, clock)
    llm.enqueue(completion(json.dumps(FIRST)), completion(json.dumps(SECOND)))
    assert len(ctx.analyse().briefs) == 1
    first = data_block(llm.requests[0])
    assert all(title in first for title in OLD_TITLES) and "Earlier brief:" not in first

    clock.now += timedelta(hours=2)
    post(engine, clock, source, list(NEW_TITLES), "Tacoma")  # 3 -> 5 roles: a material change
    assert len(ctx.analyse().briefs) == 1 and len(llm.requests) == 2
    again = llm.requests[1]
    sent = json.dumps(again["messages"])
    block = data_block(again)
    # The earlier brief, as data inside the quoted block, and the new postings; none of the old ones again.
    assert f"Earlier brief: {FIRST['headline']}" in block and FIRST["summary"] in block
    assert all(title in block for title in NEW_TITLES)
    assert not any(title in sent for title in OLD_TITLES)
    assert "Postings in the last 14 days: 5;" in again["messages"][1]["content"]  # the signal's whole count
    assert "[3]" not in block  # two items numbered, not five
    # The rule on updating an earlier brief is sent with the re-brief only: a first brief has none to update.
    assert "Earlier brief" not in llm.requests[0]["messages"][0]["content"]
    assert '"Earlier brief: …" line' in again["messages"][0]["content"]
    with session_scope(engine) as session:
        newest, oldest = list_briefs(session=session)
    assert (newest.headline, newest.prompt_version, newest.item_count) == (SECOND["headline"], "6", 5)
    # The re-brief still cites every posting: the earlier brief's and the new ones.
    assert {s["url"] for s in newest.sources} >= {s["url"] for s in oldest.sources}
    assert len(newest.sources) == 5 and sum(t in json.dumps(newest.sources) for t in NEW_TITLES) == 2


AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ITEMS = tuple(SourceRef(item_id=n, title=f"Acme opens a depot in town {n}", url=f"https://news.example/{n}",
                        outlet=f"Outlet {n}", published_at=AT + timedelta(hours=n), text=f"Depot number {n} opens.")
              for n in range(1, 5))
STORY = BriefInput(subject="story", subject_id=7, subject_version=3, items=ITEMS,
                   outlets=tuple(i.outlet for i in ITEMS), first_at=AT, last_at=AT + timedelta(hours=4),
                   item_count=4)


def last_brief(cited: tuple[SourceRef, ...]) -> Brief:
    return Brief(team_id="T1", subject="story", subject_id=7, subject_version=2, item_count=len(cited),
                 outlet_count=len(cited), headline="Acme opens depots", summary="Acme opened two depots.",
                 why_it_matters="It grows.", event_type="expansion", writer="llm", input_hash="h", created_at=AT,
                 sources=[{"item_id": s.item_id, "url": s.url} for s in cited]
                 + [{"item_id": 99, "url": "https://news.example/related", "related": "story"}])


def test_the_writer_is_sent_only_the_items_the_earlier_brief_did_not_cite() -> None:
    assert for_writer(STORY, None) is STORY  # a first brief: the whole input
    seen = for_writer(STORY, last_brief(ITEMS[:2]))
    assert [i.item_id for i in seen.items] == [3, 4] and [i.item_id for i in seen.earlier] == [1, 2]
    assert seen.related[0].kind == "brief" and seen.related[0].headline == "Earlier brief: Acme opens depots"
    assert seen.cited() == ITEMS and seen.total_items() == 4
    # Nothing new since the earlier brief: the input as a first brief sees it, so a rewrite can reuse a brief.
    assert for_writer(STORY, last_brief(ITEMS)) is STORY


def test_the_builtin_writer_still_reads_every_cited_item_of_a_rebrief() -> None:
    seen = for_writer(STORY, last_brief(ITEMS[:3]))
    assert len(seen.items) == 1
    assert write_builtin(seen).draft == write_builtin(STORY).draft
    assert write_builtin(seen).draft.summary.startswith("Reported by Outlet 1, Outlet 2 and 2 more")


@pytest.mark.parametrize(("title", "text", "limit", "expected"), [
    ("Acme opens a depot", "Acme opens a depot. It hires 40 people.", 300, "It hires 40 people."),
    ("Acme opens a depot", "  acme OPENS a depot: It hires 40.", 300, "It hires 40."),
    ("Acme opens a depot", "Kestrel says Acme opens a depot.", 300, "Kestrel says Acme opens a depot."),
    ("Depot", "one two three four five six", 14, "one two three…"),
])
def test_source_text_drops_a_repeated_title_and_caps(title: str, text: str, limit: int, expected: str) -> None:
    assert source_text(title, text, limit) == expected


def test_a_rebrief_is_not_reused_for_a_first_brief_of_the_same_items() -> None:
    seen = for_writer(STORY, last_brief(ITEMS[:2]))
    assert canonical_input(seen) != canonical_input(STORY)
    assert canonical_input(replace(seen, earlier=(), items=ITEMS)) != canonical_input(STORY)  # the earlier brief
