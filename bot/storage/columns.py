"""How long a value each text column holds, read from the models, so input is checked where it is typed
(the CLI's options) against the column it will be stored in."""

from __future__ import annotations

from sqlmodel import SQLModel


def column_length(model: type[SQLModel], column: str) -> int:
    """The declared length of `model`'s `column` (a VARCHAR(n)); AssertionError for a column without one."""
    length = model.__table__.c[column].type.length  # type: ignore[attr-defined]
    assert isinstance(length, int), f"{model.__name__}.{column} has no length"
    return length
