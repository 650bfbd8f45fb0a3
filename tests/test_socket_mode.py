"""`briefbot run` end to end: the real process (Bolt's SocketModeHandler and the scheduler) against a local Socket
Mode server and the recording Web API (tests/socket_mode_server.py). It opens a connection with the app-level
token, gets `hello`, acks a slash command with its answer, answers a DM question in the thread from the stored
history, takes a button press on that answer, and when Slack asks it to reconnect (`disconnect`), opens a new
connection through apps.connections.open and goes on working there. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import update

from bot.slack.blocks.answer import GOOD_ACTION
from bot.slack.commands.parse import help_text
from bot.storage.db import build_engine, session_scope
from bot.storage.models import Source
from tests.conftest import make_settings
from tests.fleet import wait_until, worker_env
from tests.history import add_items, item, source
from tests.slack_requests import action_body, command_body, event, event_body
from tests.socket_mode_server import SocketConnection, SocketModeSlack

pytestmark = pytest.mark.slow

APP_TOKEN = "xapp-1-A1-1234567890-socketmodetest"
BOT_TOKEN = "xoxb-test"  # the fake's token of workspace T1
QUESTION = "What is Kestrel doing in Kent?"
_T = TypeVar("_T")


@dataclass
class Running:
    """The `briefbot run` process, its output in `log`."""

    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = 30) -> str:
        return "--- briefbot run\n" + "\n".join(self.output().splitlines()[-lines:])

    def alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"briefbot run exited with {self.process.returncode}\n{self.tail()}")

    def wait(self, found: Callable[[], _T | None], *, timeout: float, what: str) -> _T:
        """`found()` once it is not None; past `timeout` (or if the process died), fail with its last lines."""
        deadline = time.monotonic() + timeout
        while (value := found()) is None:
            self.alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"not within {timeout:g} s: {what}\n{self.tail()}")
            time.sleep(0.05)
        return value

    def stop(self) -> int:
        """Ctrl-C, as a person stops it; kill -9 if it has not ended within 15 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return self.process.returncode


def seed_history(database_url: str) -> None:
    """Kestrel news and a posting in T1, stored a day ago; their sources not due for a month (no fetching)."""
    engine = build_engine(make_settings(database_url))
    now = datetime.now(UTC)
    news = source(engine, "T1", "https://news.example/feed", now)
    jobs = source(engine, "T1", "greenhouse:kestrel", now, kind="greenhouse")
    add_items(engine, [
        item("T1", news, "Kestrel Commerce leases fulfillment center in Kent", url="https://news.example/kent",
             at=now - timedelta(days=1), outlet="The Harbor Ledger", text="A 10-year lease near Seattle."),
        item("T1", jobs, "Warehouse Associate", url="https://boards.example/kestrel/1", at=now - timedelta(hours=20),
             outlet="Kestrel Commerce", kind="job", text="Fulfillment role in Kent, WA."),
    ])
    with session_scope(engine) as session:
        session.execute(update(Source).values(next_due_at=now + timedelta(days=30)))
    engine.dispose()


@pytest.fixture
def slack() -> Iterator[SocketModeSlack]:
    with SocketModeSlack() as fake:
        fake.app_tokens = {APP_TOKEN}
        yield fake


