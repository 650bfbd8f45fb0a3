"""Plain types that packages which must not import each other pass between them: the `embed` callable the
composition root builds from the LLM endpoint (analysis and ask receive it), and the numbered sources and
earlier turns an answer writer is given (ask gives them, the LLM writer reads them). Pure data, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

# Texts in, one vector per text out; None when embeddings cannot be had for this batch (the batch is then
# clustered on terms alone, not held back). Built by the composition root from the LLM endpoint.
Embed = Callable[[list[str]], list[tuple[float, ...]] | None]


@dataclass(frozen=True, slots=True)
class Source:
    """One stored item or brief offered as evidence, numbered from 1 in the order the answer may cite it."""

    n: int
    kind: str  # brief | item
    id: int
    title: str
    url: str
    outlet: str
    at: datetime
    item_kind: str = ""  # news | job, for items
    text: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        data.pop("text")
        return data


@dataclass(frozen=True, slots=True)
class Turn:
    """An earlier question and answer of the same conversation."""

    question: str
    answer: str


def describe(source: Source) -> str:
    """What a source is, for people: "news, Seattle Times, 23 Nov 2026"."""
    what = {"brief": "briefbot brief", "job": "job posting", "news": "news"}.get(
        source.kind if source.kind == "brief" else source.item_kind or "news", "item")
    parts = [what, source.outlet, f"{source.at:%-d %b %Y}"]
    return ", ".join(p for p in parts if p)
