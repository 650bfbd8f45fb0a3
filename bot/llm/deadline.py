"""A whole-call deadline for LLM requests, streaming included.

The openai client's timeout is per network read, so an endpoint that sends a byte every few seconds never
trips it. The writers open `within(seconds)` around each call; the network layer (`bot/llm/transport.py`)
gives every connect, read and write at most the time left, and raises `DeadlinePassed` once none is left.
Deadlines nest: the tighter one wins. They live in a context variable, so each thread (each brief, each
answer) has its own, and the sync client does its I/O in the calling thread.

The bound, chosen so that a healthy but slow endpoint is never cut short by it: what the client itself would
spend at worst, (max_retries + 1) × timeout plus its backoff between attempts, plus one second.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from openai import OpenAIError

INITIAL_BACKOFF = 0.5  # the openai client's backoff: 0.5 s doubling, at most 8 s a pause
MAX_BACKOFF = 8.0
SLACK = 1.0  # seconds for what is not network time: building the request, parsing the reply

_deadline: ContextVar[float | None] = ContextVar("llm_deadline", default=None)


class DeadlinePassed(OpenAIError):  # noqa: N818 -- a state, like the client's own APITimeoutError
    """The call's deadline passed. An OpenAIError so the client re-raises it at once instead of retrying."""


def request_bound(timeout: float, max_retries: int) -> float:
    """Seconds one request may take with its retries: every attempt timing out, and every backoff pause."""
    backoff = sum(min(INITIAL_BACKOFF * (1 << attempt), MAX_BACKOFF) for attempt in range(max_retries))
    return timeout * (max_retries + 1) + backoff + SLACK


@contextmanager
def within(seconds: float) -> Iterator[float]:
    """Everything the LLM client does inside ends by `seconds` from now (or by an enclosing deadline, if
    sooner). Yields the deadline as a `time.monotonic()` value."""
    outer = _deadline.get()
    deadline = time.monotonic() + seconds
    if outer is not None:
        deadline = min(deadline, outer)
    token = _deadline.set(deadline)
    try:
        yield deadline
    finally:
        _deadline.reset(token)


def time_left() -> float | None:
    """Seconds until the current deadline (0 or less once passed); None outside any deadline."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def passed() -> bool:
    left = time_left()
    return left is not None and left <= 0
