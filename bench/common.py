"""What the benchmarks share: which code ran, a fresh database on SQLite or PostgreSQL, percentiles.
Imported as `common` (a benchmark run as a script has bench/ on its path)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def code_version() -> str:
    """The commit measured, and whether bot/ had uncommitted changes (the code moves; say which ran)."""
    def git(*cmd: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *cmd], capture_output=True, text=True, timeout=30).stdout
    try:
        return git("rev-parse", "--short", "HEAD").strip() + (" + uncommitted bot/ changes" if git(
            "status", "--porcelain", "--", "bot").strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def pg_problem(url: str) -> str | None:
    """None when PostgreSQL answers at `url`; otherwise why not, in one line."""
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any reason it is not usable is a reason to skip it
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def databases(pg_url: str, *, insist: bool, skip: bool) -> list[str]:
    """SQLite, and PostgreSQL when it answers (`insist`: fail when it doesn't; `skip`: SQLite only)."""
    if skip:
        return ["sqlite"]
    problem = pg_problem(pg_url)
    if problem is None:
        return ["sqlite", "postgresql"]
    if insist:
        raise SystemExit(f"PostgreSQL not reachable at {pg_url}: {problem}")
    print(f"PostgreSQL skipped (not reachable at {pg_url}: {problem})")
    return ["sqlite"]


@contextmanager
def fresh_db(db: str, pg_url: str, tmp: str, prefix: str = "bench") -> Iterator[str]:
    """An empty database URL: a SQLite file in `tmp`, or a new PostgreSQL schema dropped afterwards."""
    if db == "sqlite":
        yield f"sqlite:///{Path(tmp) / f'{prefix}-{uuid.uuid4().hex[:8]}.db'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{pg_url}{'&' if '?' in pg_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank), in the values' unit; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def print_rows(rows: list[tuple[str, str]]) -> None:
    """Name-value rows as an aligned two-column listing."""
    width = max((len(name) for name, _ in rows), default=0)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