@pytest.fixture
def running(db_url: str, slack: SocketModeSlack, tmp_path: Path) -> Iterator[Running]:
    seed_history(db_url)
    env = worker_env(db_url, slack.api_url, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN)
    assert not any(k.startswith("OPENAI_") for k in env)  # the built-in (extractive) answers
    log = tmp_path / "run.log"
    briefbot = Path(sys.executable).with_name("briefbot")
    with open(log, "wb") as out:  # cwd: tmp_path, so no .env of the checkout is read
        process = subprocess.Popen([str(briefbot), "run"], cwd=tmp_path, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    run = Running(process, log)
    try:
        yield run
    finally:
        run.stop()


def envelope_ack(link: SocketConnection, kind: str, payload: dict[str, Any], run: Running, *,
                 accepts_response_payload: bool = False) -> dict[str, Any]:
    envelope_id = link.envelope(kind, payload, accepts_response_payload=accepts_response_payload)
    try:
        ack = link.wait_for_ack(envelope_id, timeout=15)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{run.tail()}") from None
    assert ack["envelope_id"] == envelope_id
    return ack


def slash_command(text: str, response_url: str) -> dict[str, Any]:
    """A slash command's payload as Socket Mode carries it: the form fields as a JSON object."""
    return dict(parse_qsl(command_body(text, response_url=response_url)))


def block_actions(action_id: str, value: str, *, channel_id: str, message_ts: str, response_url: str) -> dict[str, Any]:
    form = dict(parse_qsl(action_body(action_id, value, channel_id=channel_id, user_id="U2", message_ts=message_ts,
                                      response_url=response_url)))
    payload: dict[str, Any] = json.loads(form["payload"])
    return payload


def button_value(blocks: list[dict[str, Any]], action_id: str) -> str:
    for block in blocks:
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button in {json.dumps(blocks)[:2000]}")


def test_briefbot_run_over_socket_mode_answers_acks_and_reconnects(running: Running, slack: SocketModeSlack) -> None:
    link = slack.socket.wait_for_connection(1, timeout=60, explain=running.tail)
    running.alive()
    opened = slack.calls("apps.connections.open")
    assert [c.token for c in opened] == [APP_TOKEN]  # the app-level token opens the socket, never the bot token
    assert slack.calls("auth.test") and all(c.token == BOT_TOKEN for c in slack.calls("auth.test"))
    wait_until(lambda: "connected over Socket Mode" in running.output(), timeout=10, what=running.tail)
    assert "the built-in writer" in running.output(), running.tail()

    # Slack's pings are answered (its pongs are how Slack knows the app is alive).
    link.ping(b"are-you-there")
    wait_until(lambda: b"are-you-there" in link.pongs(), timeout=10, what="a pong")

    # /brief help: answered in the ack itself, as an ephemeral message.
    ack = envelope_ack(link, "slash_commands", slash_command("help", slack.hook_url("help")), running,
                       accepts_response_payload=True)
    assert ack["payload"] == {"text": help_text(), "response_type": "ephemeral"}
    assert "`/brief help`" in ack["payload"]["text"] and "follow" in ack["payload"]["text"]

    # A DM question: acked at once, answered in the question's thread from the stored history.
    question = event("message.im", user="U2", text=QUESTION)
    ack = envelope_ack(link, "events_api", json.loads(event_body(question)), running)
    assert ack == {"envelope_id": ack["envelope_id"]}  # an event's ack carries no payload
    thread = question["ts"]

    def answered() -> dict[str, Any] | None:
        replies = [m for m in slack.replies("D2", thread) if not m.get("streaming", False)]
        return replies[-1] if replies else None

    reply = running.wait(answered, timeout=30, what="the answer in the DM's thread")
    shown = (reply.get("markdown_text") or "") + (reply.get("text") or "") + json.dumps(reply.get("blocks") or [])
    assert "Kestrel Commerce leases fulfillment center in Kent" in shown, shown
    assert "Warehouse Associate" in shown and "https://news.example/kent" in shown
    assert "No LLM is configured" in shown
    assert slack.messages("D2") == []  # nothing outside the thread

    # The 👍 under that answer: acked, and the person is thanked (ephemerally, through the response_url).
    turn = button_value(reply["blocks"], GOOD_ACTION)
    press = block_actions(GOOD_ACTION, turn, channel_id="D2", message_ts=reply["ts"],
                          response_url=slack.hook_url("feedback"))
    ack = envelope_ack(link, "interactive", press, running)
    assert ack == {"envelope_id": ack["envelope_id"]}
    wait_until(lambda: bool(slack.hooks("feedback")), timeout=15, what=running.tail)
    assert [h["text"] for h in slack.hooks("feedback")] == ["Thanks for the feedback."]

    # Slack asks for a fresh connection: the process opens one through apps.connections.open and lets go of the old.
    before = len(link.received())
    link.disconnect("refresh_requested")
    second = slack.socket.wait_for_connection(2, timeout=30, explain=running.tail)
    assert len(slack.calls("apps.connections.open")) == 2 and second.ticket != link.ticket
    link.wait_closed(timeout=15)
    assert link.closed_by == "client"
    assert len(link.received()) == before  # `hello` and `disconnect` are not acked
    running.alive()

    # And works on the new connection: /brief status acks at once, then answers through the response_url.
    ack = envelope_ack(second, "slash_commands", slash_command("status", slack.hook_url("status")), running,
                       accepts_response_payload=True)
    assert ack["payload"] == {"text": "Checking…", "response_type": "ephemeral"}
    wait_until(lambda: bool(slack.hooks("status")), timeout=15, what=running.tail)
    status = slack.hooks("status")[0]
    assert status["replace_original"] is True and status["response_type"] == "ephemeral"  # replaces "Checking…"
    assert status["text"].startswith("*Sources:* 2 followed, 0 with errors"), status["text"]

    assert link.errors == [] and second.errors == []  # every frame the client sent followed RFC 6455
    assert slack.socket.refused == []
    assert slack.block_errors == []
    assert not any(c.method.startswith("conversations.") for c in slack.calls())  # answers never read Slack history

    assert running.stop() == 0, running.tail()
    assert "stopped" in running.output()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # nothing here depends on the database
def test_a_dropped_connection_is_opened_again(running: Running, slack: SocketModeSlack) -> None:
    """Slack closes the socket without a `disconnect` first: the process asks apps.connections.open for a new
    URL and answers there. (slack_sdk 3.48's built-in client reconnects from its session monitor, which runs
    every 10 s under Bolt's SocketModeHandler: its close handler sees the socket still open and does nothing.)"""
    link = slack.socket.wait_for_connection(1, timeout=60, explain=running.tail)
    link.close(1001)
    second = slack.socket.wait_for_connection(2, timeout=30, explain=running.tail)
    assert len(slack.calls("apps.connections.open")) == 2
    ack = envelope_ack(second, "slash_commands", slash_command("help", slack.hook_url("help")), running,
                       accepts_response_payload=True)
    assert ack["payload"]["text"] == help_text()
    assert running.stop() == 0, running.tail()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_refused_app_token_stops_briefbot_run_with_one_line(db_url: str, tmp_path: Path) -> None:
    """apps.connections.open says no: `briefbot run` ends with the reason, and never claimed to be connected."""
    with SocketModeSlack() as slack:
        slack.app_tokens = {"xapp-1-A1-the-right-one"}
        env = worker_env(db_url, slack.api_url, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN)
        briefbot = Path(sys.executable).with_name("briefbot")
        done = subprocess.run([str(briefbot), "run"], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Slack refused SLACK_APP_TOKEN (invalid_auth)" in done.stderr, done.stderr
    assert "connected" not in done.stdout  # never said before it is true
    assert [c.token for c in slack.calls("apps.connections.open")] == [APP_TOKEN]
    assert slack.socket.connections() == []
