"""An answer as a Slack message: the answer text with its [n] citations linked to the stored sources, a
note ("No LLM is configured…"), the numbered sources with outlet and date, and feedback buttons. When the
text was streamed already, only the rest (`answer_footer`) closes the stream. Pure."""

from __future__ import annotations

import re
from typing import Any

from bot.ask.model import Answer
from bot.core.types import Source, describe
from bot.slack.blocks.alert import button, mrkdwn_object
from bot.slack.blocks.limits import SECTION_TEXT
from bot.slack.escape import join_within, link, mrkdwn, safe_url
from bot.slack.model import Message

GOOD_ACTION = "answer_good"
BAD_ACTION = "answer_bad"
_ANSWER_TEXT = 2900
_SOURCES_TEXT = 2500
_NOTE_TEXT = 400
_CITE = re.compile(r"\[(\d{1,3})\]")


def answer_mrkdwn(answer: Answer, *, limit: int = _ANSWER_TEXT) -> str:
    """The answer text escaped for mrkdwn, each [n] a link to source n's URL when it has a safe one, as many as
    fit in a section's SECTION_TEXT characters (the first ones; the rest stay plain [n], linked under Sources):
    eight citations of long URLs would otherwise push the text past what Slack takes."""
    urls = {s.n: safe_url(s.url) for s in answer.sources}
    text = mrkdwn(answer.text, limit)
    room = max(SECTION_TEXT - len(text), 0)

    def linked(match: re.Match[str]) -> str:
        nonlocal room
        url = urls.get(int(match.group(1)))
        if not url:
            return match.group(0)
        cited = f"<{url}|[{match.group(1)}]>"
        if len(cited) - len(match.group(0)) > room:
            return match.group(0)
        room -= len(cited) - len(match.group(0))
        return cited

    return _CITE.sub(linked, text)


def source_line(source: Source) -> str:
    return f"[{source.n}] {link(source.url, source.title, label_limit=120)} · {mrkdwn(describe(source), 150)}"


def answer_message(answer: Answer) -> Message:
    """The whole answer, for chat.postMessage or a response_url."""
    text = answer_mrkdwn(answer)
    blocks: list[dict[str, Any]] = [{"type": "section", "block_id": "answer-text", "text": mrkdwn_object(text)}]
    blocks += answer_footer(answer)
    return Message(text=_fallback(answer), blocks=blocks)


def answer_footer(answer: Answer) -> list[dict[str, Any]]:
    """What follows the text: the note, the sources, the feedback buttons."""
    blocks: list[dict[str, Any]] = []
    note = mrkdwn(answer.note, _NOTE_TEXT)
    if note:
        blocks.append({"type": "context", "block_id": "answer-note", "elements": [mrkdwn_object(f"_{note}_")]})
    if answer.sources:
        lines = join_within([source_line(s) for s in answer.sources], _SOURCES_TEXT)
        blocks.append({"type": "section", "block_id": "answer-sources", "text": mrkdwn_object(f"*Sources*\n{lines}")})
    if answer.turn_id is not None:
        value = str(answer.turn_id)
        blocks.append({"type": "actions", "block_id": "answer-feedback", "elements": [
            button(GOOD_ACTION, "👍 Helpful", value), button(BAD_ACTION, "👎 Not helpful", value)]})
    return blocks


def _fallback(answer: Answer) -> str:
    text = " ".join(answer.text.split())
    return mrkdwn(text, 3000) or "briefbot's answer"
