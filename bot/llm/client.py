"""The OpenAI client, built once from settings, and the errors the LLM boundary raises.

Retries are the openai client's own, configured on purpose rather than re-implemented: it retries 408, 409,
429, 5xx, timeouts and connection errors with exponential backoff (0.5 s doubling to 8 s, with jitter) and
honours Retry-After / retry-after-ms up to two minutes; a longer Retry-After is not waited for. Every call
carries the client's timeout, so one brief costs at most (max_retries + 1) × timeout plus the backoff, after
which the caller falls back to the built-in writer.
"""

from __future__ import annotations

from openai import OpenAI

from bot.settings import Settings

DEFAULT_TIMEOUT = 30.0  # seconds, per attempt; a brief is a few hundred tokens
DEFAULT_MAX_RETRIES = 2  # three attempts in all
PLACEHOLDER_API_KEY = "not-needed"  # local OpenAI-compatible servers want no key; the client insists on one


class LLMError(RuntimeError):
    """The LLM could not produce a usable answer: the caller uses the built-in writer."""


class LLMUnavailable(LLMError):  # noqa: N818 -- the name the callers and the issue use; reads as a state
    """No answer: timeouts, connection errors, 429/5xx after the retries, a rejected request."""


class LLMBadOutput(LLMError):  # noqa: N818 -- likewise
    """Answers came, but none could be validated, even after the one repair request."""


def llm_configured(settings: Settings) -> bool:
    """An API key or a base URL (a local server needs no key) makes the LLM writer available."""
    key = settings.openai_api_key.get_secret_value().strip() if settings.openai_api_key else ""
    return bool(key or (settings.openai_base_url or "").strip())


def build_client(settings: Settings, *, timeout: float = DEFAULT_TIMEOUT,
                 max_retries: int = DEFAULT_MAX_RETRIES) -> OpenAI:
    """The one OpenAI client. Call from the composition root, only when `llm_configured(settings)`."""
    if not llm_configured(settings):
        raise LLMUnavailable("no LLM configured: set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server")
    key = settings.openai_api_key.get_secret_value().strip() if settings.openai_api_key else ""
    return OpenAI(
        api_key=key or PLACEHOLDER_API_KEY,
        base_url=(settings.openai_base_url or "").strip() or None,  # None: the official endpoint
        timeout=timeout,
        max_retries=max_retries,
    )
