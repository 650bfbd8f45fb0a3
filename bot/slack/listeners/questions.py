"""Questions from Slack: direct messages (the AI app surface: suggested prompts, a thinking status, a thread
title), mentions in channels and threads (in an alert's thread, the alert's brief is the context), the "Ask a
follow-up" button (a modal, answered in the alert's thread), `/brief ask`, and the answers' feedback buttons.
Answering runs on the background threads; every lookup is bound to the asking workspace."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.ask.service import Conversation
from bot.context import Context
from bot.core.inputs import clean_line, row_id, slack_id, slack_ts
from bot.slack.answering import Thread, answer_in_thread, optional_call
from bot.slack.blocks.alert import ASK_ACTION
from bot.slack.blocks.answer import BAD_ACTION, GOOD_ACTION, answer_message
from bot.slack.escape import escape, plain
from bot.slack.listeners.background import Background
from bot.slack.listeners.payload import action_value, channel_of, message_ts_of, team_of, user_of
from bot.storage.conversations import alert_brief_id, latest_entities, record_feedback
from bot.storage.db import session_scope

log = logging.getLogger(__name__)
ASK_MODAL = "brief_ask_modal"
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
MAX_QUESTION = 1000


def question_text(raw: str) -> str:
    """The question without mentions of the bot (or anyone), control and invisible characters, one line, capped
    (a question is stored whole with its answer: the cap is what Slack's own modal allows)."""
    return clean_line(_MENTION.sub(" ", raw))[:MAX_QUESTION]


def message_where(event: dict[str, Any], team: str) -> Thread | None:
    """The thread a message event asks in, when its channel, ts and team are well formed."""
    channel, user = slack_id(event.get("channel")), slack_id(event.get("user"))
    thread_ts = slack_ts(event.get("thread_ts") or event.get("ts"))
    if not (team and channel and thread_ts):
        log.warning("a %s event with a malformed team, channel or ts; ignored", event.get("type"))
        return None
    return Thread(channel, thread_ts, team, user)


def suggested_prompts(names: list[str]) -> list[dict[str, str]]:
    prompts = [{"title": "This week", "message": "What changed this week at the companies we follow?"},
               {"title": "New cities", "message": "Which companies started hiring in a new city this month?"}]
    for name in names[:2]:
        prompts.append({"title": plain(name, 30), "message": f"What else is new with {name}?"})
    return prompts[:4]


def register(app: App, ctx: Context, background: Background) -> None:
    def answer(client: WebClient, where: Thread, conversation: Conversation, question: str, *,
               status: bool = True) -> None:
        background.run("answering a question", lambda: answer_in_thread(
            ctx.asker(), client, where, conversation, question, status=status))

    @app.event("message")
    def direct_message(event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return  # channel chatter (mentions come as app_mention), edits, and the bot's own posts
        question = question_text(str(event.get("text") or ""))
        where = message_where(event, team_of(body, context))
        if not question or where is None:
            return
        team, channel, thread_ts = where.team_id, where.channel_id, where.thread_ts
        if not event.get("thread_ts"):  # a new conversation: name it after its first question
            optional_call(client.assistant_threads_setTitle, channel_id=channel, thread_ts=thread_ts,
                          title=question[:80])
        answer(client, where, Conversation(team, channel, thread_ts, "dm", where.user_id), question)

    @app.event("app_mention")
    def mentioned(event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        where = message_where(event, team_of(body, context))
        if where is None:
            return
        team, channel, thread_ts = where.team_id, where.channel_id, where.thread_ts
        question = question_text(str(event.get("text") or ""))
        if not question:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                    text="Ask me about the companies and sources this channel follows, e.g. "
                                         "_who is hiring warehouse staff in Seattle?_")
            return
        with session_scope(ctx.engine) as session:
            brief_id = alert_brief_id(session, team_id=team, channel_id=channel, ts=thread_ts)
        answer(client, where, Conversation(team, channel, thread_ts, "mention", where.user_id, brief_id), question)

    @app.action(ASK_ACTION)
    def ask_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        value, channel, ts = action_value(body), channel_of(body), message_ts_of(body)
        trigger = body.get("trigger_id")
        if not isinstance(trigger, str) or not trigger or len(trigger) > 200:
            log.warning("an Ask button press without a usable trigger_id; no modal opened")
            return
        metadata = json.dumps({"brief": row_id(value), "channel": channel, "ts": ts})
        client.views_open(trigger_id=trigger, view=ask_modal(metadata))

    @app.view(ASK_MODAL)
    def ask_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext,
                      client: WebClient) -> None:
        question = question_text(str(((view.get("state") or {}).get("values") or {}).get("question", {})
                                     .get("text", {}).get("value") or ""))
        if not question:
            ack(response_action="errors", errors={"question": "Type a question first."})
            return
        ack()
        meta = _metadata(view.get("private_metadata"))
        team, user = team_of(body, context), user_of(body)
        channel, ts = slack_id(meta.get("channel")), slack_ts(meta.get("ts"))
        if not (team and user and channel and ts):
            log.warning("an Ask modal submitted with a malformed team, user, channel or ts; not answered")
            return
        with session_scope(ctx.engine) as session:  # the alert must be this workspace's
            brief_id = alert_brief_id(session, team_id=team, channel_id=channel, ts=ts)
        where = Thread(channel, ts, team, user)
        client.chat_postMessage(channel=channel, thread_ts=ts, text=f"<@{user}> asked: {escape(question)}")
        answer(client, where, Conversation(team, channel, ts, "button", user, brief_id), question, status=False)

    def feedback(value: str) -> Any:
        def handler(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
            ack()
            turn_id, user, team = row_id(action_value(body)), user_of(body), team_of(body, context)
            if not (user and team and turn_id is not None):
                respond(text="That answer is no longer known to briefbot.", response_type="ephemeral",
                        replace_original=False)
                return
            with session_scope(ctx.engine) as session:
                known = record_feedback(session, team_id=team, turn_id=turn_id,
                                                          user_id=user, value=value, now=ctx.clock())
            respond(text="Thanks for the feedback." if known else "That answer is no longer known to briefbot.",
                    response_type="ephemeral", replace_original=False)
        return handler

    app.action(GOOD_ACTION)(feedback("good"))
    app.action(BAD_ACTION)(feedback("bad"))


def offer_prompts(ctx: Context, client: WebClient, *, team_id: str, channel_id: str) -> None:
    """The Messages tab opened (app_home_opened, tab "messages"): suggested questions for a new conversation."""
    with session_scope(ctx.engine) as session:
        names = latest_entities(session, team_id=team_id)
    optional_call(client.assistant_threads_setSuggestedPrompts, channel_id=channel_id,
                  prompts=suggested_prompts(names), title="Ask about what briefbot has seen")


def answer_command(ctx: Context, *, team_id: str, channel_id: str, user_id: str, question: str,
                   respond: Respond) -> None:
    """`/brief ask QUESTION`: answered privately through the command's response_url; the user's earlier
    `/brief ask` questions in this channel are the conversation."""
    conversation = Conversation(team_id, channel_id, f"command-{user_id}", "command", user_id)
    answer = ctx.asker().ask(conversation, question_text(question))
    message = answer_message(answer)
    respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=True)


def _metadata(raw: object) -> dict[str, Any]:
    """The Ask modal's private_metadata (written by `ask_button`), or {} if it is not what we wrote."""
    try:
        meta = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def ask_modal(metadata: str) -> dict[str, Any]:
    return {
        "type": "modal", "callback_id": ASK_MODAL, "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Ask a follow-up"},
        "submit": {"type": "plain_text", "text": "Ask"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [{"type": "input", "block_id": "question", "label": {"type": "plain_text", "text": "Your question"},
                    "element": {"type": "plain_text_input", "action_id": "text", "multiline": True,
                                "max_length": MAX_QUESTION, "placeholder": {
                                    "type": "plain_text", "text": "e.g. What else has this company posted lately?"}}},
                   {"type": "context", "elements": [{"type": "mrkdwn", "text": (
                       "The answer is posted in the alert's thread, citing the stored items it rests on.")}]}],
    }

