"""Engine and sessions. SQLite runs in WAL mode with foreign keys on; PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import Settings

# The ORM (sqlmodel, sqlalchemy.orm), PostgreSQL's dialect and the flush guard are imported where they are used:
# every CLI command builds its engine here, and `sources list` reads without them (storage/source_health). The
# guard that fits text before every flush (storage/fit) is registered by storage/models, which every flush needs.
if TYPE_CHECKING:
    from sqlmodel import Session, SQLModel


def build_engine(settings: Settings, **kwargs: Any) -> Engine:
    url = settings.database_url
    wait = settings.briefbot_db_lock_timeout  # a lock held too long is an error its unit of work reports
    if settings.is_sqlite:
        path = settings.sqlite_path()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": wait}, **kwargs)
        event.listen(engine, "connect", partial(_sqlite_pragmas, busy_ms=int(wait * 1000)))
        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    event.listen(engine, "connect", partial(_postgres_session, lock_ms=int(wait * 1000)))
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any, *, busy_ms: int) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={busy_ms:d}")
    cur.close()


def _postgres_session(dbapi_conn: Any, _record: Any, *, lock_ms: int) -> None:
    """lock_timeout for the connection's session, set outside any transaction (SQLAlchemy's recipe)."""
    autocommit = dbapi_conn.autocommit
    dbapi_conn.autocommit = True
    cur = dbapi_conn.cursor()
    cur.execute(f"SET lock_timeout = {lock_ms:d}")
    cur.close()
    dbapi_conn.autocommit = autocommit


def insert_if_absent(session: Session, model: type[SQLModel], keys: list[str], **values: Any) -> bool:
    """INSERT … ON CONFLICT (keys) DO NOTHING, on SQLite and PostgreSQL; True when this call inserted the row.
    On PostgreSQL a concurrent insert of the same key waits for the other transaction and then does nothing."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    from bot.storage import fit

    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = model.__table__  # type: ignore[attr-defined]
    statement = dialect_insert(table).values(**fit.fit_values(table, values)).on_conflict_do_nothing(
        index_elements=keys)
    # RETURNING says whether a row was inserted (rowcount is not reliable with PostgreSQL's implicit RETURNING).
    return session.execute(statement.returning(table.c[keys[0]])).first() is not None


def refresh_item_statistics(*, session: Session) -> None:
    """After a big insert into a young table, PostgreSQL's planner still thinks it is empty and looks items up
    by the team index, reading every row of the team (13 ms per lookup at 10,000 rows instead of 1 ms): ANALYZE
    the item tables. SQLite needs no such help, and is not touched."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text("ANALYZE items"))
    session.execute(text("ANALYZE item_links"))


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    from sqlmodel import Session

    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Tables slack_sdk defines and owns (OAuth installations and states); migration 0004 creates them from the
# library's own definitions, so model comparisons leave them out.
LIBRARY_TABLES = frozenset({"slack_installations", "slack_bots", "slack_oauth_states"})


# Full-text search (migration 0005): SQLite's FTS5 tables and their shadow tables; PostgreSQL's generated
# tsvector columns and their GIN indexes. The models don't describe them, so model comparisons leave them out.
SEARCH_INDEXES = frozenset({"ix_items_search", "ix_briefs_search"})
SEARCH_COLUMN = "search_tsv"


def is_ours(name: str | None, type_: str, *_: Any) -> bool:
    """Alembic's include_name hook: compare our tables only."""
    if type_ == "table" and name and (name in LIBRARY_TABLES or name.startswith(("items_fts", "briefs_fts"))):
        return False
    if type_ == "column" and name == SEARCH_COLUMN:
        return False
    return not (type_ == "index" and name in SEARCH_INDEXES)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply Alembic migrations up to `revision` on `engine`. A database already at the head costs one query:
    every CLI command builds its context through here, and Alembic's import and the migration lock would
    otherwise come before any of its work."""
    if revision == "head" and _at_head(engine):
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with _sqlite_file_lock(engine), engine.begin() as connection:
        _hold_migration_lock(connection)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=\n]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


def head_revision() -> str | None:
    """The newest migration's revision, read from the migration files without Alembic (None unless there is
    exactly one head)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in MIGRATIONS_DIR.joinpath("versions").glob("*.py"):
        for name, value in _REVISION.findall(path.read_text("utf-8")):
            (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _at_head(engine: Engine) -> bool:
    """True when the database records the head revision. Not on a new SQLite file (creating one is done under
    the migration lock), nor where the version table cannot be read: those take the full path."""
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if not path or path == ":memory:" or not Path(path).is_file() or Path(path).stat().st_size == 0:
            return False
    head = head_revision()
    if head is None:
        return False
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:
        return False
    return [tuple(r) for r in rows] == [(head,)]


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """On a SQLite file, processes migrate one at a time (`<database>.migrate.lock`, released however the
    process ends): even opening a brand-new file (its switch to WAL) can meet another process's lock at once,
    without the busy timeout's wait. Nothing to do for PostgreSQL or an in-memory database."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    import fcntl

    try:
        handle = Path(f"{path}.migrate.lock").open("a")  # noqa: SIM115 (closed below, after the work it guards)
    except OSError:  # a read-only folder: nobody can migrate there anyway, and reading needs no lock
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# pg_advisory_xact_lock's key for "migrating this database": any fixed 64-bit number no other code uses.
MIGRATION_LOCK_KEY = 0x6272696566626F74  # "briefbot"


def _hold_migration_lock(connection: Connection) -> None:
    """Every process migrates at start, so two starting together on a fresh database would race to create the
    same tables. Whoever comes second waits here until the first has committed, then finds nothing to do.
    PostgreSQL: a transaction-scoped advisory lock, waited for without the usual lock timeout (a migration
    that rewrites a big table takes minutes). SQLite: the database's write lock, taken before Alembic reads
    the version (pysqlite would otherwise run the DDL outside any transaction), waited for up to the busy
    timeout."""
    if connection.dialect.name == "postgresql":
        own = connection.execute(text("SELECT current_setting('lock_timeout')")).scalar_one()
        connection.exec_driver_sql("SET LOCAL lock_timeout = 0")
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.execute(text("SELECT set_config('lock_timeout', :own, true)"), {"own": own})  # the DDL's own
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
