"""A channel's digest: the briefs since the last one, best first, in one message that always fits."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from bot.slack.blocks import limits
from bot.slack.blocks.alert import (
    counts_phrase,
    headline_link,
    mrkdwn_object,
    plain_object,
    plural,
    short_date,
    source_label,
    zone,
)
from bot.slack.escape import join_within, mrkdwn, plain, truncate_mrkdwn
from bot.slack.model import AlertView, DigestView, Message

MAX_BRIEFS = 10
# Per brief: ten briefs at these sizes stay well inside the ~12,000-character message budget.
_BRIEF_TEXT = 800
_HEADLINE_TEXT = 150
_CONTEXT_TEXT = 200


def digest_message(view: DigestView) -> Message:
    """The digest message; raises ValueError when there are no briefs (empty digests are never sent)."""
    if not view.briefs:
        raise ValueError("a digest needs at least one brief")
    tz = zone(view.timezone)
    title = _title(view, tz)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "block_id": "digest-header", "text": plain_object(plain(title, limits.HEADER_TEXT))}
    ]
    shown = view.briefs[:MAX_BRIEFS]
    for index, brief in enumerate(shown):
        prefix = f"digest-{index}-brief-{brief.brief_id}"
        blocks.append({"type": "section", "block_id": f"{prefix}-text", "text": mrkdwn_object(_brief_text(brief))})
        meta = [mrkdwn_object(_context(brief, tz))]
        blocks.append({"type": "context", "block_id": f"{prefix}-meta", "elements": meta})
    hidden = len(view.briefs) - len(shown)
    if hidden:
        more = f"…and {plural(hidden, 'more brief')}"
        blocks.append({"type": "context", "block_id": "digest-more", "elements": [mrkdwn_object(more)]})
    headlines = [plain(brief.headline, _HEADLINE_TEXT) for brief in shown]
    summary = join_within(headlines, limits.MESSAGE_TEXT - len(title) - 2, sep="; ", more=lambda n: f"+{n} more")
    return Message(text=f"{plain(title, limits.HEADER_TEXT)}: {summary}", blocks=blocks)


def _title(view: DigestView, tz: tzinfo) -> str:
    count = plural(len(view.briefs), "brief")
    if view.since is None:
        return f"Digest: {count}"
    since, until = short_date(view.since, tz), short_date(view.until, tz)
    return f"Digest: {count} today" if since == until else f"Digest: {count} since {since}"


def _brief_text(brief: AlertView) -> str:
    head = f"*{headline_link(brief, label_limit=_HEADLINE_TEXT)}*"
    summary = mrkdwn(brief.summary, _BRIEF_TEXT - len(head) - 1)
    return truncate_mrkdwn(f"{head}\n{summary}" if summary else head, _BRIEF_TEXT)


def _context(brief: AlertView, tz: tzinfo) -> str:
    parts = [source_label(brief.sources[0], tz)] if brief.sources else [short_date(brief.created_at, tz)]
    parts.append(counts_phrase(brief))
    return plain(" · ".join(parts), _CONTEXT_TEXT)

