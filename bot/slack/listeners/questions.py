"""Questions from Slack: direct messages (the AI app surface: a thinking status, a thread title), mentions in
channels and threads (in an alert's thread, the alert's brief is the context), the "Ask a follow-up" button (a
modal, answered in the alert's thread), `/brief ask`, and the answers' feedback buttons. Answering runs on the
background threads; every lookup is bound to the asking workspace.

Bolt's `Assistant` takes the messages of assistant threads (a DM with a thread_ts); a DM that starts a
conversation has none, so it comes to the plain `message` listener, which names the new thread itself
(`set_title` is Bolt's only inside an assistant thread). The thinking status is Bolt's `set_status`, which Bolt
gives every message and mention listener. briefbot does not subscribe to `assistant_thread_started`: the
Messages tab's suggested questions are set when the tab is opened (`offer_prompts`)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App, Assistant, BoltContext, Respond
from slack_sdk import WebClient

from bot.ask.service import Conversation
from bot.core.inputs import clean_line, row_id, slack_id, slack_ts
from bot.slack.answering import Thread, answer_in_thread, optional_call
from bot.slack.blocks.alert import ASK_ACTION
from bot.slack.blocks.answer import BAD_ACTION, GOOD_ACTION, answer_message
from bot.slack.blocks.ask import ASK_MODAL, MAX_QUESTION, PROMPTS_TITLE, ask_modal, suggested_prompts
from bot.slack.deps import Deps
from bot.slack.escape import escape
from bot.slack.listeners.payload import action_value, channel_of, message_ts_of, team_of, user_of
from bot.storage.conversations import alert_brief_id, latest_entities, record_feedback
from bot.storage.db import session_scope

log = logging.getLogger(__name__)
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
StatusSetter = Callable[..., object]  # Bolt's `set_status` for the event's thread
NO_QUESTION = ("Ask me about the companies and sources this channel follows, e.g. "
               "_who is hiring warehouse staff in Seattle?_")
UNKNOWN_ANSWER = "That answer is no longer known to briefbot."


def register(app: App, deps: Deps) -> None:
    assistant = Assistant()
    assistant.user_message(partial(handle_direct_message, deps=deps))  # DMs in an assistant thread
    app.assistant(assistant)
    app.event("message")(partial(handle_direct_message, deps=deps))  # DMs that start a conversation
    app.event("app_mention")(partial(handle_mention, deps=deps))
    app.action(ASK_ACTION)(partial(handle_ask_button, deps=deps))
    app.view(ASK_MODAL)(partial(handle_ask_submitted, deps=deps))
    app.action(GOOD_ACTION)(partial(handle_answer_feedback, deps=deps, value="good"))
    app.action(BAD_ACTION)(partial(handle_answer_feedback, deps=deps, value="bad"))


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


def handle_direct_message(event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient,
                          set_status: StatusSetter | None, *, deps: Deps) -> None:
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
    _answer(deps, client, where, Conversation(team, channel, thread_ts, "dm", where.user_id), question,
            set_status=set_status)


def handle_mention(event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient,
                   set_status: StatusSetter | None, *, deps: Deps) -> None:
    where = message_where(event, team_of(body, context))
    if where is None:
        return
    team, channel, thread_ts = where.team_id, where.channel_id, where.thread_ts
    question = question_text(str(event.get("text") or ""))
    if not question:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=NO_QUESTION)
        return
    with session_scope(deps.engine) as session:
        brief_id = alert_brief_id(session, team_id=team, channel_id=channel, ts=thread_ts)
    _answer(deps, client, where, Conversation(team, channel, thread_ts, "mention", where.user_id, brief_id), question,
            set_status=set_status)


def handle_ask_button(ack: Ack, body: dict[str, Any], client: WebClient, *, deps: Deps) -> None:
    ack()
    value, channel, ts = action_value(body), channel_of(body), message_ts_of(body)
    trigger = body.get("trigger_id")
    if not isinstance(trigger, str) or not trigger or len(trigger) > 200:
        log.warning("an Ask button press without a usable trigger_id; no modal opened")
        return
    metadata = json.dumps({"brief": row_id(value), "channel": channel, "ts": ts})
    client.views_open(trigger_id=trigger, view=ask_modal(metadata))


def handle_ask_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext,
                         client: WebClient, *, deps: Deps) -> None:
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
    with session_scope(deps.engine) as session:  # the alert must be this workspace's
        brief_id = alert_brief_id(session, team_id=team, channel_id=channel, ts=ts)
    where = Thread(channel, ts, team, user)
    client.chat_postMessage(channel=channel, thread_ts=ts, text=f"<@{user}> asked: {escape(question)}")
    _answer(deps, client, where, Conversation(team, channel, ts, "button", user, brief_id), question)


def handle_answer_feedback(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond, *, deps: Deps,
                           value: str) -> None:
    ack()
    turn_id, user, team = row_id(action_value(body)), user_of(body), team_of(body, context)
    if not (user and team and turn_id is not None):
        respond(text=UNKNOWN_ANSWER, response_type="ephemeral", replace_original=False)
        return
    with session_scope(deps.engine) as session:
        known = record_feedback(session, team_id=team, turn_id=turn_id, user_id=user, value=value, now=deps.clock())
    respond(text="Thanks for the feedback." if known else UNKNOWN_ANSWER, response_type="ephemeral",
            replace_original=False)


def offer_prompts(deps: Deps, set_suggested_prompts: Callable[..., object], *, team_id: str) -> None:
    """The Messages tab opened (app_home_opened, tab "messages"): suggested questions for a new conversation."""
    with session_scope(deps.engine) as session:
        names = latest_entities(session, team_id=team_id)
    optional_call(set_suggested_prompts, prompts=suggested_prompts(names), title=PROMPTS_TITLE)


def answer_command(deps: Deps, *, team_id: str, channel_id: str, user_id: str, question: str,
                   respond: Respond) -> None:
    """`/brief ask QUESTION`: answered privately through the command's response_url; the user's earlier
    `/brief ask` questions in this channel are the conversation."""
    conversation = Conversation(team_id, channel_id, f"command-{user_id}", "command", user_id)
    answer = deps.asker().ask(conversation, question_text(question))
    message = answer_message(answer)
    respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=True)


def _answer(deps: Deps, client: WebClient, where: Thread, conversation: Conversation, question: str, *,
            set_status: StatusSetter | None = None) -> None:
    deps.background.run("answering a question", lambda: answer_in_thread(
        deps.asker(), client, where, conversation, question, set_status=set_status))


def _metadata(raw: object) -> dict[str, Any]:
    """The Ask modal's private_metadata (written by `handle_ask_button`), or {} if it is not what we wrote."""
    try:
        meta = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}
