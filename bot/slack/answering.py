"""Answering a question in a Slack thread: a "thinking" status, the answer streamed into the thread as the
LLM writes it (chat.startStream / appendStream / stopStream through slack_sdk's ChatStream), closed with the
sources and feedback buttons; where streaming is refused, the answer is posted (or the started message
updated) in one piece instead. The turn records the reply's ts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.chat_stream import ChatStream

from bot.ask.model import Answer
from bot.ask.service import Asker, Conversation
from bot.slack.blocks.answer import answer_footer, answer_message
from bot.storage.conversations import set_reply_ts
from bot.storage.db import session_scope

log = logging.getLogger(__name__)
THINKING = "is looking through the stored history…"
STREAM_BUFFER = 120  # characters buffered before a stream call: a few calls per answer (appendStream is Tier 4)


@dataclass(frozen=True, slots=True)
class Thread:
    channel_id: str
    thread_ts: str
    team_id: str
    user_id: str  # who asked: streams outside a DM name their recipient


class _Stream:
    """The answer's stream into the thread, started on the first text; `broken` once Slack refuses it."""

    def __init__(self, client: WebClient, where: Thread):
        self.client, self.where = client, where
        self.stream: ChatStream | None = None
        self.broken = False

    def append(self, text: str) -> None:
        if self.broken or not text:
            return
        try:
            if self.stream is None:
                self.stream = self.client.chat_stream(
                    channel=self.where.channel_id, thread_ts=self.where.thread_ts, buffer_size=STREAM_BUFFER,
                    recipient_team_id=self.where.team_id, recipient_user_id=self.where.user_id)
            self.stream.append(markdown_text=text)
        except (SlackApiError, SlackClientError) as exc:
            self.broken = True
            log.info("streaming refused (%s); the answer will be posted whole", _error(exc))

    def close(self, answer: Answer) -> str | None:
        """Stop the stream with the footer (or, if the LLM failed after streaming began, the whole answer);
        the message ts, or None when there was no usable stream."""
        if self.stream is None or self.broken:
            return None
        blocks = answer_footer(answer) if answer.writer == "llm" else answer_message(answer).blocks
        try:
            self.stream.stop(blocks=blocks)
        except (SlackApiError, SlackClientError) as exc:
            self.broken = True
            log.info("closing the stream failed (%s); the answer will be posted whole", _error(exc))
            return None
        return self.stream.ts


def answer_in_thread(asker: Asker, client: WebClient, where: Thread, conversation: Conversation, question: str, *,
                     stream: bool = True, status: bool = True) -> Answer | None:
    """Answer `question` in the thread; None when Slack refused every way of posting it (logged)."""
    if status:
        optional_call(client.assistant_threads_setStatus, channel_id=where.channel_id,
                      thread_ts=where.thread_ts, status=THINKING)
    streamer = _Stream(client, where)
    answer = asker.ask(conversation, question, on_text=streamer.append if stream else None)
    ts = streamer.close(answer)
    if ts is None:
        message = answer_message(answer)
        started = streamer.stream.ts if streamer.stream is not None else None
        try:
            if started:
                response = client.chat_update(channel=where.channel_id, ts=started, text=message.text,
                                              blocks=message.blocks)
            else:
                response = client.chat_postMessage(channel=where.channel_id, thread_ts=where.thread_ts,
                                                   text=message.text, blocks=message.blocks, unfurl_links=False,
                                                   unfurl_media=False)
            ts = str(response.get("ts") or "")
        except SlackApiError as exc:
            log.warning("could not post the answer in %s: %s", where.channel_id, _error(exc))
            if status:  # posting clears the status; a failed post must clear it too
                optional_call(client.assistant_threads_setStatus, channel_id=where.channel_id,
                              thread_ts=where.thread_ts, status="")
            return None
    if ts and answer.turn_id is not None:
        with session_scope(asker.engine) as session:
            set_reply_ts(session, team_id=conversation.team_id, turn_id=answer.turn_id, message_ts=ts)
    return answer


def optional_call(method: Callable[..., Any], **kwargs: Any) -> None:
    """An optional nicety (a status, a title, suggested prompts): failures are logged, never raised."""
    try:
        method(**kwargs)
    except (SlackApiError, SlackClientError) as exc:
        log.debug("optional Slack call failed: %s", _error(exc))


def _error(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("error")) if response is not None else type(exc).__name__
