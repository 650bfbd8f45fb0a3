"""The HTTP client under the OpenAI client, enforcing the deadline of `bot/llm/deadline.py`.

Two places can hold a call past any per-read timeout, and both are closed here:
- the network: every connect, read and write gets at most the time left (`_DeadlineStream`), so a drip of one
  byte every few seconds, in the headers or in the body of a stream, ends at the deadline;
- the client's wait before a retry: a retryable answer whose Retry-After runs past the deadline ends the call
  now (`DeadlineTransport`), instead of the client sleeping up to two minutes first.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from httpx._utils import get_environment_proxies  # what httpx itself reads when trust_env is on

from bot.llm.deadline import DeadlinePassed, time_left

RETRYABLE = {408, 409, 429}  # and every 5xx: what the openai client retries
MAX_CONNECTIONS = 20


def _clamped(timeout: float | None) -> float | None:
    """The operation's timeout, cut to the time the deadline leaves; DeadlinePassed when none is left."""
    left = time_left()
    if left is None:
        return timeout
    if left <= 0:
        raise DeadlinePassed("no complete reply within the call's deadline")
    return left if timeout is None else min(timeout, left)


def _deadline_cut(timeout: float | None, clamped: float | None) -> bool:
    """Whether a timeout of this operation was the deadline's doing rather than the per-read timeout's."""
    return clamped is not None and (timeout is None or clamped < timeout)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        clamped = _clamped(timeout)
        try:
            return self._inner.read(max_bytes, timeout=clamped)
        except httpcore.TimeoutException as exc:
            if _deadline_cut(timeout, clamped):  # not retried: no time is left for another attempt
                raise DeadlinePassed("no complete reply within the call's deadline") from exc
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        clamped = _clamped(timeout)
        try:
            self._inner.write(buffer, timeout=clamped)
        except httpcore.TimeoutException as exc:
            if _deadline_cut(timeout, clamped):
                raise DeadlinePassed("the request could not be sent within the call's deadline") from exc
            raise

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout=_clamped(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's own sync backend, each stream wrapped so its operations respect the deadline."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        clamped = _clamped(timeout)
        try:
            stream = self._inner.connect_tcp(host, port, timeout=clamped, local_address=local_address,
                                             socket_options=socket_options)
        except httpcore.TimeoutException as exc:
            if _deadline_cut(timeout, clamped):
                raise DeadlinePassed("could not connect within the call's deadline") from exc
            raise
        return _DeadlineStream(stream)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, timeout=_clamped(timeout),
                                                               socket_options=socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class DeadlineTransport(httpx.BaseTransport):
    """Ends a call whose next retry could only start after its deadline: the client would sleep first."""

    def __init__(self, inner: httpx.BaseTransport, max_retries: int) -> None:
        self._inner, self._max_retries = inner, max_retries

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        left = time_left()
        if left is None or not (response.status_code in RETRYABLE or response.status_code >= 500):
            return response
        try:
            taken = int(request.headers.get("x-stainless-retry-count", "0"))
        except ValueError:
            taken = 0
        wait = retry_after(response.headers)
        if taken < self._max_retries and wait is not None and wait > left:
            response.close()
            raise DeadlinePassed(f"HTTP {response.status_code}, and the server asked to retry after {wait:g} s, "
                                 f"later than the call's deadline ({max(left, 0):.0f} s left)")
        return response

    def close(self) -> None:
        self._inner.close()


def retry_after(headers: httpx.Headers) -> float | None:
    """The wait a server asks for, in seconds, as the openai client reads it (retry-after-ms first)."""
    for name, divisor in (("retry-after-ms", 1000), ("retry-after", 1)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        return seconds if math.isfinite(seconds) else None
    try:
        parsed = email.utils.parsedate_tz(headers.get("retry-after") or "")
        return None if parsed is None else float(email.utils.mktime_tz(parsed) - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


def build_http_client(*, timeout: float, max_retries: int) -> httpx.Client:
    """The HTTP client for one OpenAI client, honouring HTTP(S)_PROXY / ALL_PROXY / NO_PROXY as the openai
    client's own would (httpx reads them only when it builds the transports itself). httpx has no setting for
    the network backend: each transport's pool gets the deadline one."""

    def transport(proxy: str | None) -> httpx.BaseTransport:
        inner = httpx.HTTPTransport(proxy=proxy, limits=httpx.Limits(
            max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS, keepalive_expiry=5.0))
        inner._pool._network_backend = DeadlineBackend()  # the proxy's tunnels are opened through it too
        return DeadlineTransport(inner, max_retries)

    mounts = {pattern: transport(proxy) for pattern, proxy in get_environment_proxies().items()}
    return httpx.Client(transport=transport(None), mounts=mounts, timeout=timeout, follow_redirects=True)
