"""A brief as a Slack alert, and the thread reply when its story or signal grows.

The small formatters here (dates, counts, source links) are shared with the digest and the Home tab.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.signal_evidence import sparkline
from bot.slack.blocks import limits
from bot.slack.escape import join_within, link, mrkdwn, plain, safe_url, truncate_mrkdwn
from bot.slack.model import AlertView, EvidencePostingView, EvidenceView, Growth, Message, SignalDetails, SourceLink

ASK_ACTION = "brief_ask"
WHY_ACTION = "brief_why"
MUTE_COMPANY_ACTION = "brief_mute_company"
NOT_USEFUL_ACTION = "brief_not_useful"  # 👎 "Less like this" (the id alerts already posted carry)
USEFUL_ACTION = "brief_useful"

MAX_SOURCE_LINKS = 5
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Budgets that keep an alert far below Slack's cumulative text limit whatever the inputs are.
_WHY_TEXT = 800
_SOURCES_TEXT = 2500
_NOTE_TEXT = 300
_FIELD_NAME_TEXT = 200
_ROLES_TEXT = 600
_MAX_ROLES = 10
_EVIDENCE_LINE_TEXT = 500
_EVIDENCE_POSTINGS_TEXT = 2800  # one section's text (3000) with room for its label
_MAX_EVIDENCE_POSTINGS = 20


def zone(name: str) -> tzinfo:
    """The named time zone, or UTC when the name is unknown: a bad setting must not stop a message."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return UTC


def short_date(moment: datetime, tz: tzinfo = UTC) -> str:
    """'24 Nov' in tz; English month names whatever the process locale."""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(tz)
    return f"{local.day} {_MONTHS[local.month - 1]}"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def counts_phrase(view: AlertView) -> str:
    """'5 items from 3 outlets' for stories; '12 postings' for signals."""
    if view.signal is not None:
        return plural(view.signal.postings, "posting")
    return f"{plural(view.item_count, 'item')} from {plural(view.outlet_count, 'outlet')}"


def source_label(source: SourceLink, tz: tzinfo = UTC) -> str:
    """'Outlet · 24 Nov' (raw, not yet escaped)."""
    name = " ".join(source.outlet.split()) or " ".join(source.title.split()) or "source"
    return f"{name} · {short_date(source.published_at, tz)}" if source.published_at else name


def source_elements(
    sources: Sequence[SourceLink], tz: tzinfo = UTC, *, budget: int = _SOURCES_TEXT
) -> list[dict[str, Any]]:
    """Context elements: up to five source links, then '+N more'; a link too long for the budget loses its URL."""
    elements: list[dict[str, Any]] = []
    used = 0
    for source in sources[:MAX_SOURCE_LINKS]:
        label = source_label(source, tz)
        text = link(source.url, label, label_limit=100)
        if used + len(text) > budget:
            text = link("", label, label_limit=100)
        if used + len(text) > budget:
            break
        elements.append(mrkdwn_object(text))
        used += len(text)
    if len(sources) > len(elements):
        elements.append(mrkdwn_object(f"+{len(sources) - len(elements)} more"))
    return elements


def headline_link(view: AlertView, *, label_limit: int = 150, max_length: int = 600) -> str:
    """The headline linked to the first safe source URL; unlinked when the link would exceed max_length."""
    url = next((source.url for source in view.sources if safe_url(source.url)), "")
    headline = view.headline if view.headline.strip() else "Untitled brief"
    linked = link(url, headline, label_limit=label_limit)
    return linked if len(linked) <= max_length else link("", headline, label_limit=label_limit)


def plain_object(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def mrkdwn_object(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def button(action_id: str, text: str, value: str) -> dict[str, Any]:
    label = plain_object(plain(text, limits.BUTTON_TEXT))
    return {"type": "button", "action_id": action_id, "text": label, "value": value}


def alert_message(view: AlertView) -> Message:
    """The alert for one brief: headline, summary and why it matters, signal facts, sources, and actions."""
    prefix = f"brief-{view.brief_id}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "block_id": f"{prefix}-header", "text": plain_object(_headline(view.headline))},
        {"type": "section", "block_id": f"{prefix}-summary", "text": mrkdwn_object(_summary_text(view))},
    ]
    if view.signal is not None:
        blocks.append({"type": "section", "block_id": f"{prefix}-signal", "fields": _signal_fields(view.signal)})
    if view.sources:
        blocks.append({"type": "context", "block_id": f"{prefix}-sources", "elements": source_elements(view.sources)})
    meta = [mrkdwn_object(counts_phrase(view))]
    if view.signal is not None and view.signal.weekly:
        label = "Open roles by week" if view.signal.reason == "pullback" else "Weekly postings"
        meta.append(mrkdwn_object(f"{label} {sparkline(view.signal.weekly)}"))
    note = mrkdwn(view.writer_note or "", _NOTE_TEXT)
    if note:
        meta.append(mrkdwn_object(f"_{note}_"))
    blocks.append({"type": "context", "block_id": f"{prefix}-meta", "elements": meta})
    blocks.append({"type": "actions", "block_id": f"{prefix}-actions", "elements": _buttons(view)})
    return Message(text=_fallback(view.headline, view.summary), blocks=blocks)


def growth_reply(view: AlertView, growth: Growth) -> Message:
    """The thread reply under an alert: what grew ('Update: 3 more outlets, 4 more items'), then the new headline."""
    update = _growth_phrase(view, growth)
    headline = mrkdwn(view.headline, limits.HEADER_TEXT) or "Untitled brief"
    prefix = f"brief-{view.brief_id}-update"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": f"{prefix}-text", "text": mrkdwn_object(f"*{update}*\n{headline}")},
    ]
    if view.sources:
        blocks.append({"type": "context", "block_id": f"{prefix}-sources", "elements": source_elements(view.sources)})
    return Message(text=_fallback(update, view.headline), blocks=blocks)


