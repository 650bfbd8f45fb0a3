"""Slow work after an ack (a /brief answer, a button's reply) runs on its own threads, so Bolt's listener
threads only ever acknowledge: a burst of slow commands can't hold up the next command's ack."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)


class Background:
    def __init__(self, threads: int):
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="slack-work")

    def run(self, what: str, work: Callable[[], object]) -> Future[None]:
        def guarded() -> None:
            try:
                work()
            except Exception:
                log.exception("%s failed", what)
        return self._pool.submit(guarded)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
