"""The OpenAI client, built once from settings, and the errors the LLM boundary raises.

Retries are the openai client's own, configured on purpose rather than re-implemented: it retries 408, 409,
429, 5xx, timeouts and connection errors with exponential backoff (0.5 s doubling to 8 s, with jitter) and
honours Retry-After / retry-after-ms up to two minutes. Its timeout is per network read, so the HTTP client
under it (`bot/llm/transport.py`) adds a whole-call deadline: one request, with its retries and, for a stream,
until its last byte, ends within `request_bound` = timeout × (max_retries + 1) + the backoff pauses + 1 s
(`bot/llm/deadline.py`). A brief (its one repair included) and an answer (its one retry when empty) get two
such bounds in all, an embeddings batch one. After that the caller falls back to the built-in writer or the
extractive answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from bot.settings import Settings

# `llm_configured` and the errors are wanted by every command; the OpenAI and HTTP libraries (a second to
# import) only where a client is built or bounded.
if TYPE_CHECKING:
    from openai import OpenAI

DEFAULT_TIMEOUT = 30.0  # seconds, per attempt; a brief is a few hundred tokens
DEFAULT_MAX_RETRIES = 2  # three attempts in all
PLACEHOLDER_API_KEY = "not-needed"  # local OpenAI-compatible servers want no key; the client insists on one


class LLMError(RuntimeError):
    """The LLM could not produce a usable answer: the caller uses the built-in writer."""


class LLMUnavailable(LLMError):  # noqa: N818 -- the name the callers and the issue use; reads as a state
    """No answer: timeouts, connection errors, 429/5xx after the retries, a rejected request."""


class LLMTooSlow(LLMUnavailable):
    """The call's deadline passed. `partial` holds what a stream had sent by then (cleaned by the caller)."""

    def __init__(self, message: str, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial


class LLMBadOutput(LLMError):  # noqa: N818 -- likewise
    """Answers came, but none could be used: not a completion at all, or invalid even after the one repair."""


def llm_configured(settings: Settings) -> bool:
    """An API key or a base URL (a local server needs no key) makes the LLM writer available."""
    key = settings.openai_api_key.get_secret_value().strip() if settings.openai_api_key else ""
    return bool(key or (settings.openai_base_url or "").strip())


def embeddings_configured(settings: Settings) -> bool:
    """BRIEFBOT_EMBEDDING_MODEL and an endpoint are both set (read without importing the OpenAI library)."""
    return bool((settings.briefbot_embedding_model or "").strip()) and llm_configured(settings)


def build_client(settings: Settings, *, timeout: float = DEFAULT_TIMEOUT,
                 max_retries: int = DEFAULT_MAX_RETRIES) -> OpenAI:
    """The one OpenAI client. Call from the composition root, only when `llm_configured(settings)`."""
    if not llm_configured(settings):
        raise LLMUnavailable("no LLM configured: set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server")
    from openai import OpenAI

    from bot.llm.transport import build_http_client

    key = settings.openai_api_key.get_secret_value().strip() if settings.openai_api_key else ""
    return OpenAI(
        api_key=key or PLACEHOLDER_API_KEY,
        base_url=(settings.openai_base_url or "").strip() or None,  # None: the official endpoint
        timeout=timeout,
        max_retries=max_retries,
        # An httpx client: openai 1.x is built on httpx and later versions accept one beside their own httpx2
        # (typed as httpx2 only, hence the cast).
        http_client=cast(Any, build_http_client(timeout=timeout, max_retries=max_retries)),
    )


def client_bound(client: OpenAI) -> float:
    """`request_bound` for this client's own timeout and retries."""
    from bot.llm.deadline import request_bound

    timeout = client.timeout
    seconds = timeout if isinstance(timeout, int | float) else DEFAULT_TIMEOUT
    if not isinstance(timeout, int | float) and timeout is not None:
        reads = [t for t in (getattr(timeout, "read", None), getattr(timeout, "connect", None)) if t]
        seconds = max(reads, default=DEFAULT_TIMEOUT)
    return request_bound(float(seconds), client.max_retries)
