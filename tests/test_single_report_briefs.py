"""A story one outlet reports so far is briefed by the built-in writer (its alert is the article itself), saying
why; the LLM writes once a second outlet reports it, and BRIEFBOT_LLM_SINGLE_REPORTS gives single reports to the
LLM again. Checked on the wire: the requests a local OpenAI-compatible server receives."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from bot.briefs.builtin import WRITER_NOTE
from bot.briefs.writers import SINGLE_REPORT_NOTE
from bot.context import Context, build_context
from bot.settings import Settings
from bot.storage.briefs import brief_as_dict, list_briefs
from bot.storage.db import session_scope
from bot.terminal import format_brief
from tests.conftest import make_settings
from tests.history import source
from tests.llm_server import FakeLLM, completion
from tests.test_follow_alerts import KENT, follow, report

DRAFT = {
    "headline": "Kestrel Commerce takes a 600,000-square-foot fulfillment center in Kent",
    "summary": "Two outlets report that Kestrel Commerce leased a large fulfillment center in Kent.",
    "why_it_matters": "A site this size usually means hundreds of warehouse jobs.",
    "entities": ["Kestrel Commerce"],
    "places": ["Kent"],
    "event_type": "expansion",
}



def context(settings: Settings, clock: Any, llm: FakeLLM | None, **overrides: Any) -> Context:
    configured = make_settings(
        settings.database_url,
        briefbot_brief_model="test-model",
        briefbot_llm_timeout=2.0,
        briefbot_llm_max_retries=0,
        **({"openai_base_url": llm.base_url} if llm else {}),
        **overrides,
    )
    ctx = build_context(configured)
    ctx.clock = clock
    return ctx


def followed_single_report(ctx: Context, clock: Any) -> tuple[int, int]:
    """Two feeds; a channel follows the first (the `every` policy: each of its stories is briefed), which
    reports a story no other outlet has yet."""
    ledger = source(ctx.engine, "T1", "https://ledger.example/feed", clock())
    wire = source(ctx.engine, "T1", "https://wire.example/feed", clock())
    follow(ctx, ledger, "C_EVERY")
    report(ctx, ledger, KENT, "The Harbor Ledger", 1)
    return ledger, wire


def test_a_single_report_is_the_builtin_writers_and_a_second_outlet_brings_the_llm(
    settings: Settings, engine: Engine, clock: Any, llm: FakeLLM
) -> None:
    ctx = context(settings, clock, llm)
    _, wire = followed_single_report(ctx, clock)
    assert len(ctx.analyse().briefs) == 1
    assert llm.requests == []  # no LLM call for one outlet's article
    with session_scope(engine) as session:
        (single,) = list_briefs(session=session)
        shown = format_brief(brief_as_dict(single))
    assert (single.writer, single.writer_note, single.outlet_count) == ("builtin", SINGLE_REPORT_NOTE, 1)
    assert single.headline == KENT and single.sources[0]["url"] == "https://theharborledger.example/1"
    assert "writer: builtin — single report: the LLM writes the brief once a second outlet" in shown
    assert len(ctx.analyse().briefs) == 0 and llm.requests == []  # nothing changed: no new brief

    clock.now += timedelta(hours=1)
    report(ctx, wire, KENT, "Metro Wire", 2)
    llm.enqueue(completion(json.dumps(DRAFT)))
    assert len(ctx.analyse().briefs) == 1
    assert len(llm.requests) == 1  # exactly one call: the story now has something to combine
    user = llm.requests[0]["messages"][1]["content"]
    # The LLM's first brief of the story reads both reports, not the built-in brief as an "earlier brief".
    assert "The Harbor Ledger" in user and "Metro Wire" in user and "Earlier brief:" not in user
    with session_scope(engine) as session:
        newest, _ = list_briefs(session=session)
    assert (newest.writer, newest.writer_note, newest.headline) == ("llm", None, DRAFT["headline"])
    assert {s["url"] for s in newest.sources} == {"https://theharborledger.example/1", "https://metrowire.example/2"}
    assert len(ctx.analyse().briefs) == 0 and len(llm.requests) == 1


def test_with_llm_single_reports_the_llm_briefs_one_outlet(
    settings: Settings, engine: Engine, clock: Any, llm: FakeLLM
) -> None:
    ctx = context(settings, clock, llm, briefbot_llm_single_reports=True)
    followed_single_report(ctx, clock)
    llm.enqueue(completion(json.dumps(DRAFT | {"summary": "The Harbor Ledger reports a lease in Kent."})))
    assert len(ctx.analyse().briefs) == 1 and len(llm.requests) == 1
    with session_scope(engine) as session:
        (brief,) = list_briefs(session=session)
    assert (brief.writer, brief.outlet_count) == ("llm", 1)


def test_without_an_llm_a_single_report_says_no_llm_is_configured(
    settings: Settings, engine: Engine, clock: Any
) -> None:
    ctx = context(settings, clock, None)
    followed_single_report(ctx, clock)
    assert len(ctx.analyse().briefs) == 1
    with session_scope(engine) as session:
        (brief,) = list_briefs(session=session)
    assert (brief.writer, brief.writer_note) == ("builtin", WRITER_NOTE)
