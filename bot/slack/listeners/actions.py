"""The buttons on alerts: "Why this alert", "Mute this company" and "Not useful" ("Ask a follow-up" is the
questions module's). A button only ever acts on a brief of the workspace that pressed it.

"Why this alert" answers with an ephemeral message through the response_url rather than a modal: the evidence
is read-only, a response_url stays usable for 30 minutes while `views.open` needs the trigger_id within 3 s of
the press (the evidence is computed after the ack), and a capped list of twenty postings fits one message's
limits (50 blocks, 12,000 characters) with room to spare."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.core.inputs import clean_line, row_id
from bot.slack.blocks.alert import MUTE_COMPANY_ACTION, NOT_USEFUL_ACTION, WHY_ACTION, evidence_message
from bot.slack.deps import Deps
from bot.slack.escape import escape
from bot.slack.listeners.payload import action_value, channel_of, team_of, user_of
from bot.slack.views import alert_view, evidence_view
from bot.storage.briefs import team_brief
from bot.storage.channels import set_company_mute
from bot.storage.db import session_scope
from bot.storage.feedback import record_brief_feedback
from bot.storage.models import Brief


def register(app: App, deps: Deps) -> None:
    app.action(MUTE_COMPANY_ACTION)(partial(handle_mute_company, deps=deps))
    app.action(NOT_USEFUL_ACTION)(partial(handle_not_useful, deps=deps))
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
    brief = _brief(deps, body)
    if brief is None:
        _say(respond, "That alert is no longer known to briefbot.")
        return
    user_id = user_of(body)
    if not user_id:
        _say(respond, "briefbot couldn't tell who pressed that button; nothing was recorded.")
        return
    with session_scope(deps.engine) as session:  # pressed twice: counted once
        record_brief_feedback(session=session, team_id=brief.team_id, channel_id=channel_of(body), user_id=user_id,
                              brief_id=brief.id or 0, value="not_useful", now=deps.clock())
    _say(respond, "Thanks: noted that this alert wasn't useful.")


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
