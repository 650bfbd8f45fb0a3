"""A first look: what a followed company has open now, posted once when its job board is first polled (or
followed by another channel later). Pure: a stored summary in, a message that always fits out. Everything that
came from the board (company, titles, places) is escaped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.open_roles import OpenRoles, RoleGroup, roles_from_dict, trend_text
from bot.slack.blocks import limits
from bot.slack.blocks.alert import mrkdwn_object, plural
from bot.slack.escape import escape, plain, truncate_mrkdwn
from bot.slack.model import Message

MAX_GROUPS = 8  # groups listed; the rest are counted
_COMPANY_TEXT = 100
_GROUP_TEXT = 400
_GROUPS_TEXT = 2800  # one section's text (3000) with room to spare
_SPEC_TEXT = 200
ALERTS_LINE = ("This is what the board lists now: history, not news. briefbot alerts this channel when something "
               "changes (hiring in a new metro or function, a burst of new postings, or many roles closing at once).")


@dataclass(frozen=True, slots=True)
class FirstLookView:
    spec: str  # the source as followed ("greenhouse:kestrel")
    roles: OpenRoles


def first_look_view(payload: Any) -> FirstLookView:
    """A first look's delivery payload read back; ValueError when it is not one."""
    if not isinstance(payload, dict):
        raise ValueError("a first look's payload is not an object")
    return FirstLookView(spec=str(payload.get("spec") or ""), roles=roles_from_dict(payload.get("roles")))


def first_look_message(view: FirstLookView) -> Message:
    roles = view.roles
    company = roles.company.strip() or view.spec or "this company"
    title = plain(f"What {company[:_COMPANY_TEXT]} has open now", limits.HEADER_TEXT)
    blocks: list[dict[str, Any]] = [{"type": "header", "block_id": "look-header", "text": {
        "type": "plain_text", "text": title, "emoji": True}}]
    if roles.total == 0:
        blocks.append({"type": "section", "block_id": "look-empty", "text": mrkdwn_object(
            "The board lists no open roles right now. briefbot alerts this channel when postings appear.")})
        fallback = f"{title}: no open roles listed right now"
    else:
        blocks.append({"type": "section", "block_id": "look-summary", "text": mrkdwn_object(summary_mrkdwn(roles))})
        blocks.append({"type": "section", "block_id": "look-groups", "text": mrkdwn_object(_groups(roles))})
        blocks.append({"type": "context", "block_id": "look-alerts", "elements": [mrkdwn_object(ALERTS_LINE)]})
        fallback = (f"{title}: {plural(roles.total, 'open role')} in {plural(len(roles.families), 'function')} "
                    f"and {plural(roles.metro_count, 'metro')}")
    if view.spec:
        source = truncate_mrkdwn(f"Source: {escape(' '.join(view.spec.split()))}", _SPEC_TEXT)
        blocks.append({"type": "context", "block_id": "look-source", "elements": [mrkdwn_object(source)]})
    return Message(text=truncate_mrkdwn(fallback, limits.MESSAGE_TEXT), blocks=blocks)


def summary_mrkdwn(roles: OpenRoles) -> str:
    """'*7 open roles* in 3 functions and 2 metros. Posted per week …': the totals and the trend."""
    text = (f"*{plural(roles.total, 'open role')}* in {plural(len(roles.families), 'function')} and "
            f"{plural(roles.metro_count, 'metro')}.\nPosted per week over the last {roles.weeks} weeks: "
            f"{trend_text(roles.weekly)}")
    if roles.undated:
        text += f"; {roles.undated} without a date {'is' if roles.undated == 1 else 'are'} not in the trend"
    return text + "."


def _groups(roles: OpenRoles) -> str:
    """The largest groups, whole lines only, within the section's budget; the rest counted on a last line."""
    lines = [group_mrkdwn(g) for g in roles.groups[:MAX_GROUPS]]
    budget = _GROUPS_TEXT - 50  # room for the "…and N smaller groups" line
    shown, used = 0, 0
    for line in lines:
        if used + len(line) + 1 > budget:
            break
        shown, used = shown + 1, used + len(line) + 1
    hidden = len(roles.groups) - shown + roles.hidden_groups
    more = [f"…and {plural(hidden, 'smaller group')}"] if hidden else []
    return "\n".join([*lines[:shown], *more])


def group_mrkdwn(group: RoleGroup) -> str:
    """One group as a bullet: family and metro, count, trend, then its commonest titles (escaped)."""
    titles = ", ".join(escape(t) + (f" ({n})" if n > 1 else "") for t, n in group.titles)
    head = f"• *{escape(group.label)} · {escape(group.place)}*: {group.count} open {trend_text(group.weekly)}"
    return truncate_mrkdwn(f"{head}\n   e.g. {titles}" if titles else head, _GROUP_TEXT)
