"""The buttons on alerts: "Why this alert", "Mute this company", 👍 "Useful" and 👎 "Less like this" ("Ask a
follow-up" is the questions module's). A button only ever acts on a brief of the workspace that pressed it.

"Less like this" records the feedback and offers what would make the channel hear less like it: mute the
alert's company, or hear a source the alert came from (one the channel follows) in the digest only, or only for
stories several outlets carry. The choice is the channel's (a mute, a follow's alert policy), shown in
`/brief list` and undone by `/brief unmute` or `/brief follow … every`.

"Why this alert" answers with an ephemeral message through the response_url rather than a modal: the evidence
is read-only, a response_url stays usable for 30 minutes while `views.open` needs the trigger_id within 3 s of
the press (the evidence is computed after the ack), and a capped list of twenty postings fits one message's
limits (50 blocks, 12,000 characters) with room to spare."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.core.inputs import clean_line, row_id
from bot.core.normalize import source_label
from bot.core.routing import DIGEST, STORIES
from bot.slack.blocks.alert import MUTE_COMPANY_ACTION, NOT_USEFUL_ACTION, WHY_ACTION, evidence_message
from bot.slack.blocks.feedback import (
    LESS_DIGEST_ACTION,
    LESS_STORIES_ACTION,
    USEFUL_ACTION,
    LessChoices,
    SourceChoice,
    less_like_this_message,
    parse_source_value,
)
from bot.slack.deps import Deps
from bot.slack.escape import escape
from bot.slack.listeners.payload import action_value, channel_of, team_of, user_of
from bot.slack.views import alert_view, evidence_view
from bot.storage.briefs import team_brief
from bot.storage.channels import set_company_mute
from bot.storage.db import session_scope
from bot.storage.deliveries import brief_facts
from bot.storage.feedback import record_brief_feedback
from bot.storage.models import Brief
from bot.storage.sources import follows_among, set_follow_alert


def register(app: App, deps: Deps) -> None:
    app.action(MUTE_COMPANY_ACTION)(partial(handle_mute_company, deps=deps))
    app.action(NOT_USEFUL_ACTION)(partial(handle_not_useful, deps=deps))
    app.action(USEFUL_ACTION)(partial(handle_useful, deps=deps))
    app.action(re.compile(rf"^{LESS_DIGEST_ACTION}(:\d+)?$"))(partial(handle_less_source, deps=deps, alert=DIGEST))
    app.action(re.compile(rf"^{LESS_STORIES_ACTION}(:\d+)?$"))(partial(handle_less_source, deps=deps, alert=STORIES))
    app.action(WHY_ACTION)(partial(handle_why, deps=deps))


def handle_why(ack: Ack, body: dict[str, Any], respond: Respond, *, deps: Deps) -> None:
    ack()
    deps.background.run("Why this alert", lambda: why(deps, body, respond))


def handle_mute_company(ack: Ack, body: dict[str, Any], respond: Respond, *, deps: Deps) -> None:
    ack()
    deps.background.run("Mute this company", lambda: mute_company(deps, body, respond))


def handle_not_useful(ack: Ack, body: dict[str, Any], respond: Respond, *, deps: Deps) -> None:
    ack()
    deps.background.run("Not useful", lambda: not_useful(deps, body, respond))


def handle_useful(ack: Ack, body: dict[str, Any], respond: Respond, *, deps: Deps) -> None:
    ack()
    deps.background.run("Useful", lambda: useful(deps, body, respond))


def handle_less_source(ack: Ack, body: dict[str, Any], respond: Respond, *, deps: Deps, alert: str) -> None:
    ack()
    deps.background.run("Less like this", lambda: less_from_source(deps, body, respond, alert))


def mute_company(deps: Deps, body: dict[str, Any], respond: Respond) -> None:
    brief = _brief(deps, body)
    channel_id = channel_of(body)
    if brief is None or not channel_id:
        _say(respond, "That alert is no longer known to briefbot.")
        return
    with session_scope(deps.engine) as session:
        # Cleaned as `/brief` text is, so the `/brief unmute` shown below finds this mute when copied.
        company = clean_line(alert_view(session=session, brief=brief).mute_company).strip()
        if company:
            set_company_mute(session=session, team_id=brief.team_id, channel_id=channel_id, company=company,
                             user_id=user_of(body), now=deps.clock(), muted=True)
    if not company:
        _say(respond, "This alert names no company to mute.")
        return
    _say(respond, f"Muted *{escape(company)}* in this channel. {_unmute_instruction(company)}")


def not_useful(deps: Deps, body: dict[str, Any], respond: Respond) -> None:
    """👎: recorded once per person, then the ways to hear less like it in this channel."""
    brief = _feedback(deps, body, respond, "not_useful")
    if brief is None:
        return
    channel_id = channel_of(body)
    with session_scope(deps.engine) as session:
        company = clean_line(alert_view(session=session, brief=brief).mute_company).strip()
        followed = follows_among(session=session, team_id=brief.team_id, channel_id=channel_id,
                                 source_ids=set(brief_facts(session=session, brief=brief).source_ids))
    choices = LessChoices(brief_id=brief.id or 0, company=company, sources=tuple(
        SourceChoice(source.id or 0, source_label(source.title, source.spec), policy) for source, policy in followed))
    message = less_like_this_message(choices)
    respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False)


def useful(deps: Deps, body: dict[str, Any], respond: Respond) -> None:
    if _feedback(deps, body, respond, "useful") is not None:
        _say(respond, "Thanks: noted that this alert was useful.")


def less_from_source(deps: Deps, body: dict[str, Any], respond: Respond, alert: str) -> None:
    """Hear one of the alert's sources in the digest only (DIGEST) or only for wider stories (STORIES)."""
    parsed = parse_source_value(action_value(body))
    team, channel_id = team_of(body), channel_of(body)
    if parsed is None or not team or not channel_id:
        _say(respond, "That choice is no longer known to briefbot.")
        return
    brief_id, source_id = parsed
    with session_scope(deps.engine) as session:
        brief = team_brief(session, team_id=team, brief_id=brief_id)
        source = set_follow_alert(session=session, team_id=team, channel_id=channel_id, source_id=source_id,
                                  alert=alert) if brief is not None else None
    if source is None:
        _say(respond, "This channel doesn't follow that source any more; `/brief list` shows what it follows.")
        return
    name = escape(source_label(source.title, source.spec))
    hears = "in the digest only" if alert == DIGEST else "only for stories several outlets carry"
    _say(respond, f"From now on this channel hears *{name}* {hears}. `/brief list` shows it; "
                  "following it again with `every` after the source undoes it.")


