"""Text embeddings for story clustering, through the one OpenAI client.

Optional: without BRIEFBOT_EMBEDDING_MODEL, or without an endpoint, `embedder_for` gives None and stories are
clustered on their terms alone. Retries are the client's own (see client.py), and each batch's request ends
within one request bound. A failed request ends in LLMUnavailable (LLMTooSlow past the deadline) and a reply
that does not fit the request, whatever is wrong with it, in LLMBadOutput; either way the caller clusters
that batch without embeddings rather than not at all.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from openai import OpenAI, OpenAIError

from bot.llm.client import (
    LLMBadOutput,
    LLMError,
    LLMTooSlow,
    LLMUnavailable,
    build_client,
    client_bound,
    embeddings_configured,
)
from bot.llm.deadline import DeadlinePassed, within
from bot.llm.replies import unusable
from bot.settings import Settings

log = logging.getLogger(__name__)

BATCH_SIZE = 64  # texts per request, far below the APIs' limits (2,048 inputs, 300,000 tokens)
MAX_CHARS = 2000  # per text: roughly 500 tokens of English, and small local embedding models read 512


class Embedder:
    """`embed(texts)` → one unit-length vector per text, in the texts' order."""

    def __init__(self, client: OpenAI, model: str, *, batch_size: int = BATCH_SIZE,
                 max_chars: int = MAX_CHARS) -> None:
        if batch_size < 1 or max_chars < 1:
            raise ValueError("batch_size and max_chars must be positive")
        self.client, self.model, self.batch_size, self.max_chars = client, model, batch_size, max_chars
        self.bound = client_bound(client)  # per batch

    def embed(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        inputs = [text.strip()[: self.max_chars] for text in texts]
        if not all(inputs):
            raise ValueError("cannot embed an empty text")  # the APIs reject "" with a 400
        vectors: list[tuple[float, ...]] = []
        tokens = 0
        for start in range(0, len(inputs), self.batch_size):
            batch = inputs[start : start + self.batch_size]
            try:
                with within(self.bound):
                    # "float" spelt out: the client would ask for base64, which not every compatible server speaks.
                    response = self.client.embeddings.create(model=self.model, input=batch,
                                                             encoding_format="float")
                vectors.extend(_unit_vectors(getattr(response, "data", None), len(batch), self.model))
                tokens += _count(getattr(getattr(response, "usage", None), "total_tokens", 0))
            except DeadlinePassed as exc:
                raise LLMTooSlow(f"{self.model}: {exc} (the bound: {self.bound:g} s a request)") from exc
            except OpenAIError as exc:
                raise LLMUnavailable(f"{self.model}: {type(exc).__name__}: {exc}") from exc
            except LLMError:
                raise
            except Exception as exc:  # the client lets a reply that is not JSON through as JSONDecodeError, …
                raise unusable(self.model, exc) from exc
        dimensions = sorted({len(v) for v in vectors})
        if len(dimensions) > 1:  # each reply was consistent, but not with the others
            raise LLMBadOutput(f"{self.model}: embeddings of mixed dimensions {dimensions}")
        if inputs:
            log.info("embeddings by %s: %d texts, %d tokens", self.model, len(inputs), tokens)
        return vectors


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _unit_vectors(data: Any, expected: int, model: str) -> list[tuple[float, ...]]:
    """The reply's vectors in input order (by their `index`), scaled to length 1; LLMBadOutput unless there is
    exactly one finite, non-zero vector per input and all have the same length. The client does not validate
    replies, so nothing about `data` is taken on trust."""
    if not isinstance(data, list):
        raise LLMBadOutput(f"{model}: the reply has no list of embeddings")
    if len(data) != expected:
        raise LLMBadOutput(f"{model}: {expected} texts sent, {len(data)} embeddings returned")
    indexes = [getattr(item, "index", None) for item in data]
    if sorted(i for i in indexes if isinstance(i, int)) != list(range(expected)):
        raise LLMBadOutput(f"{model}: embedding indexes {indexes} are not 0..{expected - 1}")
    by_index = dict(zip(indexes, data, strict=True))
    vectors: list[tuple[float, ...]] = []
    for index in range(expected):
        raw = getattr(by_index[index], "embedding", None)
        if isinstance(raw, list) and raw and all(isinstance(x, list) for x in raw):
            # llama-cpp-python's answer for a model without pooling (a chat model): useless for similarity
            raise LLMBadOutput(f"{model}: embedding {index} is one vector per token, not one per text: the model "
                               "pools nothing; set BRIEFBOT_EMBEDDING_MODEL to an embedding model")
        try:
            vector = [float(x) for x in raw] if isinstance(raw, list) else []
        except (TypeError, ValueError):
            vector = []
        norm = math.sqrt(math.fsum(x * x for x in vector))
        if not vector or not math.isfinite(norm) or norm == 0.0:
            raise LLMBadOutput(f"{model}: embedding {index} is not a non-zero list of numbers")
        vectors.append(tuple(x / norm for x in vector))
    dimensions = sorted({len(v) for v in vectors})
    if len(dimensions) > 1:
        raise LLMBadOutput(f"{model}: embeddings of mixed dimensions {dimensions}")
    return vectors


def embedder_for(settings: Settings) -> Embedder | None:
    """The embedder when BRIEFBOT_EMBEDDING_MODEL and an endpoint are both set; None otherwise."""
    if not embeddings_configured(settings):
        return None
    model = (settings.briefbot_embedding_model or "").strip()
    client = build_client(settings, timeout=settings.briefbot_llm_timeout,
                          max_retries=settings.briefbot_llm_max_retries)
    return Embedder(client, model)
