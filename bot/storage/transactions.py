"""What code outside storage needs to run its work against the database, so that it never imports SQLAlchemy
itself (and so writes no SQL of its own): the `Engine` it is handed, the `Session` storage functions take
(opened by `db.session_scope`), the driver errors a caller decides on (`DatabaseError`, `OperationalError`),
and running a transaction once more when a concurrent request won a race."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError
from sqlmodel import Session

__all__ = ["DatabaseError", "Engine", "OperationalError", "Session", "once_more_on_conflict"]

T = TypeVar("T")


def once_more_on_conflict(work: Callable[[], T]) -> T:
    """Run `work` (one transaction); if a concurrent request inserted the same row first (a unique constraint
    fired), run it once more: it then finds that row. Two `/brief watch acme` at once both answer."""
    try:
        return work()
    except IntegrityError:
        return work()
