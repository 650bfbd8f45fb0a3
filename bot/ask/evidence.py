"""Numbering retrieved candidates as sources, and quoting them (and the conversation so far) for the answer
prompt. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from bot.ask.model import Source, Turn
from bot.core.retrieval import Candidate

QUOTE_CHARS = 500  # of each source's text, in the prompt
HISTORY_TURNS = 4
HISTORY_CHARS = 600


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


def describe(source: Source) -> str:
    """What a source is, for people: "news, Seattle Times, 23 Nov 2026"."""
    what = {"brief": "briefbot brief", "job": "job posting", "news": "news"}.get(
        source.kind if source.kind == "brief" else source.item_kind or "news", "item")
    parts = [what, source.outlet, f"{source.at:%-d %b %Y}"]
    return ", ".join(p for p in parts if p)


def quote(sources: Sequence[Source]) -> str:
    """The sources as data for the prompt: number, kind, outlet and date, title, the start of the text."""
    blocks = []
    for s in sources:
        body = " ".join(s.text.split())[:QUOTE_CHARS]
        text = f"\nText: {body}" if body else ""
        blocks.append(f"[{s.n}] {describe(s)}\nTitle: {_flat(s.title)}{text}")
    return "\n\n".join(blocks)


def history_text(turns: Sequence[Turn]) -> str:
    """The last few turns, oldest first, or a line saying there are none."""
    recent = list(turns)[-HISTORY_TURNS:]
    if not recent:
        return "(This is the first question of the conversation.)"
    return "\n".join(f"Q: {_flat(t.question)[:HISTORY_CHARS]}\nA: {_flat(t.answer)[:HISTORY_CHARS]}" for t in recent)


def _flat(text: str) -> str:
    return " ".join(text.split())
