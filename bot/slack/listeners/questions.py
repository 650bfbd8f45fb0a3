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
from bot.slack.answering import Thread, answer_in_thread, optional_call
from bot.slack.blocks.alert import ASK_ACTION
from bot.slack.blocks.answer import BAD_ACTION, GOOD_ACTION, answer_message
from bot.slack.escape import escape, plain
from bot.slack.listeners.background import Background
from bot.slack.listeners.payload import action_value, channel_of, team_of
from bot.storage.conversations import alert_brief_id, latest_entities, record_feedback
from bot.storage.db import session_scope

log = logging.getLogger(__name__)
ASK_MODAL = "brief_ask_modal"
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
MAX_QUESTION = 1000


def question_text(raw: str) -> str:
    """The question without mentions of the bot (or anyone), whitespace collapsed, capped."""
    return " ".join(_MENTION.sub(" ", raw).split())[:MAX_QUESTION]


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
        if not question:
            return
        team, channel = team_of(body, context), str(event["channel"])
        thread_ts = str(event.get("thread_ts") or event["ts"])
        where = Thread(channel, thread_ts, team, str(event.get("user") or ""))
        if not event.get("thread_ts"):  # a new conversation: name it after its first question
            optional_call(client.assistant_threads_setTitle, channel_id=channel, thread_ts=thread_ts,
                          title=question[:80])
        answer(client, where, Conversation(team, channel, thread_ts, "dm", where.user_id), question)

    @app.event("app_mention")
    def mentioned(event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        team, channel = team_of(body, context), str(event["channel"])
        thread_ts = str(event.get("thread_ts") or event["ts"])
        where = Thread(channel, thread_ts, team, str(event.get("user") or ""))
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
        value, channel = action_value(body), channel_of(body)
        ts = str((body.get("message") or {}).get("thread_ts") or (body.get("message") or {}).get("ts") or
                 (body.get("container") or {}).get("message_ts") or "")
        metadata = json.dumps({"brief": int(value) if value.isdigit() else None, "channel": channel, "ts": ts})
        client.views_open(trigger_id=body["trigger_id"], view=ask_modal(metadata))

    @app.view(ASK_MODAL)
    def ask_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext,
                      client: WebClient) -> None:
        question = question_text(str(((view.get("state") or {}).get("values") or {}).get("question", {})
                                     .get("text", {}).get("value") or ""))
        if not question:
            ack(response_action="errors", errors={"question": "Type a question first."})
            return
        ack()
        meta = json.loads(view.get("private_metadata") or "{}")
        team, user = team_of(body, context), str((body.get("user") or {}).get("id") or "")
        channel, ts = str(meta.get("channel") or ""), str(meta.get("ts") or "")
        if not channel or not ts:
            return
        with session_scope(ctx.engine) as session:  # the alert must be this workspace's
            brief_id = alert_brief_id(session, team_id=team, channel_id=channel, ts=ts)
        where = Thread(channel, ts, team, user)
        client.chat_postMessage(channel=channel, thread_ts=ts, text=f"<@{user}> asked: {escape(question)}")
        answer(client, where, Conversation(team, channel, ts, "button", user, brief_id), question, status=False)

    def feedback(value: str) -> Any:
        def handler(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
            ack()
            raw = action_value(body)
            user = str((body.get("user") or {}).get("id") or "")
            with session_scope(ctx.engine) as session:
                known = raw.isdigit() and record_feedback(session, team_id=team_of(body, context), turn_id=int(raw),
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

