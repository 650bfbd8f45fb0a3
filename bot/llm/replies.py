"""Reading what an endpoint sent back, taking nothing on trust.

The openai client does not validate replies: a 200 carrying an HTML page, a JSON string, `choices: null`, a
null message or a usage of the wrong shape reaches us as whatever it parsed to. These functions turn a reply
into text and token counts, or raise LLMBadOutput saying what was wrong, never AttributeError or TypeError.
"""

from __future__ import annotations

import json
from typing import Any

from bot.llm.client import LLMBadOutput

SHOWN = 80  # characters of an unexpected reply quoted in the error


def completion_text(model: str, completion: Any) -> str:
    """The first choice's message content ("" when it has none), or LLMBadOutput if this is no completion."""
    if not _is_object(completion):
        raise LLMBadOutput(f"{model}: the reply is not a chat completion ({_describe(completion)})")
    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list):
        raise LLMBadOutput(f"{model}: the reply has no list of choices")
    if not choices:
        raise LLMBadOutput(f"{model}: the reply has no choices")
    message = getattr(choices[0], "message", None)
    if message is None:
        raise LLMBadOutput(f"{model}: the reply's first choice has no message")
    content = getattr(message, "content", None)
    if content is not None and not isinstance(content, str):
        raise LLMBadOutput(f"{model}: the reply's message content is {type(content).__name__}, not text")
    return content or ""


def usage_tokens(completion: Any) -> tuple[int, int]:
    """(prompt, completion) tokens the reply reports; 0 for what it leaves out or gives in another shape. Some
    local servers report no usage: their briefs are counted as free against the daily budget."""
    usage = getattr(completion, "usage", None)
    return _count(getattr(usage, "prompt_tokens", None)), _count(getattr(usage, "completion_tokens", None))


def chunk_texts(model: str, chunk: Any) -> list[str]:
    """The text deltas of one streamed chunk. A chunk without choices (`[]`, null: usage-only chunks look so)
    or with a null delta has none; a chunk that is not an object at all is LLMBadOutput."""
    if not _is_object(chunk):
        raise LLMBadOutput(f"{model}: a streamed chunk is not a chat completion chunk ({_describe(chunk)})")
    choices = getattr(chunk, "choices", None)
    texts: list[str] = []
    for choice in choices if isinstance(choices, list) else []:
        content = getattr(getattr(choice, "delta", None), "content", None)
        if isinstance(content, str) and content:
            texts.append(content)
    return texts


def unusable(model: str, exc: Exception) -> LLMBadOutput:
    """The error for a reply the client could not even parse (it lets JSONDecodeError and the like through)."""
    if isinstance(exc, json.JSONDecodeError):
        return LLMBadOutput(f"{model}: the reply is not JSON: {exc}")
    return LLMBadOutput(f"{model}: unusable reply: {type(exc).__name__}: {exc}")


def _is_object(value: Any) -> bool:
    return not isinstance(value, str | bytes | int | float | list | dict) and value is not None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _describe(value: Any) -> str:
    if isinstance(value, str | bytes):
        text = " ".join((value.decode("utf-8", "replace") if isinstance(value, bytes) else value).split())
        return f"text: {text[:SHOWN]!r}" if text else "an empty body"
    return type(value).__name__
