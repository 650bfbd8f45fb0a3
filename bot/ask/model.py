"""What an answer is made of: numbered sources, the answer text that cites them as [n], and how it was
written. Pure data, shared by the CLI and the Slack surfaces."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


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


@dataclass(slots=True)
class Answer:
    question: str
    text: str  # plain text; cites sources as [n]; never holds a URL
    sources: list[Source]  # the sources the text cites (or, with none cited, the best few)
    writer: str  # llm | extractive | none
    note: str = ""  # said to the reader: "No LLM is configured…", "Nothing was stored from 2019…"
    prompt_name: str | None = None
    prompt_version: str | None = None
    model: str | None = None
    turn_id: int | None = None
    searched: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.text, "note": self.note, "writer": self.writer,
                "sources": [s.as_dict() for s in self.sources], "prompt": self.prompt_name,
                "prompt_version": self.prompt_version, "model": self.model, "searched": self.searched}
