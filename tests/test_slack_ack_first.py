"""Acks come first (issue 15 item 7): the work that follows an ack (a /brief answer, a button's reply) waits while
another request to /slack/events is being acknowledged, runs anyway after the gate's longest delay, and runs on
threads of lower CPU priority. The gate is marked by `briefbot serve`'s ASGI app, refusals included."""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.slack.listeners.background import NICENESS, AckGate, Background
from bot.slack.web import create_asgi
from tests.conftest import SLACK_SECRET, wait_for
from tests.slack_requests import command_body, sign
from tests.slack_server import SlackServer

NOT_YET = 0.3  # seconds given to work that must not run yet (it would run at once without the gate)


def test_work_waits_while_a_request_is_being_acked_and_runs_after() -> None:
    gate = AckGate(quiet=0.0, max_delay=60)
    background = Background(2, gate)
    ran = threading.Event()
    try:
        gate.enter()
        background.run("answer", ran.set)
        assert not ran.wait(NOT_YET)
        gate.enter()  # a second request arrives; the first one's ack leaves
        gate.leave()
        assert not ran.wait(NOT_YET)
        gate.leave()
        assert ran.wait(10)
        assert (gate.acking, gate.marked) == (0, 2)
    finally:
        background.shutdown()


def test_work_runs_anyway_after_the_longest_delay() -> None:
    gate = AckGate(quiet=0.0, max_delay=0.2)
    background = Background(1, gate)
    ran = threading.Event()
    try:
        gate.enter()  # never leaves: a steady stream of requests
        background.run("answer", ran.set)
        assert ran.wait(10)
        assert gate.acking == 1
    finally:
        background.shutdown()


def test_without_a_web_server_nothing_waits_and_failures_are_contained() -> None:
    background = Background(1)
    ran = threading.Event()
    try:
        background.run("broken", lambda: 1 / 0)
        background.run("answer", ran.set)
        assert ran.wait(10)
    finally:
        background.shutdown()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_work_threads_run_at_a_lower_cpu_priority() -> None:
    background = Background(1)
    seen: list[int] = []
    background.run("answer", lambda: seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
    background.shutdown()  # waits for the work
    ours = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert seen == [min(19, ours + NICENESS)]


def test_the_web_app_marks_each_request_including_refused_ones(slack_ctx: Any, slack: SlackServer) -> None:
    asgi = create_asgi(slack_ctx)
    gate: AckGate = asgi.state.ack_gate
    with TestClient(asgi) as client:
        assert client.get("/healthz").status_code == 200
        assert gate.marked == 0  # only /slack/events is an ack
        body = command_body("help", response_url=slack.hook_url("help"))
        assert client.post("/slack/events", content=body, headers=sign(SLACK_SECRET, body)).status_code == 200
        assert (gate.acking, gate.marked) == (0, 1)
        assert client.post("/slack/events", content=body, headers=sign("wrong", body)).status_code == 401
        assert (gate.acking, gate.marked) == (0, 2)
        too_big = "x" * (300 * 1024)
        assert client.post("/slack/events", content=too_big, headers=sign(SLACK_SECRET, too_big)).status_code == 413
        assert (gate.acking, gate.marked) == (0, 3)


def test_a_command_answer_still_reaches_the_response_url(slack_ctx: Any, slack: SlackServer) -> None:
    asgi = create_asgi(slack_ctx)
    gate: AckGate = asgi.state.ack_gate
    with TestClient(asgi) as client:
        body = command_body("list", response_url=slack.hook_url("list"))
        ack = client.post("/slack/events", content=body, headers=sign(SLACK_SECRET, body))
        assert ack.status_code == 200 and "Gathering" in ack.json()["text"]
        hooks = wait_for(lambda: slack.hooks("list"), timeout=10)
        assert "follow" in hooks[0]["text"] and hooks[0]["replace_original"] is True
        assert gate.marked == 1