def evidence_message(view: EvidenceView) -> Message:
    """"Why this alert" (an ephemeral reply): the evidence lines, then the postings in the window as links,
    at most twenty (the CLI's `briefbot signals --explain` lists them all). Everything but the labels is
    escaped; each part has a budget, so the message stays far within Slack's limits whatever the feeds hold."""
    prefix = f"brief-{view.brief_id}-why"
    title = " · ".join(part for part in (view.company, view.family_label, view.metro) if part.strip())
    lines = [f"*{line.label}:* {mrkdwn(line.text, _EVIDENCE_LINE_TEXT) or '–'}" for line in view.lines]
    head = f"*Why this alert:* {mrkdwn(title, _FIELD_NAME_TEXT) or 'a hiring signal'}"
    postings = [_evidence_posting(p) for p in view.postings]
    listed = join_within(postings, _EVIDENCE_POSTINGS_TEXT, max_items=_MAX_EVIDENCE_POSTINGS,
                         more=lambda n: f"…and {n} more") or "–"
    count = plural(len(view.postings), "posting")
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": f"{prefix}-head", "text": mrkdwn_object(head)},
        {"type": "section", "block_id": f"{prefix}-lines",
         "text": mrkdwn_object(truncate_mrkdwn("\n".join(lines), limits.SECTION_TEXT) or "–")},
        {"type": "section", "block_id": f"{prefix}-postings",
         "text": mrkdwn_object(f"*In the window since {short_date(view.window_start)}:* {count}\n{listed}")},
        {"type": "context", "block_id": f"{prefix}-cli",
         "elements": [mrkdwn_object(f"Every posting: `briefbot signals --explain {view.signal_id}`")]},
    ]
    return Message(text=_fallback(f"Why this alert: {title}", ""), blocks=blocks)


def _evidence_posting(posting: EvidencePostingView) -> str:
    """'• <url|Warehouse Associate> · Kent, WA · 24 Nov' (the date marked 'seen' when the board gave none)."""
    day = short_date(posting.day) if posting.dated else f"seen {short_date(posting.day)}"
    place = posting.place or posting.metro
    parts = [link(posting.url, posting.title or "posting", label_limit=100), mrkdwn(place, 60), day]
    return "• " + " · ".join(part for part in parts if part)


def _growth_phrase(view: AlertView, growth: Growth) -> str:
    if view.signal is not None:
        counts = [(growth.more_items, "role")]
    else:
        counts = [(growth.more_outlets, "outlet"), (growth.more_items, "item")]
    parts = [f"{count} more {word if count == 1 else word + 's'}" for count, word in counts if count > 0]
    return f"Update: {', '.join(parts)}" if parts else "Update: new details"


def _headline(headline: str) -> str:
    return plain(headline, limits.HEADER_TEXT) or "Untitled brief"


def _summary_text(view: AlertView) -> str:
    why = mrkdwn(view.why_it_matters, _WHY_TEXT)
    why_line = f"\n\n*Why it matters:* {why}" if why else ""
    summary = mrkdwn(view.summary, limits.SECTION_TEXT - len(why_line))
    return (summary + why_line).strip() or "_No summary._"


def _signal_fields(signal: SignalDetails) -> list[dict[str, Any]]:
    roles = [f"{mrkdwn(role, 100)} ×{count}" for role, count in signal.roles]
    roles_text = join_within(roles, _ROLES_TEXT, max_items=_MAX_ROLES, more=lambda n: f"+{n} more") or "–"
    return [
        mrkdwn_object(f"*Company*\n{mrkdwn(signal.company, _FIELD_NAME_TEXT) or '–'}"),
        mrkdwn_object(f"*Metro*\n{mrkdwn(signal.metro, _FIELD_NAME_TEXT) or '–'}"),
        mrkdwn_object(f"*Postings*\n{signal.postings}"),
        mrkdwn_object(f"*Roles*\n{roles_text}"),
    ]


def _buttons(view: AlertView) -> list[dict[str, Any]]:
    value = str(view.brief_id)
    buttons = [button(ASK_ACTION, "Ask a follow-up", value)]
    if view.signal is not None:
        buttons.append(button(WHY_ACTION, "Why this alert", value))
    if view.mute_company.strip():
        buttons.append(button(MUTE_COMPANY_ACTION, f"Mute {view.mute_company}", value))
    buttons.append(button(USEFUL_ACTION, "👍 Useful", value))
    buttons.append(button(NOT_USEFUL_ACTION, "👎 Less like this", value))
    return buttons


def _fallback(first: str, second: str) -> str:
    """The top-level text (notifications, screen readers): 'first — second', escaped, within the limit."""
    parts = [" ".join(part.split()) for part in (first, second) if part.strip()]
    return plain(" — ".join(parts), limits.MESSAGE_TEXT) or "New brief"

