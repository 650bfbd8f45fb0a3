"""Slow work after an ack (a /brief answer, a button's reply) runs on its own threads, so Bolt's listener
threads only ever acknowledge: a burst of slow commands can't hold up the next command's ack.

That work also gives way to acks. Slack shows an error when a request is not acked within 3 s, while the
answer that follows (at a response_url) has 30 minutes, so in a web process the work waits until no request
has been in the middle of being acknowledged for `QUIET` seconds (`AckGate`, which `bot.slack.web` marks), at
most `MAX_DELAY`; and its threads run at a lower CPU priority (nice +`NICENESS`, Linux), so the other web
process's acks come first too. Without a web server marking the gate (Socket Mode, tests), nothing waits."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)

QUIET = 0.05  # seconds without an ack in progress before deferred work starts (a burst's requests arrive spread)
MAX_DELAY = 2.0  # seconds deferred work waits at most (under a steady stream of requests it runs anyway)
NICENESS = 10  # added to the work threads' nice value: the kernel schedules the acks' threads first


class AckGate:
    """How many requests are being acknowledged now, and when the last one finished; work waits for quiet."""

    def __init__(self, quiet: float = QUIET, max_delay: float = MAX_DELAY) -> None:
        self.quiet, self.max_delay = quiet, max_delay
        self._cond = threading.Condition()
        self._acking = 0
        self._marked = 0
        self._last = -float("inf")  # time.monotonic() when the last ack finished

    def enter(self) -> None:
        with self._cond:
            self._acking += 1
            self._marked += 1

    def leave(self) -> None:
        with self._cond:
            self._acking -= 1
            self._last = time.monotonic()
            if self._acking == 0:
                self._cond.notify_all()

    @property
    def acking(self) -> int:
        """Requests being acknowledged now."""
        return self._acking

    @property
    def marked(self) -> int:
        """Requests marked since the start."""
        return self._marked

    def wait_quiet(self) -> bool:
        """Block until no ack is in progress and none finished in the last `quiet` seconds, or `max_delay`
        has passed; True when it became quiet."""
        deadline = time.monotonic() + self.max_delay
        with self._cond:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    return False
                if self._acking == 0:
                    calm = self._last + self.quiet - now
                    if calm <= 0:
                        return True
                    self._cond.wait(min(calm, deadline - now))
                else:
                    self._cond.wait(deadline - now)


class Background:
    def __init__(self, threads: int, gate: AckGate | None = None):
        self.gate = gate or AckGate()
        self._pool = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="slack-work", initializer=_lower_priority
        )

    def run(self, what: str, work: Callable[[], object]) -> Future[None]:
        def guarded() -> None:
            try:
                self.gate.wait_quiet()
                work()
            except Exception:
                log.exception("%s failed", what)

        return self._pool.submit(guarded)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


def _lower_priority() -> None:
    """Lower this thread's own CPU priority (on Linux, setpriority on a thread id applies to that thread only)."""
    if not hasattr(os, "setpriority") or not os.path.isdir("/proc/self/task"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + NICENESS))
    except OSError as exc:
        log.debug("could not lower the work threads' priority: %s", exc)
