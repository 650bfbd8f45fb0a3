"""The tables. Every table that holds a workspace's data carries its Slack team id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.storage import fit  # noqa: F401  registers the guard that fits text to its column before every flush
from bot.storage.types import UTCDateTime


def _ts(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Workspace(SQLModel, table=True):
    """A Slack workspace (team) that uses briefbot; `T_LOCAL` stands for CLI-only use."""

    __tablename__ = "workspaces"

    team_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(default="", max_length=200)
    timezone: str = Field(default="UTC", max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # Analysis wanted (storage/wanted): sequences raised when a poll stores items (clustering) and when
    # clustering changes stories or signals (briefs); `*_done` is where the last complete pass got to. Any
    # worker sees them, so the work is shared whichever worker polled.
    cluster_wanted: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    cluster_done: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    briefs_wanted: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    briefs_done: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Why the last analysis pass failed for this workspace (or one company's signals, one subject's brief in
    # it), for `/brief status` and `briefbot status`; cleared by the next pass that goes through.
    analysis_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    analysis_error_at: datetime | None = _ts()
    llm_daily_tokens: int | None = None  # the workspace's own daily LLM token budget; None: the setting's default


class Source(SQLModel, table=True):
    """Something a workspace watches: a feed, a news search, a job board or a careers page."""

    __tablename__ = "sources"
    __table_args__ = (
        UniqueConstraint("team_id", "kind", "locator", name="uq_sources_team_kind_locator"),
        Index("ix_sources_due", "next_due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", index=True, max_length=32)
    kind: str = Field(max_length=32)
    spec: str = Field(sa_column=Column(Text, nullable=False))
    locator: str = Field(sa_column=Column(Text, nullable=False))
    title: str = Field(default="", max_length=300)
    enabled: bool = True
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    removed_at: datetime | None = _ts()

    etag: str | None = Field(default=None, max_length=500)
    last_modified: str | None = Field(default=None, max_length=100)
    body_hash: str | None = Field(default=None, max_length=64)

    next_due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = _ts()

    failures: int = 0
    last_polled_at: datetime | None = _ts()
    last_success_at: datetime | None = _ts()
    last_error_at: datetime | None = _ts()
    last_error_kind: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # What the last poll that read the source noted: items skipped or refused, undated items, a lenient parse.
    last_notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    last_entry_count: int | None = None
    # Postings lifecycle (core/lifecycle): when this job source's polls began closing the postings it stops
    # listing. A posting found gone then closed at an unknown time before (`items.closed_before_tracking`).
    listing_tracked_at: datetime | None = _ts()


class Subscription(SQLModel, table=True):
    """A Slack channel follows a source."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", "source_id", name="uq_subscriptions"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", index=True, max_length=32)
    channel_id: str = Field(max_length=32)
    source_id: int = Field(foreign_key="sources.id", index=True)
    paused: bool = False
    alert: str | None = Field(default=None, max_length=8)  # every | stories | digest; None: the kind's default
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Item(SQLModel, table=True):
    """One normalised news article or job posting, stored once per workspace and canonical URL."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("team_id", "url_key", name="uq_items_team_url"),
        Index("ix_items_team_first_seen", "team_id", "first_seen_at"),
        Index("ix_items_team_kind_outlet", "team_id", "kind", "outlet"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", max_length=32)
    source_id: int = Field(foreign_key="sources.id", index=True)
    kind: str = Field(max_length=8)
    external_id: str = Field(sa_column=Column(Text, nullable=False))
    url: str = Field(sa_column=Column(Text, nullable=False))
    url_key: str = Field(max_length=64)
    title: str = Field(sa_column=Column(Text, nullable=False))
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    outlet: str = Field(default="", max_length=300)
    author: str = Field(default="", max_length=300)
    published_at: datetime | None = _ts()
    first_seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    content_hash: str = Field(max_length=80)
    # Stored by its source's first poll: history to compare against, never news to alert on.
    backfill: bool = False
    story_id: int | None = Field(default=None, foreign_key="stories.id", index=True)

    job_title: str | None = Field(default=None, max_length=300)
    department: str | None = Field(default=None, max_length=300)
    employment_type: str | None = Field(default=None, max_length=64)
    remote: bool | None = None
    locations: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # A job posting's lifecycle (core/lifecycle): closed when none of the team's sources lists it any more,
    # reopened (None) when one does again; a new posting that is a recently closed one come back names it.
    closed_at: datetime | None = _ts()
    closed_before_tracking: bool = False
    repost_of: int | None = Field(default=None, index=True)


class ItemLink(SQLModel, table=True):
    """Where an item was seen: one row per (source, external id). The same URL from two sources is two
    links to one item, not two items."""

    __tablename__ = "item_links"
    __table_args__ = (UniqueConstraint("source_id", "external_id", name="uq_item_links_source_external"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", index=True, max_length=32)
    item_id: int = Field(foreign_key="items.id", index=True)
    source_id: int = Field(foreign_key="sources.id")
    external_id: str = Field(max_length=255)
    content_hash: str = Field(max_length=80)
    first_seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # Job sources: when this source stopped listing the posting (None while it lists it), and, while a mass
    # disappearance waits for the next poll to confirm it, the poll that first found it missing.
    delisted_at: datetime | None = _ts()
    missing_since: datetime | None = _ts()


class Poll(SQLModel, table=True):
    """One attempt to poll one source: the history behind `sources list` health."""

    __tablename__ = "polls"
    __table_args__ = (Index("ix_polls_source_started", "source_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", index=True, max_length=32)
    source_id: int = Field(foreign_key="sources.id")
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    outcome: str = Field(max_length=16)
    http_status: int | None = None
    error_kind: str | None = Field(default=None, max_length=32)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    bytes_read: int = 0
    entries: int = 0
    items_new: int = 0
    items_updated: int = 0
    items_linked: int = 0
    duration_ms: int = 0
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Story(SQLModel, table=True):
    """News items from several sources and outlets that report one event."""

    __tablename__ = "stories"
    __table_args__ = (Index("ix_stories_team_last", "team_id", "last_at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", max_length=32)
    headline: str = Field(sa_column=Column(Text, nullable=False))
    item_count: int = 0
    outlets: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    first_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = 1  # bumped whenever the story gains items
    merged_into: int | None = None  # this story turned out to be that one; its items moved there
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Signal(SQLModel, table=True):
    """A hiring signal: a company's cluster of new postings in one job-function family and one metro."""

    __tablename__ = "signals"
    __table_args__ = (
        Index("ix_signals_team_key", "team_id", "company", "family", "metro"),
        Index("ix_signals_team_last", "team_id", "last_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", max_length=32)
    company: str = Field(max_length=300)
    family: str = Field(max_length=64)
    metro: str = Field(max_length=200)
    reason: str = Field(max_length=32)
    status: str = Field(default="open", max_length=16)  # open while postings keep arriving; closed after a quiet window
    item_count: int = 0
    baseline: float = 0.0
    functions: list[list[Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    first_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    version: int = 1  # bumped whenever the signal gains postings
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class SignalItem(SQLModel, table=True):
    """The postings behind a signal."""

    __tablename__ = "signal_items"
    __table_args__ = (UniqueConstraint("signal_id", "item_id", name="uq_signal_items"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", index=True, max_length=32)
    signal_id: int = Field(foreign_key="signals.id", index=True)
    item_id: int = Field(foreign_key="items.id", index=True)
    added_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Brief(SQLModel, table=True):
    """A short brief on one story or signal, at one version of it, with how it was written."""

    __tablename__ = "briefs"
    __table_args__ = (
        UniqueConstraint("team_id", "subject", "subject_id", "subject_version", name="uq_briefs_subject_version"),
        Index("ix_briefs_team_created", "team_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", max_length=32)
    subject: str = Field(max_length=16)  # story | signal
    subject_id: int
    subject_version: int
    item_count: int = 0
    outlet_count: int = 0
    headline: str = Field(sa_column=Column(Text, nullable=False))
    summary: str = Field(sa_column=Column(Text, nullable=False))
    why_it_matters: str = Field(sa_column=Column(Text, nullable=False))
    entities: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    places: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    event_type: str = Field(max_length=40)
    sources: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    writer: str = Field(max_length=16)  # llm | builtin
    writer_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    prompt_name: str | None = Field(default=None, max_length=64)
    prompt_version: str | None = Field(default=None, max_length=32)
    model: str | None = Field(default=None, max_length=100)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    input_hash: str = Field(max_length=80, index=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # Set once the brief's deliveries are in the outbox (routing is one transaction; briefs from before
    # the Slack app were marked routed by the migration).
    routed_at: datetime | None = _ts(index=True)


class Channel(SQLModel, table=True):
    """A Slack channel that uses briefbot: its digest schedule, mute, and whether alerts are paused."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", name="uq_channels"),
                      Index("ix_channels_digest_due", "next_digest_at"))

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", index=True, max_length=32)
    channel_id: str = Field(max_length=32)
    muted: bool = False  # alerts held; digests still come
    digest: str = Field(default="off", max_length=8)  # off | daily | weekly
    digest_time: str | None = Field(default=None, max_length=5)  # HH:MM in the workspace's time zone
    digest_day: int | None = None  # 0 = Monday, for weekly digests
    next_digest_at: datetime | None = _ts()
    last_digest_at: datetime | None = _ts()
    paused_reason: str | None = Field(default=None, max_length=200)  # e.g. the bot was removed
    paused_at: datetime | None = _ts()
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Watch(SQLModel, table=True):
    """A channel watches a company or keyword: any brief that mentions it is alerted there."""

    __tablename__ = "watches"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", "term_key", name="uq_watches"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", index=True, max_length=32)
    channel_id: str = Field(max_length=32)
    term: str = Field(max_length=200)
    term_key: str = Field(max_length=200)
    source_id: int | None = Field(default=None, foreign_key="sources.id")  # the news search it added
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Mute(SQLModel, table=True):
    """A channel muted one company's alerts."""

    __tablename__ = "mutes"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", "company_key", name="uq_mutes"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", index=True, max_length=32)
    channel_id: str = Field(max_length=32)
    company: str = Field(max_length=300)
    company_key: str = Field(max_length=300)
    user_id: str = Field(default="", max_length=32)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Delivery(SQLModel, table=True):
    """The outbox: one message to post (or update) in one channel. A row stays until Slack confirms it;
    `dedupe_key` makes every alert, update and digest exist once."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "next_attempt_at"),
                      Index("ix_deliveries_channel", "team_id", "channel_id", "created_at"))

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", max_length=32)
    channel_id: str = Field(max_length=32)
    kind: str = Field(max_length=8)  # alert | update | digest
    subject: str = Field(default="", max_length=16)  # story | signal ("" for digests)
    subject_id: int | None = None
    brief_id: int | None = Field(default=None, foreign_key="briefs.id")
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dedupe_key: str = Field(max_length=200, unique=True)
    # pending: to post | sending: posted or about to be, unconfirmed | sent | held: muted, for digests only
    # | paused: the channel is unreachable | failed: Slack refused it for good
    status: str = Field(default="pending", max_length=8)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = _ts()
    attempt_started_at: datetime | None = _ts()
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    message_ts: str | None = Field(default=None, max_length=32)
    thread_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = _ts()


class AlertMessage(SQLModel, table=True):
    """The alert posted for a story or signal in a channel: later briefs update it and reply in its thread."""

    __tablename__ = "alert_messages"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", "subject", "subject_id", name="uq_alert_messages"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", index=True, max_length=32)
    channel_id: str = Field(max_length=32)
    subject: str = Field(max_length=16)
    subject_id: int
    ts: str = Field(max_length=32)
    brief_id: int = Field(foreign_key="briefs.id")
    item_count: int = 0
    outlet_count: int = 0
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class SlackEvent(SQLModel, table=True):
    """Events API ids already handled: Slack's retries and Socket Mode redeliveries are handled once."""

    __tablename__ = "slack_events"

    event_id: str = Field(primary_key=True, max_length=64)
    team_id: str = Field(default="", max_length=32)
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class Feedback(SQLModel, table=True):
    """A reaction to a brief or answer from its buttons ("Not useful")."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("team_id", "user_id", "brief_id", "value", name="uq_feedback"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", index=True, max_length=32)
    channel_id: str = Field(default="", max_length=32)
    user_id: str = Field(max_length=32)
    brief_id: int = Field(foreign_key="briefs.id")
    value: str = Field(max_length=32)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ConversationTurn(SQLModel, table=True):
    """One question and briefbot's answer. Turns with the same (team, channel, thread) are one conversation:
    a follow-up sees the earlier turns from here, not from Slack's rate-limited history endpoints."""

    __tablename__ = "conversation_turns"
    __table_args__ = (Index("ix_conversation_turns_thread", "team_id", "channel_id", "thread_ts"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", max_length=32)
    channel_id: str = Field(max_length=32)  # "cli" for `briefbot ask`
    thread_ts: str = Field(max_length=32)  # the conversation: a Slack thread, a DM thread, or a CLI session
    user_id: str = Field(default="", max_length=32)
    surface: str = Field(max_length=16)  # dm | mention | button | command | cli
    question: str = Field(sa_column=Column(Text, nullable=False))
    answer: str = Field(default="", sa_column=Column(Text, nullable=False))
    citations: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    brief_id: int | None = Field(default=None, foreign_key="briefs.id")  # the alert's brief, as context
    writer: str = Field(default="", max_length=16)  # llm | extractive | none
    prompt_name: str | None = Field(default=None, max_length=64)
    prompt_version: str | None = Field(default=None, max_length=32)
    model: str | None = Field(default=None, max_length=100)
    message_ts: str | None = Field(default=None, max_length=32)  # briefbot's reply in Slack
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class AnswerFeedback(SQLModel, table=True):
    """A person's thumbs up or down on one answer (its feedback buttons); pressing again changes it."""

    __tablename__ = "answer_feedback"
    __table_args__ = (UniqueConstraint("turn_id", "user_id", name="uq_answer_feedback"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", index=True, max_length=32)
    turn_id: int = Field(foreign_key="conversation_turns.id")
    user_id: str = Field(max_length=32)
    value: str = Field(max_length=16)  # good | bad
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ItemVector(SQLModel, table=True):
    """An item's embedding (unit length, float32 little-endian), kept from story clustering so that
    questions can be matched by meaning as well as by words."""

    __tablename__ = "item_vectors"
    __table_args__ = (Index("ix_item_vectors_team_at", "team_id", "at"),)

    item_id: int = Field(primary_key=True, foreign_key="items.id")
    team_id: str = Field(foreign_key="workspaces.team_id", max_length=32)
    dims: int
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))  # the item's published (or seen) time


class WorkLease(SQLModel, table=True):
    """A named piece of work one worker holds for a while: a team's story clustering, one subject's brief.
    Several workers on one database take turns through it; a lease that runs out may be taken over, so a
    worker that died mid-task holds nothing for long."""

    __tablename__ = "work_leases"

    name: str = Field(primary_key=True, max_length=200)  # e.g. "cluster:T123", "brief:T123:story:42"
    owner: str = Field(max_length=100)
    lease_until: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    acquired_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class CompanyAlias(SQLModel, table=True):
    """A workspace's own alias: `alias` is another name of the company `canonical` ("ByteDance" → "TikTok").
    Keys are core/companies.company_key's; the built-in aliases (bot/data/company_aliases.json) are not rows."""

    __tablename__ = "company_aliases"
    __table_args__ = (UniqueConstraint("team_id", "alias_key", name="uq_company_aliases_team_alias"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspaces.team_id", max_length=32)
    alias_key: str = Field(max_length=200)  # core/companies.KEY_MAX
    canonical_key: str = Field(max_length=200)
    alias: str = Field(max_length=300)  # as written (core/companies.NAME_MAX)
    canonical: str = Field(max_length=300)
    created_by: str = Field(default="", max_length=32)  # the Slack user, or "cli"
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