def _feedback(deps: Deps, body: dict[str, Any], respond: Respond, value: str) -> Brief | None:
    """The pressed alert's brief with the person's `value` recorded (a second press counts once), or None
    after saying why nothing was recorded."""
    brief = _brief(deps, body)
    if brief is None:
        _say(respond, "That alert is no longer known to briefbot.")
        return None
    user_id = user_of(body)
    if not user_id:
        _say(respond, "briefbot couldn't tell who pressed that button; nothing was recorded.")
        return None
    with session_scope(deps.engine) as session:
        record_brief_feedback(session=session, team_id=brief.team_id, channel_id=channel_of(body), user_id=user_id,
                              brief_id=brief.id or 0, value=value, now=deps.clock())
    return brief


def why(deps: Deps, body: dict[str, Any], respond: Respond) -> None:
    brief = _brief(deps, body)
    if brief is None:
        _say(respond, "That alert is no longer known to briefbot.")
        return
    with session_scope(deps.engine) as session:
        view = evidence_view(session=session, brief=brief, params=deps.settings.signal_params())
    if view is None:
        _say(respond, "This alert is not about a hiring signal that briefbot still has.")
        return
    message = evidence_message(view)
    respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False)


def _brief(deps: Deps, body: dict[str, Any]) -> Brief | None:
    brief_id, team = row_id(action_value(body)), team_of(body)
    if brief_id is None or not team:
        return None
    with session_scope(deps.engine) as session:
        return team_brief(session, team_id=team, brief_id=brief_id)


def _say(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def _unmute_instruction(company: str) -> str:
    """The command that undoes a mute, as text to copy: in a code span, where Slack styles nothing, so the
    company's `*`, `_` and `~` stay as written (escape() would turn them into look-alikes that the mute's key
    does not match). Only &, < and > are escaped, as Slack requires. A backtick would end the span, so a name
    with one is pointed to instead of shown."""
    if "`" in company:
        return "`/brief unmute` followed by the company's name undoes it; `/brief list` shows it."
    shown = company.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"`/brief unmute {shown}` undoes it."
