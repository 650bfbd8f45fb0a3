"""When a source is next due: the regular interval after success, exponential backoff after failures
(capped, never sooner than the server's Retry-After). Pure, so replays and tests can check it."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

# No wait is longer than this, whatever the settings or a server say: a year is "stopped" for a poller, and
# datetime arithmetic past year 9999 raises instead of answering.
LONGEST_WAIT = 366 * 24 * 3600.0


def next_poll_at(
    *, now: datetime, interval: int, failures: int, max_backoff: int,
    retry_after: float | None = None, source_id: int = 0, retry_base: int = 60,
) -> datetime:
    """`failures` counts this failure too (0 after a success). A Retry-After that is huge, infinite, negative
    or not a number never raises: it is held to [0, max_backoff]."""
    longest = min(float(max_backoff), LONGEST_WAIT)
    if failures <= 0:
        return _after(now, min(float(interval), LONGEST_WAIT))
    # 1, 2, 4, 8 … minutes by default; the exponent is held back so a long outage never computes 2 ** 100000.
    base = min(retry_base * 2 ** min(failures - 1, 64), longest)
    # A steady jitter per source (up to 10%) keeps sources that failed together from retrying together.
    jitter = int(hashlib.sha256(str(source_id).encode()).hexdigest()[:4], 16) / 0xFFFF * 0.1
    delay = min(base * (1 + jitter), longest)
    if retry_after is not None and not math.isnan(retry_after):
        delay = max(delay, min(max(retry_after, 0.0), longest))
    return _after(now, delay)


def _after(now: datetime, seconds: float) -> datetime:
    try:
        return now + timedelta(seconds=max(seconds, 0.0))
    except OverflowError:  # `now` itself within a year of datetime.max: the furthest representable time
        return datetime.max.replace(tzinfo=now.tzinfo)
