"""The buttons on alerts: "Mute this company" and "Not useful" ("Ask a follow-up" is the questions
module's). A button only ever acts on a brief of the workspace that pressed it."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from sqlalchemy.exc import IntegrityError

from bot.context import Context
from bot.core.inputs import clean_line, row_id
from bot.slack.escape import escape
from bot.slack.listeners.background import Background
from bot.slack.listeners.payload import action_value, channel_of, team_of, user_of
from bot.slack.views import alert_view
from bot.storage.briefs import team_brief
from bot.storage.channels import set_company_mute
from bot.storage.db import session_scope
from bot.storage.models import Brief, Feedback


def _brief(ctx: Context, body: dict[str, Any]) -> Brief | None:
    brief_id, team = row_id(action_value(body)), team_of(body)
    if brief_id is None or not team:
        return None
    with session_scope(ctx.engine) as session:
        return team_brief(session, team_id=team, brief_id=brief_id)


def _say(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def register(app: App, ctx: Context, background: Background) -> None:
    @app.action("brief_mute_company")
    def mute_company_button(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        background.run("Mute this company", lambda: mute_company(body, respond))

    def mute_company(body: dict[str, Any], respond: Respond) -> None:
        brief = _brief(ctx, body)
        channel_id = channel_of(body)
        if brief is None or not channel_id:
            _say(respond, "That alert is no longer known to briefbot.")
            return
        with session_scope(ctx.engine) as session:
            # Cleaned as `/brief` text is, so the `/brief unmute` shown below finds this mute when copied.
            company = clean_line(alert_view(session=session, brief=brief).mute_company).strip()
            if company:
                set_company_mute(session=session, team_id=brief.team_id, channel_id=channel_id, company=company,
                                 user_id=user_of(body), now=ctx.clock(), muted=True)
        if not company:
            _say(respond, "This alert names no company to mute.")
            return
        _say(respond, f"Muted *{escape(company)}* in this channel. {_unmute_instruction(company)}")

    @app.action("brief_not_useful")
    def not_useful_button(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        background.run("Not useful", lambda: not_useful(body, respond))

    def not_useful(body: dict[str, Any], respond: Respond) -> None:
        brief = _brief(ctx, body)
        if brief is None:
            _say(respond, "That alert is no longer known to briefbot.")
            return
        user_id = user_of(body)
        if not user_id:
            _say(respond, "briefbot couldn't tell who pressed that button; nothing was recorded.")
            return
        try:
            with session_scope(ctx.engine) as session:
                session.add(Feedback(team_id=brief.team_id, channel_id=channel_of(body), user_id=user_id,
                                     brief_id=brief.id or 0, value="not_useful", created_at=ctx.clock()))
        except IntegrityError:
            pass  # pressed twice: counted once
        _say(respond, "Thanks: noted that this alert wasn't useful.")


def _unmute_instruction(company: str) -> str:
    """The command that undoes a mute, as text to copy: in a code span, where Slack styles nothing, so the
    company's `*`, `_` and `~` stay as written (escape() would turn them into look-alikes that the mute's key
    does not match). Only &, < and > are escaped, as Slack requires. A backtick would end the span, so a name
    with one is pointed to instead of shown."""
    if "`" in company:
        return "`/brief unmute` followed by the company's name undoes it; `/brief list` shows it."
    shown = company.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"`/brief unmute {shown}` undoes it."
