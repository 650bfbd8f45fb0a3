"""The Home tab: what each channel follows and how it is doing, failed deliveries, and the latest briefs.

It degrades with size instead of failing: channels past the block limit and follows past a section's length
become "…and N more" lines.
"""

from __future__ import annotations

import re
from datetime import tzinfo
from typing import Any

from bot.core.llm_budget import LLMBudget, use_line
from bot.slack.blocks import limits
from bot.slack.blocks.alert import headline_link, mrkdwn_object, plain_object, short_date, zone
from bot.slack.escape import join_within, plain, truncate_mrkdwn
from bot.slack.model import ChannelView, FollowView, HomeView

STATUS_EMOJI = {"ok": "✅", "new": "🆕", "retrying": "⚠️", "failing": "❌", "paused": "⏸️"}
MAX_LATEST = 10
EMPTY_TEXT = "Nothing followed yet: try `/brief follow &lt;feed URL&gt;` in a channel"
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]+$")
# Many channels share a total so the tab stays readable; one channel alone may use a whole section.
_CHANNELS_TEXT = 30000
_MIN_CHANNEL_TEXT = 500
_NAME_TEXT = 120
_ERROR_TEXT = 200
_LIST_TEXT = 400


def home_view(view: HomeView) -> dict[str, Any]:
    """The Home tab view for a workspace: {"type": "home", "blocks": [...]}, always within Slack's limits."""
    tz = zone(view.timezone)
    settings = f"Timezone: {plain(view.timezone, 100)} · Writer: {plain(view.writer, 300)}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "block_id": "home-header", "text": plain_object("briefbot")},
        {"type": "context", "block_id": "home-settings", "elements": [mrkdwn_object(settings)]},
    ]
    if view.failed_deliveries > 0:
        blocks.append(_section("home-failed", _failed_text(view.failed_deliveries)))
    if view.llm_budget is not None:
        blocks.append(_section("home-llm", _llm_text(view.llm_budget)))
    if view.analysis_error:
        text = f"⚠️ *Analysis:* {plain(view.analysis_error, _ERROR_TEXT * 2)} (retried on every pass)"
        blocks.append(_section("home-analysis", text))
    latest = _latest_blocks(view, tz)
    if view.channels:
        blocks.append({"type": "header", "block_id": "home-channels", "text": plain_object("Channels")})
        blocks.extend(_channel_blocks(view.channels, tz, room=limits.VIEW_BLOCKS - len(blocks) - len(latest)))
    else:
        blocks.append(_section("home-empty", EMPTY_TEXT))
    return {"type": "home", "blocks": blocks + latest}


def _failed_text(count: int) -> str:
    noun = "delivery" if count == 1 else "deliveries"
    return (
        f"⚠️ *{count} failed {noun}*: some alerts or digests could not be posted. "
        "Check that briefbot is still a member of the channels below."
    )


def _llm_text(budget: LLMBudget) -> str:
    """The workspace's LLM use today against its budget; a warning sign once it is spent (or 0)."""
    return f"{'⚠️ ' if budget.spent else ''}*LLM today:* {plain(use_line(budget), _ERROR_TEXT * 2)}"


def _channel_blocks(channels: tuple[ChannelView, ...], tz: tzinfo, *, room: int) -> list[dict[str, Any]]:
    shown = channels if len(channels) <= room else channels[: max(room - 1, 0)]
    budget = max(_MIN_CHANNEL_TEXT, min(limits.SECTION_TEXT, _CHANNELS_TEXT // len(shown or channels)))
    blocks = [_section(f"home-channel-{i}", _channel_text(channel, tz, budget)) for i, channel in enumerate(shown)]
    hidden = len(channels) - len(shown)
    if hidden:
        more = f"…and {hidden} more {'channel' if hidden == 1 else 'channels'}"
        blocks.append({"type": "context", "block_id": "home-channels-more", "elements": [mrkdwn_object(more)]})
    return blocks


def _channel_text(channel: ChannelView, tz: tzinfo, budget: int) -> str:
    head = [f"*{_channel_mention(channel.channel_id)}*" + (" · 🔇 muted" if channel.muted else "")]
    if channel.paused_reason:
        head.append(f"⏸️ *Paused:* {plain(channel.paused_reason, 300)}")
    head.append(f"*Digest:* {plain(channel.digest, 100) or 'off'}")
    if channel.watches:
        head.append(f"*Watches:* {_list(channel.watches)}")
    if channel.muted_companies:
        head.append(f"*Muted companies:* {_list(channel.muted_companies)}")
    text = "\n".join(head)
    if channel.follows:
        lines = [_follow_line(follow, tz) for follow in channel.follows]
        room = budget - len(text) - len("\n*Follows*\n")
        text += "\n*Follows*\n" + join_within(lines, room, more=lambda n: f"…and {n} more")
    else:
        text += "\n_No follows in this channel yet._"
    return truncate_mrkdwn(text, budget)


def _follow_line(follow: FollowView, tz: tzinfo) -> str:
    line = f"{STATUS_EMOJI.get(follow.status, '❔')} {plain(follow.label, _NAME_TEXT) or 'untitled'}"
    line += f" _{plain(follow.kind, 40)}_"
    if follow.status != "ok" and follow.last_error:
        line += f" — last error: {plain(follow.last_error, _ERROR_TEXT)}"
    if follow.items_lost:
        line += f" — {plain(follow.items_lost, _ERROR_TEXT)}"
    if follow.status in ("retrying", "failing") and follow.last_success_at:
        line += f" (last success {short_date(follow.last_success_at, tz)})"
    return line


def _channel_mention(channel_id: str) -> str:
    """`<#C123>` for a real channel id; anything else is shown escaped, never as markup."""
    return f"<#{channel_id}>" if _CHANNEL_ID.match(channel_id) else plain(channel_id, 100)


def _list(names: tuple[str, ...]) -> str:
    return join_within([plain(name, _NAME_TEXT) for name in names], _LIST_TEXT, sep=", ", more=lambda n: f"+{n} more")


def _latest_blocks(view: HomeView, tz: tzinfo) -> list[dict[str, Any]]:
    header = {"type": "header", "block_id": "home-latest", "text": plain_object("Latest briefs")}
    if not view.latest:
        none = {"type": "context", "block_id": "home-latest-none", "elements": [mrkdwn_object("No briefs yet.")]}
        return [header, none]
    lines = [
        f"• {headline_link(brief)} · {short_date(brief.created_at, tz)}" for brief in view.latest
    ]
    text = join_within(lines, limits.SECTION_TEXT, max_items=MAX_LATEST, more=lambda n: f"…and {n} more")
    return [header, _section("home-latest-list", text)]


def _section(block_id: str, text: str) -> dict[str, Any]:
    return {"type": "section", "block_id": block_id, "text": mrkdwn_object(text)}

