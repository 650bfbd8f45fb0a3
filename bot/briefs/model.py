"""What a brief is made from and what it holds, shared by every writer. Pure data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

SubjectKind = Literal["story", "signal"]
HEADLINE_MAX = 90
WINDOW_DAYS = 14  # a growth signal's window, as briefs describe it


@dataclass(frozen=True, slots=True)
class SourceRef:
    """One stored item a brief stands on. Its URL is the only kind of link a brief may carry."""

    item_id: int
    title: str
    url: str
    outlet: str
    published_at: datetime | None
    text: str = ""  # plain text, capped; for the writer to read, never to follow


@dataclass(frozen=True, slots=True)
class RelatedRef:
    """The other half of a company's picture, for a brief to mention: a news story about the company a hiring
    signal is about, or the open hiring signal of a company a story names; or (kind "brief") the subject's own
    earlier brief, which a re-brief updates. `headline` and `detail` come from feeds, boards and earlier LLM
    replies: material, never instructions."""

    kind: Literal["story", "signal", "brief"]
    subject_id: int
    headline: str  # the story's (or its latest brief's) headline; the signal's company and what it shows
    detail: str  # a story: its outlets; a signal: e.g. "14 fulfillment and logistics roles around Seattle (surge)"
    url: str = ""  # a story's clearest article, cited by the brief
    outlet: str = ""
    count: int = 0  # a story's outlets; a signal's postings
    published_at: datetime | None = None
    item_id: int | None = None  # the cited article


def hashable(inp: BriefInput) -> dict[str, object]:
    """What a writer sees, without which subject or version it is: two inputs alike in this are briefed alike,
    so the second can reuse the first brief."""
    data = asdict(inp)
    del data["subject_id"], data["subject_version"]
    return data


@dataclass(frozen=True, slots=True)
class BriefInput:
    """Everything a writer may use, as data. Feed text in here is material, never instructions."""

    subject: SubjectKind
    subject_id: int
    subject_version: int
    items: tuple[SourceRef, ...]
    # signals
    company: str = ""
    function_label: str = ""  # e.g. "fulfillment and logistics"
    main_function_label: str = ""  # the commonest function, e.g. "fulfillment and warehouse operations"
    metro: str = ""
    cities: tuple[str, ...] = ()
    reason: str = ""  # new_metro | new_function | new_function_in_metro | surge
    baseline: float = 0.0
    window_days: int = WINDOW_DAYS
    item_count: int | None = None  # the subject's real count; its cited items (`items`) are capped
    # stories
    outlets: tuple[str, ...] = ()
    first_at: datetime | None = None
    last_at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)
    related: tuple[RelatedRef, ...] = ()  # the company's news (for a signal) or open signals (for a story)
    # A re-brief's items that its earlier brief (first in `related`) already covers: cited, and read by the
    # built-in writer, but not sent to the LLM again; `items` then holds only what is new since that brief.
    earlier: tuple[SourceRef, ...] = ()

    def cited(self) -> tuple[SourceRef, ...]:
        """Every item the brief stands on: those its earlier brief covered, then the new ones."""
        return self.earlier + self.items

    def total_items(self) -> int:
        """How many items the subject holds: its real count when given, else the items cited."""
        return len(self.cited()) if self.item_count is None else self.item_count


class BriefDraft(BaseModel):
    """A brief as a writer returns it (the LLM's JSON is validated into this)."""

    headline: str = Field(min_length=8, max_length=120, description="Who, what, where; at most about 90 characters.")
    summary: str = Field(min_length=10, max_length=600, description="One or two sentences.")
    why_it_matters: str = Field(min_length=5, max_length=400)
    entities: list[str] = Field(default_factory=list, max_length=12, description="Companies and organisations.")
    places: list[str] = Field(default_factory=list, max_length=12)
    event_type: str = Field(min_length=2, max_length=40, description="e.g. hiring_new_metro, funding, acquisition.")


@dataclass(frozen=True, slots=True)
class WrittenBrief:
    """A draft plus how it was written: recorded beside every brief."""

    draft: BriefDraft
    writer: Literal["llm", "builtin"]
    prompt_name: str | None = None
    prompt_version: str | None = None
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    input_hash: str = ""
    note: str | None = None  # why the built-in writer stood in, when it did
