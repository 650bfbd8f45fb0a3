"""What an answer is made of: numbered sources, the answer text that cites them as [n], and how it was
written; and what ask asks of an answer writer. Pure, shared by the CLI and the Slack surfaces. `Source` and
`Turn` live in bot/core/types (the LLM writer reads them and imports nothing of ask)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.core.types import Source, Turn


class AnswerWriter(Protocol):
    """Writes an answer's raw text (uncleaned: the caller cleans it) from numbered sources and the conversation
    so far, passing each piece of text to `on_text` as it comes. Its failures are the LLM boundary's: LLMTooSlow
    (with the text streamed before the deadline) or another LLMError; anything else is a defect."""

    model: str  # recorded with the answer
    prompt_name: str
    prompt_version: str

    def write(self, *, question: str, today: str, history: Sequence[Turn], sources: Sequence[Source],
              on_text: Callable[[str], None] | None = None) -> str: ...


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
