"""The "and N more from X" message: what a followed source published past the channel's alert limit in one
pass, as one message of headlines and links instead of N alerts (the briefs also wait in the digest). Pure: a
stored payload in, a message that always fits out; everything from feeds is escaped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.slack.blocks import limits
from bot.slack.blocks.alert import mrkdwn_object
from bot.slack.escape import escape, join_within, link, truncate_mrkdwn
from bot.slack.model import Message

MAX_LISTED = 20
_SOURCE_TEXT = 150
_LIST_TEXT = 2800


@dataclass(frozen=True, slots=True)
class MoreView:
    source: str  # the source's title (or spec)
    headlines: tuple[tuple[str, str], ...]  # (headline, url), newest brief last
    count: int  # how many were held back (at least the headlines listed)


def more_view(payload: Any) -> MoreView:
    """A "more" delivery's payload read back; ValueError when it is not one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("briefs"), list):
        raise ValueError("a 'more' payload needs a list of briefs")
    headlines = tuple((str(b.get("headline") or ""), str(b.get("url") or "")) for b in payload["briefs"]
                      if isinstance(b, dict))
    count = payload.get("count")
    return MoreView(source=str(payload.get("source") or ""), headlines=headlines,
                    count=max(count if isinstance(count, int) else 0, len(headlines)))


def more_message(view: MoreView) -> Message:
    source = truncate_mrkdwn(escape(" ".join(view.source.split())) or "a followed source", _SOURCE_TEXT)
    stories = f"{view.count} more {'story' if view.count == 1 else 'stories'}"
    head = f"…and {stories} from *{source}*"
    lines = [f"• {link(url, headline or 'untitled')}" for headline, url in view.headlines[:MAX_LISTED]]
    listed = join_within(lines, _LIST_TEXT, more=lambda hidden: f"…and {hidden} more")
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": "more-head", "text": mrkdwn_object(head)},
        {"type": "section", "block_id": "more-list", "text": mrkdwn_object(listed or "(no headlines)")},
        {"type": "context", "block_id": "more-why", "elements": [mrkdwn_object(
            "Held back so one busy source doesn't flood the channel; they are also in this channel's digest "
            "(`/brief digest daily` turns one on).")]},
    ]
    fallback = f"…and {stories} from {source}"
    return Message(text=truncate_mrkdwn(fallback, limits.MESSAGE_TEXT), blocks=blocks)
