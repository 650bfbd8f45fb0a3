"""Embeddings through the real openai client against a local OpenAI-compatible server, and what they change in
story clustering."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.stories import StoryClusterer, StoryInput, embedding_text, title_terms
from bot.llm.client import LLMBadOutput, LLMUnavailable, build_client
from bot.llm.embeddings import MAX_CHARS, Embedder, embedder_for
from bot.settings import Settings
from tests.llm_server import EMBEDDINGS_PATH, FakeLLM, Reply, embeddings, error

MODEL = "test-embedding"
QUICK_RETRY = {"retry-after-ms": "10"}  # the client waits what the server asks instead of its 0.5 s backoff
T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **{"openai_api_key": None, "openai_base_url": None, **values})



def make_embedder(llm: FakeLLM, *, max_retries: int = 2, **options: Any) -> Embedder:
    client = build_client(settings(openai_base_url=llm.base_url), timeout=5.0, max_retries=max_retries)
    return Embedder(client, MODEL, **options)


def angle(i: int) -> list[float]:
    """A unit vector of its own for each i, so that any reordering shows."""
    return [math.cos(i / 100), math.sin(i / 100)]


def test_the_request_body_and_batches_of_64_in_order(llm: FakeLLM) -> None:
    texts = [f"headline {i}" for i in range(130)]
    llm.enqueue(embeddings([angle(i) for i in range(64)]), embeddings([angle(i) for i in range(64, 128)]),
                embeddings([angle(128), angle(129)]))
    vectors = make_embedder(llm).embed(texts)
    assert llm.requests == [{"model": MODEL, "input": texts[0:64], "encoding_format": "float"},
                            {"model": MODEL, "input": texts[64:128], "encoding_format": "float"},
                            {"model": MODEL, "input": texts[128:130], "encoding_format": "float"}]
    assert llm.paths == [EMBEDDINGS_PATH] * 3
    assert vectors == [pytest.approx(tuple(angle(i))) for i in range(130)]


def test_order_follows_the_index_not_the_position_in_data(llm: FakeLLM) -> None:
    llm.enqueue(embeddings([angle(0), angle(1), angle(2)], order=[2, 0, 1]))
    assert make_embedder(llm).embed(["a", "b", "c"]) == [pytest.approx(tuple(angle(i))) for i in range(3)]


def test_vectors_are_scaled_to_unit_length(llm: FakeLLM) -> None:
    llm.enqueue(embeddings([[3.0, 4.0], [0.0, -2.0]]))
    assert make_embedder(llm).embed(["a", "b"]) == [pytest.approx((0.6, 0.8)), pytest.approx((0.0, -1.0))]


def test_texts_are_trimmed_and_cut_and_empty_ones_refused_before_any_request(llm: FakeLLM) -> None:
    llm.enqueue(embeddings([[1.0, 0.0], [0.0, 1.0]]))
    make_embedder(llm).embed(["  Acme buys Beta  \n", "x" * (MAX_CHARS + 500)])
    assert llm.requests[0]["input"] == ["Acme buys Beta", "x" * MAX_CHARS]
    with pytest.raises(ValueError, match="empty"):
        make_embedder(llm).embed(["fine", " \n"])
    assert make_embedder(llm).embed([]) == []
    assert len(llm.requests) == 1


def test_500_then_success_is_retried(llm: FakeLLM) -> None:
    llm.enqueue(error(500, "The server had an error", headers=QUICK_RETRY), embeddings([[1.0, 0.0]]))
    assert make_embedder(llm).embed(["a"]) == [pytest.approx((1.0, 0.0))]
    assert len(llm.requests) == 2 and llm.requests[0] == llm.requests[1]


def test_persistent_failure_is_unavailable_after_the_client_retries(llm: FakeLLM) -> None:
    llm.enqueue(*(error(503, "overloaded", headers=QUICK_RETRY) for _ in range(4)))
    with pytest.raises(LLMUnavailable, match="InternalServerError"):
        make_embedder(llm, max_retries=2).embed(["a"])
    assert len(llm.requests) == 3


def test_a_rejected_request_is_unavailable_without_retries(llm: FakeLLM) -> None:
    llm.enqueue(error(404, f"The model `{MODEL}` does not exist"))
    with pytest.raises(LLMUnavailable, match="NotFoundError"):
        make_embedder(llm).embed(["a"])
    assert len(llm.requests) == 1


@pytest.mark.parametrize(("reply", "problem"), [
    (embeddings([[1.0, 0.0]]), "2 texts sent, 1 embeddings returned"),
    (embeddings([[1.0, 0.0], [1.0, 0.0, 0.0]]), r"mixed dimensions \[2, 3\]"),
    (embeddings([[1.0, 0.0], [0.0, 1.0]], order=[0, 0]), r"indexes \[0, 0\] are not 0..1"),
    (embeddings([[1.0, 0.0], [0.0, 0.0]]), "embedding 1 is not a non-zero list of numbers"),
    (embeddings([[1.0, 0.0], [1.0, "x"]]), "embedding 1 is not a non-zero list of numbers"),  # type: ignore[list-item]
    (Reply(body={"object": "list", "model": MODEL}), "no list of embeddings"),
    (Reply(body="<html>Bad gateway</html>"), "not JSON"),
], ids=["count", "dimensions", "index", "zero", "not-a-number", "no-data", "not-json"])
def test_a_reply_that_does_not_fit_the_request_is_bad_output(llm: FakeLLM, reply: Reply, problem: str) -> None:
    llm.enqueue(reply)
    with pytest.raises(LLMBadOutput, match=problem):
        make_embedder(llm).embed(["a", "b"])
    assert len(llm.requests) == 1  # not retried: the same request would get the same answer


def test_dimensions_must_agree_across_batches(llm: FakeLLM) -> None:
    llm.enqueue(embeddings([[1.0, 0.0]]), embeddings([[1.0, 0.0, 0.0]]))
    with pytest.raises(LLMBadOutput, match=r"mixed dimensions \[2, 3\]"):
        make_embedder(llm, batch_size=1).embed(["a", "b"])


def test_embedder_for_needs_a_model_and_an_endpoint(llm: FakeLLM) -> None:
    assert embedder_for(settings(openai_base_url=llm.base_url)) is None
    assert embedder_for(settings(openai_base_url=llm.base_url, briefbot_embedding_model="  ")) is None
    assert embedder_for(settings(briefbot_embedding_model=MODEL)) is None
    embedder = embedder_for(settings(openai_base_url=llm.base_url, briefbot_embedding_model=MODEL,
                                     briefbot_llm_timeout=7, briefbot_llm_max_retries=1))
    assert embedder is not None
    assert (embedder.model, embedder.client.timeout, embedder.client.max_retries) == (MODEL, 7, 1)
    llm.enqueue(embeddings([[0.0, 2.0]]))
    assert embedder.embed(["a"]) == [pytest.approx((0.0, 1.0))]


def test_embedding_text_is_the_headline_and_the_lead() -> None:
    words = [f"w{i}" for i in range(100)]
    assert embedding_text("  Acme buys\tBeta ", "\n".join(words)) == "Acme buys Beta\n" + " ".join(words[:60])
    assert embedding_text("Acme buys Beta", "") == "Acme buys Beta"
    assert embedding_text("", "  ") == ""


# Two reports of one event without a word in common: terms alone cannot join them, embeddings can.
LEASE = StoryInput(1, "Kestrel Commerce leases giant Kent warehouse", "", "The Harbor Ledger", T0)
DEAL = StoryInput(2, "Online retailer signs deal for huge fulfillment site near Seattle", "", "Metro Wire",
                  T0 + timedelta(hours=2))


def cluster(items: list[StoryInput]) -> list[tuple[int, bool, str, float]]:
    clusterer = StoryClusterer()  # StoryParams() defaults: min_shared_terms=2, embedding_weight=0.5
    return [(a.story_id, a.is_new, a.reason, a.score) for a in map(clusterer.assign, items)]


@pytest.mark.parametrize(("vectors", "joined"), [
    ([[1.0, 0.02, 0.0], [1.0, 0.0, 0.02]], True),  # near-identical: one story
    ([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], False),  # unrelated: two stories, as without embeddings
], ids=["near-identical", "orthogonal"])
def test_embeddings_join_reports_that_share_no_headline_term(llm: FakeLLM, vectors: list[list[float]],
                                                             joined: bool) -> None:
    assert not set(title_terms(LEASE)) & set(title_terms(DEAL))
    assert [a[:2] for a in cluster([LEASE, DEAL])] == [(1, True), (2, True)]  # terms alone: apart

    llm.enqueue(embeddings(vectors))
    lease, deal = make_embedder(llm).embed([embedding_text(i.title, i.text) for i in (LEASE, DEAL)])
    assert llm.requests[0]["input"] == [LEASE.title, DEAL.title]
    first, second = cluster([dataclasses.replace(LEASE, embedding=lease), dataclasses.replace(DEAL, embedding=deal)])
    assert first == (1, True, "new", 0.0)
    if joined:
        # The min_shared_terms gate zeroes the term part only; the score is the embedding part alone:
        # 0.5 × (cosine − 0.5) / (1 − 0.5).
        cosine = sum(a * b for a, b in zip(lease, deal, strict=True))
        assert second[:3] == (1, False, "similar") and second[3] == pytest.approx(cosine - 0.5)
    else:
        assert second[:3] == (2, True, "new")
