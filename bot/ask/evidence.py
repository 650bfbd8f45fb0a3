"""Numbering retrieved candidates as sources. Pure. How a source is described for people (`describe`) lives
beside `Source` in bot/core/types; how sources are quoted for the answer prompt is the LLM writer's
(bot/llm/answer_writer)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.retrieval import Candidate
from bot.core.types import Source


def number(candidates: Sequence[Candidate], *, first: Sequence[Candidate] = ()) -> list[Source]:
    """Sources 1..n: `first` (the alert a question was asked under) then the candidates, each once."""
    sources: list[Source] = []
    seen: set[tuple[str, int]] = set()
    for c in (*first, *candidates):
        if (c.kind, c.id) in seen:
            continue
        seen.add((c.kind, c.id))
        sources.append(Source(n=len(sources) + 1, kind=c.kind, id=c.id, title=c.title, url=c.url, outlet=c.outlet,
                              at=c.at, item_kind=c.item_kind, text=c.text))
    return sources
