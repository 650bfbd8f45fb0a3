"""What Slack surfaces show, as plain data: the storage layer fills these, the pure Block Kit builders in
`bot/slack/blocks/` turn them into messages and views. Nothing here is escaped yet: every string may come
from a feed or an LLM, and the builders escape it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.llm_budget import LLMBudget


@dataclass(frozen=True, slots=True)
class SourceLink:
    """One stored item a brief cites."""

    title: str
    url: str
    outlet: str
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class SignalDetails:
    """The hiring signal behind a brief: whose postings, where, and which roles."""

    company: str
    metro: str
    reason: str  # new_metro | new_function | new_function_in_metro | surge
    roles: tuple[tuple[str, int], ...]  # (role or job function, postings), commonest first
    postings: int
    weekly: tuple[int, ...] = ()  # the group's postings per week, oldest first, up to when the signal last grew


@dataclass(frozen=True, slots=True)
class AlertView:
    """One brief as an alert."""

    brief_id: int
    subject: str  # story | signal
    subject_id: int
    headline: str
    summary: str
    why_it_matters: str
    sources: tuple[SourceLink, ...]
    item_count: int
    outlet_count: int
    created_at: datetime
    writer_note: str | None = None  # e.g. "written by the built-in writer: no LLM is configured"
    signal: SignalDetails | None = None
    mute_company: str = ""  # the company "Mute this company" mutes; "" hides the button


@dataclass(frozen=True, slots=True)
class EvidenceLine:
    """One labelled line of a signal's evidence ("Pace", "Thresholds" …), raw text: the builder escapes it."""

    label: str
    text: str


@dataclass(frozen=True, slots=True)
class EvidencePostingView:
    title: str
    place: str
    metro: str
    day: datetime
    url: str
    dated: bool  # the day is the board's own date, not when the posting was first seen


@dataclass(frozen=True, slots=True)
class EvidenceView:
    """Why a signal's alert fired ("Why this alert"), as lines and the postings in its window."""

    brief_id: int
    signal_id: int
    company: str
    family_label: str
    metro: str
    lines: tuple[EvidenceLine, ...]
    postings: tuple[EvidencePostingView, ...]  # in the window, oldest first
    window_start: datetime


@dataclass(frozen=True, slots=True)
class Growth:
    """How much a story or signal grew since its alert was posted (for the thread reply)."""

    more_items: int
    more_outlets: int


@dataclass(frozen=True, slots=True)
class DigestView:
    channel_id: str
    since: datetime | None  # the previous digest; None for the first
    until: datetime
    briefs: tuple[AlertView, ...]  # best first
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class FollowView:
    source_id: int
    label: str  # the source's title, else its spec
    kind: str
    status: str  # new | ok | retrying | failing | paused
    last_error: str | None = None
    last_success_at: datetime | None = None
    items_lost: str | None = None  # what the last poll could not keep: items skipped or refused, and why
    alert: str = "every"  # the follow's alert policy in effect (core.routing)


@dataclass(frozen=True, slots=True)
class ChannelView:
    channel_id: str
    follows: tuple[FollowView, ...] = ()
    watches: tuple[str, ...] = ()
    digest: str = "off"  # e.g. "daily 09:00", "weekly mon 09:00", "off"
    muted: bool = False
    muted_companies: tuple[str, ...] = ()
    paused_reason: str | None = None  # e.g. "the bot was removed from the channel"


@dataclass(frozen=True, slots=True)
class HomeView:
    team_id: str
    timezone: str
    writer: str  # how briefs are written, e.g. "LLM gpt-4o-mini" or "built-in writer (no LLM configured)"
    channels: tuple[ChannelView, ...] = ()
    latest: tuple[AlertView, ...] = ()
    failed_deliveries: int = 0
    analysis_error: str | None = None  # why the workspace's last analysis pass failed in part, if it did
    llm_budget: LLMBudget | None = None  # its LLM use today against its daily budget; None: no LLM configured
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Message:
    """A Slack message: the plain-text fallback and its blocks."""

    text: str
    blocks: list[dict[str, Any]]
