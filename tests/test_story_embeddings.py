"""Embeddings in story clustering, through the composition root's `embed` and a local embeddings server:
reports with no words in common join when their embeddings agree; a failing endpoint costs only the embeddings."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.analysis.story_update import update_stories
from bot.ask.service import Asker, Conversation
from bot.context import build_context
from bot.core.stories import StoryParams
from bot.settings import Settings
from bot.storage.models import ItemVector
from tests.conftest import make_settings
from tests.llm_server import FakeLLM, embeddings, error
from tests.test_story_update import feed, report, stories

QUICK = {"retry-after-ms": "10"}


def embed(settings: Settings, llm: FakeLLM) -> Any:
    configured = make_settings(settings.database_url, openai_base_url=llm.base_url,
                               briefbot_embedding_model="test-embedding", briefbot_llm_max_retries=1)
    return build_context(configured).embed()


def two_reports(engine: Engine, clock: Any) -> None:
    ledger, wire = feed(engine, clock, "ledger"), feed(engine, clock, "wire")
    report(engine, clock, ledger, "The Harbor Ledger", "Kestrel Commerce leases giant Kent warehouse")
    report(engine, clock, wire, "Metro Wire", "Online retailer signs deal for huge fulfillment site near Seattle",
           hours=2)


def test_embeddings_join_reports_that_share_no_words(settings: Settings, engine: Engine, clock: Any) -> None:
    two_reports(engine, clock)
    with FakeLLM() as llm:
        llm.enqueue(embeddings([[1.0, 0.02, 0.0], [1.0, 0.0, 0.02]]))
        done = update_stories(engine=engine, clock=clock, params=StoryParams(), embed=embed(settings, llm))
        assert llm.requests[0]["model"] == "test-embedding"
        assert llm.requests[0]["input"] == ["Kestrel Commerce leases giant Kent warehouse",
                                            "Online retailer signs deal for huge fulfillment site near Seattle"]
    assert done.embedded == 2
    assert stories(engine) == [(2, ["Metro Wire", "The Harbor Ledger"])]


def test_a_failing_endpoint_clusters_on_terms_alone(settings: Settings, engine: Engine, clock: Any) -> None:
    two_reports(engine, clock)
    with FakeLLM() as llm:
        llm.enqueue(*(error(503, "down", headers=QUICK) for _ in range(2)))
        done = update_stories(engine=engine, clock=clock, params=StoryParams(), embed=embed(settings, llm))
    assert done.embedded == 0 and done.items == 2
    assert stories(engine) == [(1, ["Metro Wire"]), (1, ["The Harbor Ledger"])]


def test_no_embedding_model_means_no_embeddings(settings: Settings) -> None:
    with FakeLLM() as llm:
        configured = make_settings(settings.database_url, openai_base_url=llm.base_url)
        assert build_context(configured).embed() is None


def test_clustering_keeps_the_vectors_and_questions_find_items_by_meaning(
        settings: Settings, engine: Engine, clock: Any) -> None:
    two_reports(engine, clock)
    question = "Who is expanding distribution capacity around Puget Sound?"  # no word shared with either report
    conversation = Conversation(team_id="T1", channel_id="cli", thread_ts="t", surface="cli")
    with FakeLLM() as llm:
        llm.enqueue(embeddings([[1.0, 0.02, 0.0], [1.0, 0.0, 0.02]]))
        embedder = embed(settings, llm)
        update_stories(engine=engine, clock=clock, params=StoryParams(), embed=embedder)
        with Session(engine) as session:
            kept = session.exec(select(ItemVector)).all()
        assert len(kept) == 2 and {v.dims for v in kept} == {3} and {v.team_id for v in kept} == {"T1"}

        words_only = Asker(engine=engine, clock=clock, writer=None).ask(conversation, question, store=False)
        assert words_only.sources == []

        llm.enqueue(embeddings([[0.9, 0.05, 0.05]]), embeddings([[0.9, 0.05, 0.05]]))
        by_meaning = Asker(engine=engine, clock=clock, writer=None, embed=embedder)
        answer = by_meaning.ask(conversation, question, store=False)
        assert llm.requests[-1]["input"] == [question]
        assert {s.title for s in answer.sources} == {
            "Kestrel Commerce leases giant Kent warehouse",
            "Online retailer signs deal for huge fulfillment site near Seattle"}
        other = by_meaning.ask(replace(conversation, team_id="T2"), question, store=False)
        assert other.sources == []  # another workspace's vectors are never searched


def test_without_embeddings_the_openai_library_is_not_imported(settings: Settings) -> None:
    """The demo and every pass without an embedding model never import the OpenAI library (about a second)."""
    script = ("import sys; from bot.context import build_context; from tests.conftest import make_settings; "
              f"ctx = build_context(make_settings({settings.database_url!r})); "
              "assert ctx.embed() is None; print('openai' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False", done.stderr
