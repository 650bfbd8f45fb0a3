"""Briefs through the whole pipeline with an LLM configured: the real openai client against a local
OpenAI-compatible server, with the built-in writer standing in when the LLM fails or the budget is spent."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Engine

from bot.context import Context, build_context
from bot.settings import Settings
from bot.storage.briefs import list_briefs
from bot.storage.db import session_scope
from tests.conftest import make_settings
from tests.llm_server import FakeLLM, completion, error
from tests.test_signal_update import seed_seattle_hiring

DRAFT = {"headline": "Kestrel Commerce opens hiring for warehouse roles around Seattle",
         "summary": "Kestrel Commerce posted three warehouse roles in Kent, its first in the Seattle area.",
         "why_it_matters": "It suggests a fulfillment site is coming.", "entities": ["Kestrel Commerce"],
         "places": ["Kent", "Seattle"], "event_type": "hiring_new_metro"}



def context(settings: Settings, llm: FakeLLM, clock: Any, **overrides: Any) -> Context:
    configured = make_settings(settings.database_url, openai_base_url=llm.base_url, briefbot_brief_model="test-model",
                               briefbot_llm_timeout=2.0, briefbot_llm_max_retries=1, **overrides)
    ctx = build_context(configured)
    ctx.clock = clock
    return ctx


def test_an_llm_brief_records_prompt_model_and_tokens(settings: Settings, engine: Engine, clock: Any,
                                                      llm: FakeLLM) -> None:
    seed_seattle_hiring(engine, clock)
    llm.enqueue(completion(json.dumps(DRAFT), prompt_tokens=321, completion_tokens=54))
    report = context(settings, llm, clock).analyse()
    assert len(report.briefs) == 1 and len(llm.requests) == 1
    request = llm.requests[0]
    assert request["model"] == "test-model" and request["response_format"]["type"] == "json_schema"
    assert "<<<SOURCE ITEMS>>>" in request["messages"][1]["content"]
    with session_scope(engine) as session:
        (brief,) = list_briefs(session=session)
    assert (brief.writer, brief.prompt_name, brief.prompt_version, brief.model) == (
        "llm", "brief_signal", "6", "test-model")
    assert (brief.prompt_tokens, brief.completion_tokens, brief.headline) == (321, 54, DRAFT["headline"])


def test_a_failing_llm_leaves_a_builtin_brief_that_says_why(settings: Settings, engine: Engine, clock: Any,
                                                             llm: FakeLLM) -> None:
    seed_seattle_hiring(engine, clock)
    llm.enqueue(error(500, "boom"), error(500, "boom again"))
    context(settings, llm, clock).analyse()
    with session_scope(engine) as session:
        (brief,) = list_briefs(session=session)
    assert brief.writer == "builtin" and (brief.writer_note or "").startswith("LLM unavailable")
    assert brief.headline == "Kestrel Commerce hiring 3 fulfillment and logistics roles in Seattle"
    assert len(llm.requests) == 2  # one call and its one retry


def test_over_the_budget_no_request_is_made(settings: Settings, engine: Engine, clock: Any, llm: FakeLLM) -> None:
    seed_seattle_hiring(engine, clock)
    context(settings, llm, clock, briefbot_daily_token_budget=0).analyse()
    with session_scope(engine) as session:
        (brief,) = list_briefs(session=session)
    assert llm.requests == [] and "daily LLM token budget" in (brief.writer_note or "")


def test_the_llm_client_is_built_once_per_process(settings: Settings, llm: FakeLLM, clock: Any) -> None:
    ctx = context(settings, llm, clock)
    assert ctx.brief_writer() is ctx.brief_writer()
