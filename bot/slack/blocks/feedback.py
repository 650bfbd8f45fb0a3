"""What "Less like this" offers: for an alert a person found not useful, the ways to hear less like it in that
channel (mute its company, hear a source it came from in the digest only, or only its stories several outlets
carry). Pure: the choices in, an ephemeral message out; every name from feeds is escaped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.slack.blocks import limits
from bot.slack.blocks.alert import MUTE_COMPANY_ACTION, USEFUL_ACTION, button, mrkdwn_object
from bot.slack.escape import escape, truncate_mrkdwn
from bot.slack.model import Message

__all__ = [
    "LESS_DIGEST_ACTION",
    "LESS_STORIES_ACTION",
    "USEFUL_ACTION",
    "LessChoices",
    "SourceChoice",
    "less_like_this_message",
    "parse_source_value",
    "source_value",
]
LESS_DIGEST_ACTION = "less_source_digest"
LESS_STORIES_ACTION = "less_source_stories"
MAX_SOURCES = 3  # sources offered (an alert can stand on many)
_NAME = 40  # a name on a button


@dataclass(frozen=True, slots=True)
class SourceChoice:
    source_id: int
    label: str  # the source's title or spec
    policy: str  # its follow's policy in this channel now


@dataclass(frozen=True, slots=True)
class LessChoices:
    brief_id: int
    company: str  # "" when the alert names no company
    sources: tuple[SourceChoice, ...]  # the channel's follows the alert came from


def source_value(brief_id: int, source_id: int) -> str:
    return f"{brief_id}:{source_id}"


def parse_source_value(value: str) -> tuple[int, int] | None:
    """`brief:source` from a button's value, or None."""
    brief, _, source = value.partition(":")
    if not (brief.isdigit() and source.isdigit()) or len(value) > 40:
        return None
    return int(brief), int(source)


def less_like_this_message(choices: LessChoices) -> Message:
    buttons: list[dict[str, Any]] = []
    if choices.company.strip():
        name = choices.company.strip()[:_NAME]
        buttons.append(button(MUTE_COMPANY_ACTION, f"Mute {name} here", str(choices.brief_id)))
    for source in choices.sources[:MAX_SOURCES]:
        name = " ".join(source.label.split())[:_NAME]
        value = source_value(choices.brief_id, source.source_id)
        # An actions block's action_ids must differ: each source's buttons carry its id.
        if source.policy != "digest":
            buttons.append(button(f"{LESS_DIGEST_ACTION}:{source.source_id}", f"{name}: digest only", value))
        if source.policy == "every":
            buttons.append(button(f"{LESS_STORIES_ACTION}:{source.source_id}", f"{name}: only wider stories", value))
    text = "Thanks: noted that this alert wasn't useful."
    if not buttons:
        return Message(text=text, blocks=[{"type": "section", "block_id": "less-thanks", "text": mrkdwn_object(
            text + " Nothing in this channel makes it come more than once; `/brief list` shows what it follows.")}])
    offered = "; ".join(truncate_mrkdwn(escape(" ".join(s.label.split())), 80) for s in choices.sources[:MAX_SOURCES])
    explain = (text + " Want less like it here? Mute its company, or hear "
               + (f"{offered} " if offered else "its source ")
               + "in the digest only, or only for stories several outlets carry. `/brief list` shows the choice; "
               "`/brief unmute` and `/brief follow … every` undo it.")
    return Message(text=truncate_mrkdwn(text, limits.MESSAGE_TEXT), blocks=[
        {"type": "section", "block_id": "less-offer", "text": mrkdwn_object(truncate_mrkdwn(explain, 2900))},
        {"type": "actions", "block_id": "less-actions", "elements": buttons[:limits.ACTIONS_ELEMENTS]},
    ])
