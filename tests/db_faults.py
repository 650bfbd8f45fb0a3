"""A database that refuses some rows, for testing that a unit of work fails alone: a trigger in the test's own
database raises for rows matching a condition, on SQLite and PostgreSQL alike. Nothing in briefbot is patched;
the failure comes from the database, as a real one would."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

EVENTS = ("INSERT", "UPDATE")


def refuse(engine: Engine, name: str, table: str, condition: str = "1 = 1", *,
           message: str = "refused by the test", events: tuple[str, ...] = EVENTS) -> None:
    """Rows of `table` matching `condition` (SQL over NEW) are refused with `message` on `events`."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN IF {condition} THEN "
                              f"RAISE EXCEPTION '{message}'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"))
            for event in events:
                conn.execute(text(f"CREATE TRIGGER {name}_{event.lower()} BEFORE {event} ON {table} FOR EACH ROW "
                                  f"EXECUTE FUNCTION {name}()"))
        else:
            for event in events:
                conn.execute(text(f"CREATE TRIGGER {name}_{event.lower()} BEFORE {event} ON {table} WHEN {condition} "
                                  f"BEGIN SELECT RAISE(ABORT, '{message}'); END"))


def allow(engine: Engine, name: str, table: str, *, events: tuple[str, ...] = EVENTS) -> None:
    """Undo `refuse`."""
    with engine.begin() as conn:
        for event in events:
            on = f" ON {table}" if engine.dialect.name == "postgresql" else ""
            conn.execute(text(f"DROP TRIGGER {name}_{event.lower()}{on}"))
