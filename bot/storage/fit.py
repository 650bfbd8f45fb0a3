"""The last guard before a row is written: text no column can hold is made to fit, so that one hostile value
is never a database error that rolls back everyone's work in the same transaction.

Values are meant to be fitted where they enter (`sources/normalise`, Slack and CLI validation); this guard
catches what those missed, on both databases alike:
- text longer than its column (`VARCHAR(n)`; SQLite would keep it, PostgreSQL refuses it) is cut to fit;
- NUL characters (PostgreSQL refuses them in text and JSON) and lone UTF-16 surrogates (no UTF-8 encoder
  takes them) are removed, in JSON columns too.

Every fix is logged as a warning naming the table and column, so a missing boundary check shows up. It
listens to every ORM flush; Core statements (`insert()`, `update()`) with outside text must fit their own."""

from __future__ import annotations

import logging
import re
from functools import cache
from itertools import chain
from typing import Any

from sqlalchemy import JSON, String, event
from sqlalchemy.orm import Mapper, Session, UOWTransaction, object_mapper

log = logging.getLogger(__name__)
_UNWRITABLE = re.compile("[\\x00\\ud800-\\udfff]")


@cache
def _columns(mapper: Mapper[Any]) -> tuple[tuple[tuple[str, int | None], ...], tuple[str, ...]]:
    """(text attributes with their length limit or None, JSON attributes) of one mapped class."""
    texts: list[tuple[str, int | None]] = []
    documents: list[str] = []
    for prop in mapper.column_attrs:
        column_type = prop.columns[0].type
        if isinstance(column_type, String):
            texts.append((prop.key, column_type.length))
        elif isinstance(column_type, JSON):
            documents.append(prop.key)
    return tuple(texts), tuple(documents)


def fit_text(value: str, limit: int | None) -> str:
    """`value` without NUL or lone surrogates, at most `limit` characters."""
    if _UNWRITABLE.search(value):
        value = _UNWRITABLE.sub("", value)
    return value[:limit] if limit is not None else value


def fit_json(value: Any) -> Any:
    """A JSON value with every string (keys included) cleaned of NUL and lone surrogates."""
    if isinstance(value, str):
        return fit_text(value, None)
    if isinstance(value, list):
        return [fit_json(v) for v in value]
    if isinstance(value, dict):
        return {fit_text(str(k), None): fit_json(v) for k, v in value.items()}
    return value


def _json_needs_fit(value: Any) -> bool:
    if isinstance(value, str):
        return _UNWRITABLE.search(value) is not None
    if isinstance(value, list):
        return any(_json_needs_fit(v) for v in value)
    if isinstance(value, dict):
        return any(_json_needs_fit(k) or _json_needs_fit(v) for k, v in value.items())
    return False


def _needs_fit(value: str, limit: int | None) -> bool:
    return (limit is not None and len(value) > limit) or _UNWRITABLE.search(value) is not None


def fit_row(obj: Any) -> list[str]:
    """Fit one ORM object's text in place; the names of the columns that needed it."""
    mapper = object_mapper(obj)
    texts, documents = _columns(mapper)
    table = getattr(obj, "__tablename__", type(obj).__name__)
    state = obj.__dict__  # only loaded values: reading attributes here must not load anything
    fixed: list[str] = []
    for key, limit in texts:
        value = state.get(key)
        if isinstance(value, str) and _needs_fit(value, limit):
            setattr(obj, key, fit_text(value, limit))
            fixed.append(f"{table}.{key}")
    for key in documents:
        value = state.get(key)
        if isinstance(value, list | dict | str) and _json_needs_fit(value):
            setattr(obj, key, fit_json(value))
            fixed.append(f"{table}.{key}")
    return fixed


@event.listens_for(Session, "before_flush")
def _fit_before_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    for obj in chain(session.new, session.dirty):
        for column in fit_row(obj):
            log.warning("%s: a value too long or with unstorable characters was cut to fit", column)
