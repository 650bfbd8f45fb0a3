"""The last guard before a row is written: text no column can hold is made to fit, so that one hostile value
is never a database error that rolls back everyone's work in the same transaction.

Values are meant to be fitted where they enter (`sources/item`, Slack and CLI validation); this guard
catches what those missed, on both databases alike:
- text longer than its column (`VARCHAR(n)`; SQLite would keep it, PostgreSQL refuses it) is cut to fit;
- NUL characters (PostgreSQL refuses them in text) and lone UTF-16 surrogates (no UTF-8 encoder takes them)
  are removed. JSON columns need no guard: their serialiser escapes both (`\\u0000`), which `json` on
  PostgreSQL and SQLite's text both store.

Every fix is logged as a warning naming the table and column, so a missing boundary check shows up. A value
that names a row (a primary, foreign or unique key, such as a team id, a channel id or a watch's key) is never
cut, since the cut value would name another row: it is refused with `UnfitValueError` instead, and the unit of
work it belongs to fails alone. It listens to every ORM flush; `insert_if_absent` applies it to its Core
INSERT; other Core statements with outside text must fit their own."""

from __future__ import annotations

import logging
import re
from functools import cache
from itertools import chain
from typing import Any

from sqlalchemy import ColumnElement, String, Table, TypeDecorator, UniqueConstraint, event
from sqlalchemy.orm import Mapper, Session, UOWTransaction, object_mapper

log = logging.getLogger(__name__)
_UNWRITABLE = re.compile("[\\x00\\ud800-\\udfff]")
_SURROGATE = re.compile("[\\ud800-\\udfff]")


def _unwritable(value: str) -> bool:
    """Whether `value` holds NUL or a lone surrogate; the common ASCII case costs two scans in C."""
    return "\x00" in value or (not value.isascii() and _SURROGATE.search(value) is not None)


class UnfitValueError(ValueError):
    """A value that names a row does not fit its column; cutting it would name another row."""


def _names_a_row(column: Any) -> bool:
    """Part of a primary, foreign or unique key (a constraint or a unique index)."""
    if column.primary_key or column.foreign_keys or column.unique:
        return True
    table = column.table
    keys = [c.columns for c in table.constraints if isinstance(c, UniqueConstraint)]
    keys += [i.columns for i in table.indexes if i.unique]
    return any(column.name in cols for cols in keys)


def _text_limit(column: ColumnElement[Any]) -> tuple[bool, int | None]:
    """(whether the column holds text, its length limit or None). SQLModel's `str` fields are `AutoString`, a
    TypeDecorator over `String`: what is stored is what its implementation says."""
    column_type = column.type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    return (True, column_type.length) if isinstance(column_type, String) else (False, None)


@cache
def _columns(mapper: Mapper[Any]) -> tuple[tuple[str, int | None, bool], ...]:
    """The text attributes of one mapped class: (name, length limit or None, whether it names a row)."""
    out = []
    for prop in mapper.column_attrs:
        is_text, limit = _text_limit(prop.columns[0])
        if is_text:
            out.append((prop.key, limit, _names_a_row(prop.columns[0])))
    return tuple(out)


def _fitted(table: str, key: str, value: str, limit: int | None, names_a_row: bool) -> str:
    if names_a_row:
        raise UnfitValueError(f"{table}.{key}: a value of {len(value)} characters (at most {limit} fit, and no NUL) "
                              "names a row and cannot be cut to fit")
    log.warning("%s.%s: a value too long or with unstorable characters was cut to fit", table, key)
    return fit_text(value, limit)


def fit_values(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """Values for a Core INSERT into `table`, text fitted to its columns as the flush guard would."""
    fitted = dict(values)
    for key, value in values.items():
        if isinstance(value, str) and key in table.c:
            is_text, limit = _text_limit(table.c[key])
            if is_text and _needs_fit(value, limit):
                fitted[key] = _fitted(table.name, key, value, limit, _names_a_row(table.c[key]))
    return fitted


def fit_text(value: str, limit: int | None) -> str:
    """`value` without NUL or lone surrogates, at most `limit` characters."""
    if _unwritable(value):
        value = _UNWRITABLE.sub("", value)
    return value[:limit] if limit is not None else value


def _needs_fit(value: str, limit: int | None) -> bool:
    return (limit is not None and len(value) > limit) or _unwritable(value)


def fit_row(obj: Any) -> list[str]:
    """Fit one ORM object's text in place; the names of the columns that needed it."""
    mapper = object_mapper(obj)
    texts = _columns(mapper)
    table = getattr(obj, "__tablename__", type(obj).__name__)
    state = obj.__dict__  # only loaded values: reading attributes here must not load anything
    fixed: list[str] = []
    for key, limit, names_a_row in texts:
        value = state.get(key)
        if isinstance(value, str) and _needs_fit(value, limit):
            setattr(obj, key, _fitted(table, key, value, limit, names_a_row))
            fixed.append(f"{table}.{key}")
    return fixed


@event.listens_for(Session, "before_flush")
def _fit_before_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    for obj in chain(session.new, session.dirty):
        fit_row(obj)
