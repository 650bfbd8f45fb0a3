"""SQLite is the single-process default: one scheduler (`briefbot worker` or `briefbot run`) at a time. A
second one on the same SQLite file stops at once and says why, instead of polling and delivering twice.
PostgreSQL takes any number of workers; they share the work through row leases."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.settings import Settings

try:
    import fcntl
except ImportError:  # not POSIX: no lock, as before
    fcntl = None  # type: ignore[assignment]


class AnotherWorkerRunning(RuntimeError):  # noqa: N818 - a message for people
    """A scheduler already runs on this SQLite database."""


@contextmanager
def sole_worker(settings: Settings) -> Iterator[None]:
    """Hold the SQLite database's worker lock (`<database>.worker.lock`, released when the process ends, however
    it ends) for the duration; AnotherWorkerRunning when another process holds it. Nothing on PostgreSQL."""
    path = settings.sqlite_path()
    if path is None or fcntl is None:
        yield
        return
    lock = Path(f"{path}.worker.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise AnotherWorkerRunning(
                f"another briefbot worker (pid {holder}) is already running on {path}. SQLite takes one worker "
                "process: stop that one, or set DATABASE_URL to PostgreSQL to run several.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
