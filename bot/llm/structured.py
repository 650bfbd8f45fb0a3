"""Structured output, negotiated per endpoint and model, and remembered for the life of the process.

Servers differ in what they accept. OpenAI takes `json_schema`; llama-cpp-python's server answers 500
"response_format.type: Input should be 'text' or 'json_object'" to it, but takes `json_object` with a
`schema` beside it and enforces that schema with a grammar; others know neither. So the brief writer asks
in the best mode first and steps down only when the server refuses the mode itself (an error that names
`response_format`): JSON_SCHEMA, then JSON_OBJECT (with the schema), then INSTRUCTIONS (no response_format:
the prompt's own instructions, and the reply validated as always). What worked is kept in memory for each
OpenAI client (a process builds one per endpoint) and model, so a process pays for a refusal once; a restart
negotiates again, which costs one refused request (with the client's retries, for a 500) per mode given up.
Keyed by the client object rather than its URL, so two servers that happen to reuse a port in turn (tests)
never inherit each other's answer.
"""

from __future__ import annotations

import json
import threading
import weakref
from enum import IntEnum
from typing import Any

from openai import APIStatusError


class Mode(IntEnum):
    JSON_SCHEMA = 0
    JSON_OBJECT = 1
    INSTRUCTIONS = 2


_learned: weakref.WeakKeyDictionary[object, dict[str, Mode]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def current_mode(client: object, model: str) -> Mode:
    with _lock:
        return _learned.get(client, {}).get(model, Mode.JSON_SCHEMA)


def step_down(client: object, model: str, refused: Mode) -> Mode | None:
    """After `refused` was refused: the mode to try next (another thread may have stepped down already), or
    None when even instructions alone were refused."""
    with _lock:
        known = _learned.setdefault(client, {})
        if known.get(model, Mode.JSON_SCHEMA) > refused:
            return known[model]
        if refused == Mode.INSTRUCTIONS:
            return None
        known[model] = Mode(refused + 1)
        return known[model]


def request_options(mode: Mode, schema: dict[str, Any], grammar_schema: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for `chat.completions.create` in this mode. JSON_OBJECT's `schema` is not in the
    openai client's types, so it goes in the request body through `extra_body`."""
    if mode == Mode.JSON_SCHEMA:
        return {"response_format": {"type": "json_schema",
                                    "json_schema": {"name": "brief", "strict": True, "schema": schema}}}
    if mode == Mode.JSON_OBJECT:
        return {"extra_body": {"response_format": {"type": "json_object", "schema": grammar_schema}}}
    return {}


def refuses_mode(exc: APIStatusError) -> bool:
    """Whether an error says the server does not accept the response_format we sent (any status: OpenAI and
    vLLM answer 400, some servers 422, llama-cpp-python 500), not that something else went wrong."""
    if exc.status_code < 400:
        return False
    text = f"{exc.message} {getattr(exc, 'param', None) or ''} {json.dumps(exc.body, default=str)}".lower()
    return any(word in text for word in ("response_format", "json_schema", "json_object"))
