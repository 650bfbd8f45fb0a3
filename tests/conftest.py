"""Shared fixtures: real SQLite and PostgreSQL databases, settings for tests, a local HTTP server."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from bot.demo.server import LocalServer
from bot.settings import Settings
from bot.storage.db import build_engine, upgrade
from tests.llm_server import FakeLLM

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
PG_URL = os.environ.get("BRIEFBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def corpus_path(*parts: str) -> Path:
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"the shared corpus is not beside this checkout ({path} missing)")
    return path


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


@pytest.fixture(scope="session")
def pg_problem() -> str | None:
    return _pg_available()


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "briefbot_allow_private_urls": True,
        "briefbot_connect_timeout": 2.0,
        "briefbot_read_timeout": 2.0,
        "briefbot_fetch_deadline": 5.0,
        "briefbot_poll_interval": 900,
        # One brief at a time, in subject order: tests script the local LLM's replies in that order. The fleet
        # tests (real worker processes) run the default, several at once.
        "briefbot_brief_concurrency": 1,
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


def pg_database_url(name: str) -> str:
    """PG_URL with another database name."""
    base, _, query = PG_URL.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def with_pg_option(url: str, option: str) -> str:
    """A PostgreSQL URL with one more `-c name=value` server option, e.g. `-cdefault_transaction_read_only=on`."""
    from urllib.parse import quote

    joined = quote(option, safe="")
    return url + "%20" + joined if "options=" in url else with_param(url, "options", joined)


def with_param(url: str, name: str, value: str) -> str:
    """`url` with one more query parameter (`value` already quoted)."""
    return url + ("&" if "?" in url else "?") + f"{name}={value}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, made once per test session and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = build_engine(make_settings(f"sqlite:///{path}"))
    upgrade(engine)
    with engine.connect() as conn:  # everything in the main file, so a copy of it alone is the whole database
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template(pg_problem: str | None) -> Iterator[str | None]:
    """A migrated PostgreSQL database, made once per test session; each test gets a copy (CREATE DATABASE …
    TEMPLATE), which takes milliseconds where migrating took about a second."""
    if pg_problem:
        yield None
        return
    name = f"bbtpl_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = build_engine(make_settings(pg_database_url(name)))
    upgrade(engine)
    engine.dispose()  # a template must have no connections when it is copied
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# The PostgreSQL variant of every database test is `slow`: the quick loop (`pytest -m "not slow"`) runs each on
# SQLite; the README's command and CI run both.
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, pg_problem: str | None) -> Iterator[str]:
    """A migrated, empty database of its own: a copy of the session's migrated SQLite file, or a PostgreSQL
    database copied from the session's migrated template."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    if pg_problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL must be reachable in CI at {PG_URL}: {pg_problem}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {pg_problem}")
    template = request.getfixturevalue("pg_template")
    name = f"bb_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield pg_database_url(name)
    finally:
        with admin.connect() as conn:  # FORCE: a worker process a test started may still hold a connection
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = build_engine(make_settings(db_url))
    yield eng
    eng.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def clock() -> Callable[[], datetime]:
    """A clock the test moves by hand: `clock.now = ...`."""

    class Manual:
        now = NOW

        def __call__(self) -> datetime:
            return self.now

    return Manual()


# Slack: the recording Web API server, the real Bolt app on a real HTTP server (uvicorn), signed requests.
SLACK_SECRET = "test-signing-secret"


@pytest.fixture
def slack(clock: Any) -> Iterator[Any]:
    """The fake Web API; its message timestamps follow the test's clock, as Slack's follow real time."""
    from tests.slack_server import SlackServer

    with SlackServer(clock=clock) as fake:
        yield fake


@pytest.fixture
def real_slack() -> Iterator[Any]:
    """The fake Web API with message timestamps on the real clock: for real worker processes, whose clock
    is the real one."""
    import time

    from tests.slack_server import SlackServer

    with SlackServer(clock=time.time) as fake:
        yield fake


@pytest.fixture
def slack_settings(db_url: str, slack: Any) -> Settings:
    return make_settings(db_url, slack_bot_token="xoxb-test", slack_signing_secret=SLACK_SECRET,
                         slack_api_url=slack.api_url, briefbot_channel_post_interval=0.0, briefbot_slack_timeout=2.0)


def context_for(settings: Settings, clock: Callable[[], datetime]) -> Any:
    """A Context on `settings` with the repository's prompts and the test's clock (the database already migrated)."""
    from bot.context import Context, prompts_directory
    from bot.llm.prompts import load_all

    return Context(settings=settings, engine=build_engine(settings), clock=clock,
                   prompts=load_all(prompts_directory(settings)))


@pytest.fixture
def slack_ctx(slack_settings: Settings, clock: Any) -> Iterator[Any]:
    ctx = context_for(slack_settings, clock)
    yield ctx
    ctx.engine.dispose()


@contextmanager
def serving(ctx: Any) -> Iterator[str]:
    """`briefbot serve`'s ASGI app (the real Bolt app) for `ctx`, on uvicorn at 127.0.0.1; yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    from bot.slack.web import create_asgi

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_asgi(ctx), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


@pytest.fixture
def web(slack_ctx: Any) -> Iterator[str]:
    """The Bolt app behind `briefbot serve`'s ASGI app, on uvicorn at 127.0.0.1; yields its base URL."""
    with serving(slack_ctx) as base:
        yield base


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll until `predicate()` is truthy (listeners run on Bolt's threads after the ack); fail on timeout."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    """A local OpenAI-compatible server on 127.0.0.1 whose replies a test queues (tests/llm_server.py)."""
    with FakeLLM() as server:
        yield server
