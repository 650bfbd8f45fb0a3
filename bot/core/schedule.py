"""When a source is next due: the regular interval after success, exponential backoff after failures
(capped, never sooner than the server's Retry-After). Pure, so replays and tests can check it."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta


def next_due(
    *, now: datetime, interval: int, failures: int, max_backoff: int,
    retry_after: float | None = None, source_id: int = 0, retry_base: int = 60,
) -> datetime:
    """`failures` counts this failure too (0 after a success)."""
    if failures <= 0:
        return now + timedelta(seconds=interval)
    base = min(retry_base * 2 ** (failures - 1), max_backoff)  # 1, 2, 4, 8 … minutes by default
    # A steady jitter per source (up to 10%) keeps sources that failed together from retrying together.
    jitter = int(hashlib.sha256(str(source_id).encode()).hexdigest()[:4], 16) / 0xFFFF * 0.1
    delay = min(base * (1 + jitter), max_backoff)
    if retry_after is not None:
        delay = max(delay, min(retry_after, max_backoff))
    return now + timedelta(seconds=delay)
