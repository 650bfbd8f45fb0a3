"""Security: "Secrets never appear in logs or error messages."

Real flows run with distinctive secret values: the Slack bot token, signing secret and OAuth client secret, the
OpenAI API key, a DATABASE_URL password, and a feed URL carrying user:password@ and ?token=/&api_key= in its query.
Everything they log is captured (caplog at DEBUG on the root logger, with briefbot's own logging configuration as
`build_context` applies it; and the stdout and stderr of real `briefbot` processes run at BRIEFBOT_LOG_LEVEL=DEBUG),
and so is every error shown to people: CLI output, `sources list`, Slack replies, and the stored `last_error` of
sources, polls and deliveries. No secret, nor any piece of one, may appear.

Each test also shows it could fail: the secret really reached the server it is meant for (the feed server saw the
password and the token, the LLM server the key, the fake Slack the token), and the captured text is not empty and
names what is not secret (the host and port, the failing source, the HTTP status).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.ask.service import Conversation
from bot.context import Context, configure_logging
from bot.demo.server import LocalServer, Route
from bot.fetch.http import build_fetcher
from bot.ingest.poller import Poller
from bot.settings import Settings
from bot.slack.clients import SlackClients
from bot.storage.db import session_scope
from bot.storage.models import Brief, ConversationTurn, Delivery, Poll, Source
from bot.storage.sources import add_source, subscribe
from bot.worker.outbox import OutboxLoop
from tests.conftest import NOW, PG_URL, context_for, make_settings, serving, wait_for
from tests.feeds import numbered, rss
from tests.llm_server import FakeLLM, error
from tests.slack_requests import command_body, sign
from tests.slack_server import SlackServer

# Every secret carries MARKER, so a piece of one (a truncation, a prefix shown as a "mask") is caught too.
MARKER = "SeKrEt"
BOT_TOKEN = f"xoxb-4471-{MARKER}BoTtOkEn-b07"
SIGNING_SECRET = f"sign-{MARKER}SiGnInG-51g"
CLIENT_ID, CLIENT_SECRET = "111.222", f"cli-{MARKER}ClIeNt-c1e"
OPENAI_KEY = f"sk-proj-{MARKER}OpEnAi-0a1"
DB_PASSWORD = f"db-{MARKER}DbPw-d8"
FEED_USER, FEED_PASSWORD = "alice", f"pw-{MARKER}FeEdPw-f3"
FEED_TOKEN, FEED_API_KEY = f"tok-{MARKER}QuErY-q7", f"key-{MARKER}ApIkEy-k9"
SECRETS = {
    "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_CLIENT_SECRET": CLIENT_SECRET,
    "OPENAI_API_KEY": OPENAI_KEY, "DATABASE_URL password": DB_PASSWORD, "feed password": FEED_PASSWORD,
    "feed token": FEED_TOKEN, "feed api_key": FEED_API_KEY,
    # The forms they take on the wire: HTTP Basic credentials.
    "feed Basic auth": base64.b64encode(f"{FEED_USER}:{FEED_PASSWORD}".encode()).decode(),
    "Slack client Basic auth": base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode(),
}
ENV = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_CLIENT_SECRET": CLIENT_SECRET,
       "SLACK_CLIENT_ID": CLIENT_ID, "OPENAI_API_KEY": OPENAI_KEY}


def leaks(captured: str) -> list[str]:
    """The secrets that appear in `captured`, whole or in part."""
    found = [name for name, value in SECRETS.items() if value in captured]
    if MARKER.lower() in captured.lower() and not found:
        found.append(f"a piece of a secret ({MARKER}…)")
    return found


def assert_no_secret(captured: str, where: str) -> None:
    found = leaks(captured)
    assert not found, f"{where} shows {', '.join(found)}:\n{captured}"


def secret_feed_url(server: LocalServer, path: str, host: str = "127.0.0.1") -> str:
    return f"http://{FEED_USER}:{FEED_PASSWORD}@{host}:{server.port}{path}?token={FEED_TOKEN}&api_key={FEED_API_KEY}&n=1"


def assert_feed_saw_the_secrets(server: LocalServer, path: str) -> None:
    """The control for a feed: the password and the token really were sent, so their absence elsewhere means
    something."""
    seen = [(p, h) for p, h in server.requests if p.split("?", 1)[0] == path]
    assert seen, f"no request for {path}: {server.requests}"
    where, headers = seen[0]
    assert parse_qs(urlsplit(where).query)["token"] == [FEED_TOKEN]
    assert headers.get("authorization") == f"Basic {SECRETS['feed Basic auth']}"


def with_password(db_url: str) -> str:
    """The test database's URL with a password (PostgreSQL trusts 127.0.0.1, so any password is accepted)."""
    return db_url.replace("postgresql+psycopg://postgres@", f"postgresql+psycopg://postgres:{DB_PASSWORD}@", 1)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- capture ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """`logs()`: everything logged (root logger, DEBUG, formatted with arguments) and written to stdout/stderr so
    far. briefbot's logging configuration is applied as `build_context` applies it in every process it runs."""
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "alembic")}
    configure_logging(make_settings("sqlite://", briefbot_log_level="DEBUG"))
    caplog.set_level(logging.DEBUG)
    written: list[str] = []

    def captured() -> str:
        out, err = capfd.readouterr()
        written.extend((out, err))
        records = "\n".join(f"{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
        return records + "\n" + caplog.text + "\n".join(written)

    yield captured
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)


