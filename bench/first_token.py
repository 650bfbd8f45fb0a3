"""Time to the first streamed token of an answer, apart from the LLM: a local OpenAI-compatible server that
streams at once (tests/llm_server.py), so what is measured is briefbot's own part: reading the question,
retrieval, the prompt, the request and the cleaning of the first text, and, through Slack, the signed event,
Bolt, the status and title calls and the first streaming call (tests/slack_server.py records its arrival).
Used by bench/ask.py; `.venv/bin/python bench/first_token.py` runs it alone. Prints, asserts nothing."""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from openai import OpenAI

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # tests/ is not installed: the local servers are imported from the checkout
    sys.path.insert(0, str(ROOT))

from common import pct, print_rows  # noqa: E402

from bot.ask.service import Conversation  # noqa: E402
from bot.context import build_context  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.conftest import serving  # noqa: E402
from tests.history import add_items, item, source  # noqa: E402
from tests.llm_server import FakeLLM, streamed  # noqa: E402
from tests.slack_requests import event, event_body, sign  # noqa: E402
from tests.slack_server import SlackServer  # noqa: E402

QUESTIONS = ("What is Kestrel Commerce doing in Kent?", "Who is hiring warehouse staff?",
             "Any news on Tidewater trucks this week?", "What did Harbor Freight report since March?")
ITEMS = 20_000
ROUNDS = 40
SECRET = "bench-first-token"
REPLY = ("Kestrel Commerce leased a fulfillment center in Kent [1] and is hiring for it [2]. " * 3, "More [3].")


def measure(tmp: str, *, items: int = ITEMS, rounds: int = ROUNDS) -> list[tuple[str, str]]:
    now = datetime.now(UTC)
    rows: list[tuple[str, str]] = []
    with FakeLLM() as llm, SlackServer() as slack:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'first-token.db'}", openai_base_url=llm.base_url,
                            slack_bot_token="xoxb-test", slack_signing_secret=SECRET, slack_api_url=slack.api_url,
                            briefbot_log_level="WARNING", _env_file=None)  # type: ignore[call-arg]
        ctx = build_context(settings)
        try:
            src = source(ctx.engine, "T1", "https://news.example/feed", now)
            words = ("Kestrel Commerce", "warehouse", "Kent", "Tidewater trucks", "Harbor Freight", "logistics")
            add_items(ctx.engine, [item("T1", src, f"{words[i % 6]} report {i}: {words[(i * 7) % 6]} and more",
                                        url=f"https://news.example/{i}", at=now - timedelta(minutes=i),
                                        outlet="Wire", text=f"{words[(i * 3) % 6]} {words[(i * 5) % 6]} news.")
                                   for i in range(items)])
            client = OpenAI(base_url=llm.base_url, api_key="x")
            alone: list[float] = []
            for _ in range(rounds):
                llm.enqueue(streamed(*REPLY))
                started = time.perf_counter()
                for chunk in client.chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}],
                                                            stream=True):
                    if chunk.choices and chunk.choices[0].delta.content:
                        alone.append((time.perf_counter() - started) * 1000)
                        break
            asker, direct = ctx.asker(), []
            first: list[float] = []

            def seen(_text: str) -> None:
                if not first:
                    first.append(time.perf_counter())

            for n in range(rounds):
                llm.enqueue(streamed(*REPLY))
                first.clear()
                started = time.perf_counter()
                asker.ask(Conversation("T1", "cli", f"bench-{n}", "cli"), QUESTIONS[n % len(QUESTIONS)], on_text=seen)
                direct.append((first[0] - started) * 1000)
            through: list[float] = []
            with serving(ctx) as base:
                for n in range(rounds):
                    llm.enqueue(streamed(*REPLY))
                    body = event_body(event("message.im", user="U2", text=QUESTIONS[n % len(QUESTIONS)]))
                    before = len(slack.calls("chat.startStream"))
                    started = time.monotonic()
                    httpx.post(base + "/slack/events", content=body, headers=sign(SECRET, body), timeout=10)
                    deadline = started + 10
                    while len(slack.calls("chat.startStream")) == before and time.monotonic() < deadline:
                        time.sleep(0.001)
                    if len(slack.calls("chat.startStream")) > before:
                        through.append((slack.calls("chat.startStream")[-1].at - started) * 1000)
        finally:
            ctx.engine.dispose()
    rows.append(("first token", f"{items:,} items on SQLite, {rounds} questions, a local LLM that streams at once"))
    rows.append(("  the LLM alone", f"request to first token p50 {pct(alone, 50):.1f} ms, p95 "
                                    f"{pct(alone, 95):.1f} ms (loopback HTTP and the openai client)"))
    rows.append(("  ask() to first text", f"p50 {pct(direct, 50):.1f} ms, p95 {pct(direct, 95):.1f} ms: read, "
                                          "retrieve, prompt, request, clean"))
    rows.append(("  DM to first stream", f"p50 {pct(through, 50):.1f} ms, p95 {pct(through, 95):.1f} ms from the "
                                         f"signed event's POST to chat.startStream at Slack ({len(through)}/{rounds} "
                                         "arrived; includes the status and title calls)"))
    return rows


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="bench-first-token-") as tmp:
        print_rows(measure(tmp))
