"""Answering a question in a Slack thread: a "thinking" status, the answer streamed into the thread as the
LLM writes it (chat.startStream / appendStream / stopStream through slack_sdk's ChatStream), closed with the
sources and feedback buttons; where streaming is refused, posted and then edited as it grows; where that
fails too, posted whole at the end. The turn records the reply's ts."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.chat_stream import ChatStream

from bot.ask.model import Answer
from bot.ask.service import Asker, Conversation
from bot.core.inputs import strip_invisible
from bot.slack.blocks.answer import answer_footer, answer_message
from bot.slack.clients import error_code
from bot.slack.escape import escape
from bot.storage.conversations import set_reply_ts
from bot.storage.db import session_scope

log = logging.getLogger(__name__)
THINKING = "is looking through the stored history…"
STREAM_BUFFER = 120  # characters buffered before a stream call: a few calls per answer (appendStream is Tier 4)
UPDATE_INTERVAL = 1.0  # seconds between edits when the answer is shown by editing a message (chat.update: Tier 3)


@dataclass(frozen=True, slots=True)
class Thread:
    channel_id: str
    thread_ts: str
    team_id: str
    user_id: str  # who asked: streams outside a DM name their recipient


class _Live:
    """The answer shown as it is written: Slack's chat streaming first; where that is refused, one message
    posted with the first text and edited as more arrives (at most every UPDATE_INTERVAL seconds); where that
    fails too, nothing until the end (`answer_in_thread` posts the whole answer)."""

    def __init__(self, client: WebClient, where: Thread, clock: Callable[[], float] = time.monotonic):
        self.client, self.where, self.clock = client, where, clock
        self.mode = "stream"  # stream | update | off
        self.stream: ChatStream | None = None
        self.ts: str | None = None  # the message being streamed or edited
        self.text = ""
        self._updated_at = 0.0

    def append(self, text: str) -> None:
        text = strip_invisible(text)  # streamed markdown is not escaped: no direction or zero-width marks in it
        if not text or self.mode == "off":
            return
        self.text += text
        if self.mode == "stream":
            try:
                if self.stream is None:
                    self.stream = self.client.chat_stream(
                        channel=self.where.channel_id, thread_ts=self.where.thread_ts, buffer_size=STREAM_BUFFER,
                        recipient_team_id=self.where.team_id, recipient_user_id=self.where.user_id)
                self.stream.append(markdown_text=text)
                self.ts = self.stream.ts
                return
            except (SlackApiError, SlackClientError) as exc:
                log.info("streaming refused (%s); posting and editing the answer instead", error_code(exc))
                self.mode, self.ts = "update", self.stream.ts if self.stream is not None else None
        self._show()

    def _show(self) -> None:
        now = self.clock()
        if self.ts is not None and now - self._updated_at < UPDATE_INTERVAL:
            return
        try:
            if self.ts is None:
                response = self.client.chat_postMessage(channel=self.where.channel_id, thread_ts=self.where.thread_ts,
                                                        text=escape(self.text), unfurl_links=False,
                                                        unfurl_media=False)
                self.ts = str(response.get("ts") or "") or None
            else:
                self.client.chat_update(channel=self.where.channel_id, ts=self.ts, text=escape(self.text))
            self._updated_at = now
        except SlackApiError as exc:
            log.info("editing the answer as it is written failed (%s); it will come whole", error_code(exc))
            self.mode = "off"

    def close(self, answer: Answer) -> str | None:
        """The finished answer in place: the stream stopped with the footer (the whole answer if the LLM
        failed after text was shown), or the edited message completed; its ts, or None if neither worked."""
        if self.mode == "stream" and self.stream is not None:
            blocks = answer_footer(answer) if answer.writer == "llm" else answer_message(answer).blocks
            try:
                self.stream.stop(blocks=blocks)
                return self.stream.ts
            except (SlackApiError, SlackClientError) as exc:
                log.info("closing the stream failed (%s); completing the answer by an edit", error_code(exc))
                self.ts = self.stream.ts
        if self.ts is None:
            return None
        message = answer_message(answer)
        try:
            self.client.chat_update(channel=self.where.channel_id, ts=self.ts, text=message.text,
                                    blocks=message.blocks)
            return self.ts
        except SlackApiError as exc:
            log.warning("could not complete the answer in %s: %s", self.where.channel_id, error_code(exc))
            return None


def answer_in_thread(asker: Asker, client: WebClient, where: Thread, conversation: Conversation, question: str, *,
                     stream: bool = True, set_status: Callable[..., object] | None = None) -> Answer | None:
    """Answer `question` in the thread; None when Slack refused every way of posting it (logged). With
    `set_status` (Bolt's, for the thread of the event that asked), a thinking status shows until the answer."""
    if set_status is not None:
        optional_call(set_status, status=THINKING)
    live = _Live(client, where)
    answer = asker.ask(conversation, question, on_text=live.append if stream else None)
    ts = live.close(answer)
    if ts is None:
        message = answer_message(answer)
        try:
            response = client.chat_postMessage(channel=where.channel_id, thread_ts=where.thread_ts,
                                               text=message.text, blocks=message.blocks, unfurl_links=False,
                                               unfurl_media=False)
            ts = str(response.get("ts") or "")
        except SlackApiError as exc:
            log.warning("could not post the answer in %s: %s", where.channel_id, error_code(exc))
            if set_status is not None:  # posting clears the status; a failed post must clear it too
                optional_call(set_status, status="")
            return None
    if ts and answer.turn_id is not None:
        with session_scope(asker.engine) as session:
            set_reply_ts(session, team_id=conversation.team_id, turn_id=answer.turn_id, message_ts=ts)
    return answer


def optional_call(method: Callable[..., object], **kwargs: Any) -> None:
    """An optional nicety (a status, a title, suggested prompts): failures are logged, never raised."""
    try:
        method(**kwargs)
    except (SlackApiError, SlackClientError) as exc:
        log.debug("optional Slack call failed: %s", error_code(exc))