def briefbot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A real `briefbot` process at DEBUG, with every secret in its environment."""
    full = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "LANG": "C.UTF-8", "BRIEFBOT_LOG_LEVEL": "DEBUG",
            **ENV, **env}
    return subprocess.run([str(Path(sys.executable).with_name("briefbot")), *args], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=120)


def output(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + "\n" + done.stderr


# ---- configuration and the database URL -----------------------------------------------------------------------------


@pytest.mark.slow
def test_briefbot_config_masks_every_secret(tmp_path: Path) -> None:
    db = f"postgresql://postgres:{DB_PASSWORD}@127.0.0.1:{closed_port()}/briefbot"
    for args in (["config"], ["config", "--json"]):
        done = briefbot(*args, env={"DATABASE_URL": db}, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert_no_secret(output(done), f"briefbot {' '.join(args)}")
        # Control: the settings are there, only masked.
        for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_CLIENT_SECRET", "OPENAI_API_KEY"):
            assert name in done.stdout
        assert "xoxb…" in done.stdout and "sk-p…" in done.stdout
        assert "postgres:***@127.0.0.1" in done.stdout


@pytest.mark.slow
def test_a_database_that_cannot_be_opened_is_reported_without_its_password(tmp_path: Path,
                                                                            pg_problem: str | None) -> None:
    port = closed_port()
    cases = {"closed port": f"postgresql://postgres:{DB_PASSWORD}@127.0.0.1:{port}/briefbot"}
    if not pg_problem:
        host = PG_URL.split("@", 1)[1].split("/", 1)[0]
        cases["no such database"] = f"postgresql://postgres:{DB_PASSWORD}@{host}/no_such_db_{port}"
    for case, url in cases.items():
        done = briefbot("sources", "list", env={"DATABASE_URL": url}, cwd=tmp_path)
        assert done.returncode == 1 and "cannot open the database" in done.stderr, (case, output(done))
        assert_no_secret(output(done), f"briefbot sources list ({case})")
        assert "127.0.0.1" in done.stderr or "localhost" in done.stderr, done.stderr  # control: says where


# ---- feeds: `briefbot sources add`, `poll` and `sources list` in real processes -----------------------------------


@pytest.fixture
def feeds() -> Iterator[LocalServer]:
    with LocalServer({
        "/private.xml": Route(status=401, body=b"login required", content_type="text/plain"),
        "/broken.xml": Route(status=500, body=b"<html>oops</html>", content_type="text/html"),
        "/page.html": Route(body=b"<html><body>no feed here</body></html>", content_type="text/html"),
        "/garbage.xml": Route(body=b"\x00\x01 not xml at all", content_type="application/xml"),
        "/hang.xml": Route(hang=True),
        "/ok.xml": Route(body=rss(numbered(2), title="Open Wire")),
    }) as server:
        yield server


FAILING = ["/private.xml", "/broken.xml", "/page.html", "/garbage.xml", "/hang.xml"]


@pytest.mark.slow
def test_failing_feeds_keep_their_credentials_out_of_poll_output_logs_and_stored_errors(
        db_url: str, tmp_path: Path, feeds: LocalServer, engine: Engine) -> None:
    env = {"DATABASE_URL": with_password(db_url), "BRIEFBOT_ALLOW_PRIVATE_URLS": "true",
           "BRIEFBOT_READ_TIMEOUT": "1", "BRIEFBOT_FETCH_DEADLINE": "3"}
    gone = f"http://{FEED_USER}:{FEED_PASSWORD}@127.0.0.1:{closed_port()}/gone.xml?token={FEED_TOKEN}"
    nowhere = secret_feed_url(feeds, "/feed.xml", host="feeds.example.invalid")
    urls = [secret_feed_url(feeds, path) for path in FAILING] + [gone, nowhere]
    added = briefbot("sources", "add", "--kind", "feed", urls[0], env=env, cwd=tmp_path)
    assert added.returncode == 0, output(added)
    assert_no_secret(added.stderr, "the log of briefbot sources add --kind feed")
    with session_scope(engine) as session:  # the others as `sources add --kind feed` stores them
        for url in urls[1:]:
            add_source(session=session, team_id="T_LOCAL", kind="feed", locator=url, spec=url, title="", now=NOW)

    polled = briefbot("poll", "--all", env=env, cwd=tmp_path)
    assert polled.returncode == 0, output(polled)
    assert_no_secret(output(polled), "briefbot poll")
    # Control: every failure is reported, with its reason; the log has the connections' host and port.
    assert "7 failed" in polled.stdout, polled.stdout
    for reason in ("failed (http_4xx): HTTP 401", "failed (http_5xx): HTTP 500", "failed (timeout)",
                   "failed (connect)", "failed (dns): could not resolve host feeds.example.invalid"):
        assert reason in polled.stdout, polled.stdout
    assert f"host='127.0.0.1' port={feeds.port}" in polled.stderr and "source 1 failed (http_4xx)" in polled.stderr
    for path in FAILING:
        assert_feed_saw_the_secrets(feeds, path)

    listed = {}
    for args in (["sources", "list"], ["sources", "list", "--json"]):
        done = briefbot(*args, env=env, cwd=tmp_path)
        assert done.returncode == 0
        assert_no_secret(done.stderr, f"the log of briefbot {' '.join(args)}")
        listed[args[-1]] = done.stdout
    errors = [line.split("  ")[-1] for line in listed["list"].splitlines()[2:]]
    assert len(errors) == 7 and all(errors), listed["list"]
    assert_no_secret("\n".join(errors), "the last-error column of briefbot sources list")
    shown = [{k: v for k, v in row.items() if k not in ("spec", "locator")} for row in json.loads(listed["--json"])]
    assert len(shown) == 7 and all(row["last_error"] for row in shown)
    assert_no_secret(json.dumps(shown), "briefbot sources list --json (but for the stored spec and locator)")

    with engine.connect() as conn:
        stored = [str(row) for row in conn.execute(text(
            "SELECT last_error_kind, last_error FROM sources UNION ALL SELECT error_kind, error FROM polls "
            "UNION ALL SELECT outcome, notes FROM polls"))]
    assert_no_secret("\n".join(stored), "sources.last_error / polls.error / polls.notes")
    assert sum("HTTP 401" in row for row in stored) == 2  # control: the source's and the poll's


@pytest.mark.slow
@pytest.mark.parametrize(("path", "says"), [
    ("/private.xml", "HTTP 401"),
    ("/page.html", "no feed link"),
    ("/garbage.xml", "is not a feed"),
])
def test_sources_add_says_why_a_feed_failed_without_its_credentials(
        tmp_path: Path, feeds: LocalServer, path: str, says: str) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'add.db'}", "BRIEFBOT_ALLOW_PRIVATE_URLS": "true"}
    done = briefbot("sources", "add", secret_feed_url(feeds, path), env=env, cwd=tmp_path)
    assert done.returncode == 1 and says in done.stderr, output(done)
    assert f"127.0.0.1:{feeds.port}{path}" in done.stderr  # control: which feed, by host, port and path
    assert_feed_saw_the_secrets(feeds, path)
    assert_no_secret(output(done), "briefbot sources add")


@pytest.mark.slow
def test_sources_list_shows_a_failing_feed_without_its_credentials(tmp_path: Path, feeds: LocalServer) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'list.db'}", "BRIEFBOT_ALLOW_PRIVATE_URLS": "true"}
    assert briefbot("sources", "add", "--kind", "feed", secret_feed_url(feeds, "/private.xml"), env=env,
                    cwd=tmp_path).returncode == 0
    briefbot("poll", env=env, cwd=tmp_path)
    table = briefbot("sources", "list", env=env, cwd=tmp_path).stdout
    assert "failing" in table and "HTTP 401" in table, table  # control: the failing source is listed
    assert_no_secret(table, "briefbot sources list")


# ---- the poller in-process: every way a fetch fails ------------------------------------------------------------------


FAILURES = [
    pytest.param(Route(status=401, body=b"who are you?"), "http_4xx", id="401"),
    pytest.param(Route(status=403), "http_4xx", id="403"),
    pytest.param(Route(status=404), "http_4xx", id="404"),
    pytest.param(Route(status=429, headers={"Retry-After": "60"}), "http_4xx", id="429"),
    pytest.param(Route(status=500), "http_5xx", id="500"),
    pytest.param(Route(status=503, body=b"<html>maintenance</html>"), "http_5xx", id="503"),
    pytest.param(Route(hang=True), "timeout", id="read timeout"),
    pytest.param(Route(body=b"x" * 20_000), "too_large", id="too large"),
    pytest.param(Route(body=b"\x00 not a feed"), "malformed", id="not a feed"),
    pytest.param(Route(redirect="/feed.xml"), "redirects", id="redirect loop"),
    pytest.param(Route(redirect="http://10.0.0.1/feed.xml?token=other"), "blocked", id="redirect inside"),
]


def poll_once(settings: Settings, engine: Engine, clock: Any, url: str) -> Source:
    with session_scope(engine) as session:
        source, _ = add_source(session=session, team_id="T1", kind="feed", locator=url, spec=url, title="",
                               now=clock())
        source_id = source.id or 0

    async def run() -> None:
        fetcher = build_fetcher(settings)
        try:
            await Poller(settings=settings, engine=engine, fetcher=fetcher, clock=clock).poll(source_ids=[source_id])
        finally:
            await fetcher.aclose()

    asyncio.run(run())
    with Session(engine) as session:
        found = session.get(Source, source_id)
        assert found is not None
        return found


@pytest.mark.parametrize(("route", "kind"), FAILURES)
def test_a_failed_poll_logs_and_stores_no_credentials(db_url: str, engine: Engine, clock: Any, logs: Any,
                                                      feeds: LocalServer, route: Route, kind: str) -> None:
    feeds.route("/feed.xml", route)
    settings = make_settings(db_url, briefbot_allow_private_urls=False, briefbot_allowed_networks="127.0.0.1/32",
                             briefbot_read_timeout=0.5, briefbot_fetch_deadline=2.0, briefbot_max_body_bytes=10_000,
                             briefbot_max_redirects=2)
    source = poll_once(settings, engine, clock, secret_feed_url(feeds, "/feed.xml"))
    with Session(engine) as session:
        polls = list(session.exec(select(Poll)))
    assert source.last_error_kind == kind, source.last_error
    stored = "\n".join(f"{p.error} {p.notes}" for p in polls) + f"\n{source.last_error}"
    assert_no_secret(stored, "the stored errors")
    captured = logs()
    assert_no_secret(captured, "the log")
    assert f"source {source.id} failed ({kind})" in captured  # control: the failure was logged, and captured
    assert f"port={feeds.port}" in captured  # and so were the connection's details
    assert_feed_saw_the_secrets(feeds, "/feed.xml")


def test_a_feed_that_cannot_be_reached_logs_no_credentials(db_url: str, engine: Engine, clock: Any,
                                                          logs: Any) -> None:
    settings = make_settings(db_url, briefbot_connect_timeout=1.0)
    for host, kind in ((f"127.0.0.1:{closed_port()}", "connect"), ("feeds.example.invalid", "dns")):
        url = f"http://{FEED_USER}:{FEED_PASSWORD}@{host}/feed.xml?token={FEED_TOKEN}&api_key={FEED_API_KEY}"
        source = poll_once(settings, engine, clock, url)
        assert source.last_error_kind == kind
        assert_no_secret(source.last_error or "", "the stored error")
    captured = logs()
    assert_no_secret(captured, "the log")
    assert "failed (connect)" in captured and "failed (dns): could not resolve host feeds.example.invalid" in captured


# ---- the LLM: a failing call with the API key ------------------------------------------------------------------------



def llm_ctx(db_url: str, llm: FakeLLM, clock: Any) -> Context:
    settings = make_settings(db_url, openai_api_key=OPENAI_KEY, openai_base_url=llm.base_url,
                             briefbot_llm_max_retries=0, briefbot_llm_timeout=5.0, briefbot_answer_model="answer-model",
                             briefbot_brief_model="brief-model")
    ctx: Context = context_for(settings, clock)
    return ctx


def assert_llm_saw_the_key(llm: FakeLLM) -> None:
    assert llm.headers and all(h.get("authorization") == f"Bearer {OPENAI_KEY}" for h in llm.headers)


@pytest.mark.parametrize("status", [401, 403, 429, 500])
def test_a_failed_answer_logs_and_stores_no_api_key(db_url: str, clock: Any, llm: FakeLLM, logs: Any,
                                                    status: int) -> None:
    from tests.test_ask_answers import history

    ctx = llm_ctx(db_url, llm, clock)
    history(ctx.engine)
    llm.enqueue(error(status, "Incorrect API key provided." if status == 401 else "upstream trouble"))
    answer = ctx.asker().ask(Conversation("T1", "D1", "1700000000.000100", "dm", "U1"), "What is Kestrel doing?")
    assert answer.writer == "extractive" and "could not answer" in answer.note
    with Session(ctx.engine) as session:
        turns = [t.model_dump_json() for t in session.exec(select(ConversationTurn))]
    assert_no_secret(answer.text + answer.note + "\n".join(turns), "the answer and the stored turn")
    captured = logs()
    assert_no_secret(captured, "the log")
    assert "answering extractively" in captured and str(status) in captured  # control
    assert_llm_saw_the_key(llm)
    ctx.engine.dispose()


def test_a_failed_brief_logs_and_stores_no_api_key(db_url: str, clock: Any, llm: FakeLLM, logs: Any) -> None:
    from tests.test_signal_update import seed_seattle_hiring

    ctx = llm_ctx(db_url, llm, clock)
    seed_seattle_hiring(ctx.engine, clock)
    llm.enqueue(error(401, "Incorrect API key provided."))
    assert len(ctx.analyse().briefs) == 1
    with Session(ctx.engine) as session:
        (brief,) = session.exec(select(Brief))
    assert brief.writer == "builtin" and (brief.writer_note or "").startswith("LLM unavailable")
    assert_no_secret(brief.model_dump_json(), "the stored brief (its writer note is shown in Slack)")
    captured = logs()
    assert_no_secret(captured, "the log")
    assert "LLM brief failed" in captured and "401" in captured  # control
    assert_llm_saw_the_key(llm)
    ctx.engine.dispose()


@pytest.mark.slow
def test_briefbot_ask_with_a_refused_key_prints_and_logs_no_key(db_url: str, tmp_path: Path, llm: FakeLLM,
                                                                 engine: Engine) -> None:
    from tests.test_ask_answers import history

    history(engine)
    llm.enqueue(error(401, "Incorrect API key provided."))
    env = {"DATABASE_URL": with_password(db_url), "OPENAI_BASE_URL": llm.base_url, "BRIEFBOT_LLM_MAX_RETRIES": "0",
           "BRIEFBOT_DEFAULT_TEAM": "T1", "BRIEFBOT_NOW": "2026-11-25T15:00:00Z"}
    done = briefbot("ask", "What", "is", "Kestrel", "doing?", env=env, cwd=tmp_path)
    assert done.returncode == 0, output(done)
    assert_no_secret(output(done), "briefbot ask")
    assert "The LLM could not answer" in done.stdout and "answering extractively" in done.stderr  # control
    assert f"port={urlsplit(llm.base_url).port}" in done.stderr  # the log names the endpoint's address
    assert_llm_saw_the_key(llm)


# ---- Slack: alerts, replies, the signing secret and the OAuth client secret ------------------------------------------


@pytest.fixture
def secret_slack(db_url: str, slack: SlackServer, clock: Any) -> Iterator[Context]:
    slack.tokens = {BOT_TOKEN: "T1"}
    settings = make_settings(db_url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                             slack_api_url=slack.api_url, briefbot_channel_post_interval=0.0,
                             briefbot_slack_timeout=2.0)
    ctx: Context = context_for(settings, clock)
    yield ctx
    ctx.engine.dispose()


@pytest.mark.parametrize(("fault", "status"), [
    ({"error": "restricted_action"}, "failed"),
    ({"error": "invalid_auth"}, "pending"),
    ({"status": 500, "body": "<html>Slack is down</html>"}, "sending"),
    ({"status": 429, "retry_after": 30}, "pending"),
])
def test_a_refused_alert_logs_and_stores_no_bot_token(secret_slack: Context, slack: SlackServer, logs: Any,
                                                      fault: dict[str, Any], status: str) -> None:
    from tests.test_slack_delivery import hiring_alert

    hiring_alert(secret_slack, "C1")
    slack.fail("chat.postMessage", **fault)
    OutboxLoop(secret_slack, clients=SlackClients(secret_slack.settings, secret_slack.engine)).tick()
    with Session(secret_slack.engine) as session:
        (delivery,) = session.exec(select(Delivery))
    assert delivery.status == status and delivery.last_error, (delivery.status, delivery.last_error)
    assert_no_secret(delivery.model_dump_json(), "the stored delivery")
    captured = logs()
    assert_no_secret(captured, "the log")
    assert f"delivery {delivery.id}" in captured  # control: the refusal was logged
    assert BOT_TOKEN in {c.token for c in slack.calls("chat.postMessage")}  # and the token was used


def test_forged_requests_and_replies_show_no_signing_secret_or_token(
        secret_slack: Context, slack: SlackServer, logs: Any, feeds: LocalServer) -> None:
    with serving(secret_slack) as base:
        body = command_body(f"follow {feeds.url('/ok.xml')}", response_url=slack.hook_url("ok"))
        forged = httpx.post(base + "/slack/events", content=body, headers=sign("not-the-secret", body), timeout=10)
        assert forged.status_code == 401
        signed = httpx.post(base + "/slack/events", content=body, headers=sign(SIGNING_SECRET, body), timeout=10)
        assert signed.status_code == 200
        reply = wait_for(lambda: slack.hooks("ok"), timeout=10)[-1]["text"]
        assert reply.startswith("Following *Open Wire*")
    captured = logs()
    assert_no_secret(captured + forged.text + signed.text + reply, "the log and the replies")
    assert "invalid Slack signature" in captured  # control: serve's refusal was logged, and captured
    assert BOT_TOKEN in {c.token for c in slack.calls()}


def test_slack_replies_about_a_failing_feed_show_no_credentials(
        secret_slack: Context, slack: SlackServer, logs: Any, feeds: LocalServer) -> None:
    url = secret_feed_url(feeds, "/private.xml")
    with session_scope(secret_slack.engine) as session:  # followed earlier, e.g. added with `sources add --kind`
        source, _ = add_source(session=session, team_id="T1", kind="feed", locator=url, spec=url, title="",
                               now=secret_slack.clock())
        subscribe(session=session, team_id="T1", channel_id="C1", source_id=source.id or 0, now=secret_slack.clock())
    poll_once(secret_slack.settings, secret_slack.engine, secret_slack.clock, url)
    replies = {}
    with serving(secret_slack) as base:
        for text_ in (f"follow {url}", "status", "list"):
            hook = text_.split(" ")[0]
            body = command_body(text_, response_url=slack.hook_url(hook))
            httpx.post(base + "/slack/events", content=body, headers=sign(SIGNING_SECRET, body), timeout=10)
            replies[hook] = wait_for(partial(slack.hooks, hook), timeout=10)[-1]["text"]
    assert "HTTP 401" in replies["follow"] and "HTTP 401" in replies["status"] and "HTTP 401" in replies["list"]
    shown = {f"/brief {hook}": leaks(reply) for hook, reply in replies.items()}
    assert shown == {"/brief follow": [], "/brief status": [], "/brief list": []}, replies
    assert_no_secret(logs(), "the log")


def test_a_failed_oauth_install_logs_no_client_secret(db_url: str, slack: SlackServer, clock: Any,
                                                      logs: Any) -> None:
    from tests.test_slack_oauth import begin_install, callback

    slack.client_id, slack.client_secret = CLIENT_ID, "what-slack-expects"  # so Slack refuses ours
    settings = make_settings(db_url, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET,
                             slack_signing_secret=SIGNING_SECRET, slack_api_url=slack.api_url)
    ctx: Context = context_for(settings, clock)
    with serving(ctx) as base, httpx.Client(base_url=base, timeout=10, follow_redirects=False) as browser:
        state, _ = begin_install(browser)
        page = callback(browser, state)
    ctx.engine.dispose()
    assert page.status_code >= 400  # control: the install failed
    assert slack.calls("oauth.v2.access")[0].params["client_secret"] == CLIENT_SECRET  # with our secret
    captured = logs()
    assert_no_secret(captured + page.text + str(page.headers), "the log and the page")
    assert "oauth.v2.access" in captured and "bad_client_secret" in captured, captured  # control: it was logged
