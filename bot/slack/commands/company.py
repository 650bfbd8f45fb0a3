"""`/brief company NAME`: one company's page as the reply's mrkdwn: its names, open hiring signals, open roles by
function and metro with their trend, recent stories and aliases. Everything from boards, feeds and people is
escaped; the reply stays within a message whatever the company has."""

from __future__ import annotations

from bot.core.jobs import family_labels
from bot.slack.blocks.alert import plural, short_date
from bot.slack.blocks.first_look import group_mrkdwn, summary_mrkdwn
from bot.slack.commands.handlers import Request
from bot.slack.commands.parse import USAGE, one_name
from bot.slack.deps import Deps
from bot.slack.escape import escape, join_within, link, truncate_mrkdwn
from bot.storage.companies import AliasError
from bot.storage.company_page import CompanyPage, look_up_company
from bot.storage.db import session_scope

MAX_GROUPS = 6
MAX_SIGNALS = 5
MAX_STORIES = 5
_NAME_TEXT = 100
_SECTION_TEXT = 700  # per section (open roles twice that): the reply stays within ~3,600 characters


def company(deps: Deps, req: Request) -> str:
    name = one_name(req.arg)
    if not name:
        return "Usage: " + USAGE["company"]
    try:
        with session_scope(deps.engine) as session:
            found = look_up_company(session=session, team_id=req.team_id, name=name, now=deps.clock())
    except AliasError as exc:
        return f"Couldn't look up *{escape(name[:_NAME_TEXT])}*: {escape(str(exc))}."
    if not found.page.known:
        return unknown_reply(found.page.asked, found.close)
    if found.instead_of is not None:
        return (f"_No company called *{escape(found.instead_of[:_NAME_TEXT])}*; "
                f"*{escape(found.page.name[:_NAME_TEXT])}* is the one name here that holds it._\n\n"
                + page_reply(found.page))
    return page_reply(found.page)


def unknown_reply(asked: str, close: list[str]) -> str:
    reply = (f"This workspace has no company called *{escape(asked[:_NAME_TEXT])}*: no job postings, hiring "
             "signals or recent stories under that name or its aliases.")
    if close:
        reply += " Close names it knows: " + ", ".join(f"*{escape(n[:_NAME_TEXT])}*" for n in close) + "."
    return reply + " `/brief alias` lists the aliases; `/brief list` this channel's follows."


def page_reply(page: CompanyPage) -> str:
    others = [n for n in page.names if n != page.name]
    head = f"*{escape(page.name[:_NAME_TEXT])}*"
    if others:
        head += truncate_mrkdwn(" (also " + ", ".join(escape(n[:_NAME_TEXT]) for n in others) + ")", 400)
    return "\n\n".join([head, _signals(page), _roles(page), _stories(page), _aliases(page)]).strip()


def _signals(page: CompanyPage) -> str:
    if not page.signals:
        return "*Open hiring signals:* none"
    labels = family_labels()
    lines = [f"• {escape(labels.get(s.family, s.family))} in {escape(s.metro[:_NAME_TEXT])}: "
             f"{plural(s.item_count, 'role')} ({escape(s.reason.replace('_', ' '))}), since {short_date(s.first_at)}"
             for s in page.signals]
    return f"*Open hiring signals ({len(page.signals)}):*\n" + join_within(lines, _SECTION_TEXT,
                                                                           max_items=MAX_SIGNALS)


def _roles(page: CompanyPage) -> str:
    if page.roles.total == 0:
        return "*Open roles:* none listed"
    lines = [group_mrkdwn(g) for g in page.roles.groups]
    return (f"*Open roles:* {summary_mrkdwn(page.roles)}\n"
            + join_within(lines, _SECTION_TEXT * 2, max_items=MAX_GROUPS, more=_more_groups))


def _more_groups(hidden: int) -> str:
    return f"…and {plural(hidden, 'smaller group')} (`briefbot company` shows them all)"


def _stories(page: CompanyPage) -> str:
    since = short_date(page.news_since)
    if not page.stories:
        return f"*News since {since}:* no stories"
    lines = []
    for story in page.stories:
        outlets = ", ".join(escape(o[:60]) for o in story.outlets[:3]) + ("…" if len(story.outlets) > 3 else "")
        lines.append(f"• {link(story.url, story.headline, label_limit=150)} · {outlets} · {short_date(story.last_at)}")
    return f"*News since {since}:*\n" + join_within(lines, _SECTION_TEXT, max_items=MAX_STORIES)


def _aliases(page: CompanyPage) -> str:
    if not page.aliases:
        return ""
    names = [f"{escape(a.alias[:_NAME_TEXT])} → {escape(a.canonical[:_NAME_TEXT])}"
             + (" (built in)" if a.team_id is None else "") for a in page.aliases]
    return "*Aliases:* " + join_within(names, _SECTION_TEXT // 2, sep=", ", max_items=20,
                                       more=lambda hidden: f"+{hidden} more")
