"""Issue 14.3: each workspace has its own daily LLM token budget. Briefs go through the real openai client to the
local fake endpoint (tests/llm_server.py); the CLI runs in-process, Slack through the real Bolt app on uvicorn
and the recording Web API. Every database test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from bot.ask.service import Conversation
from bot.cli import main
from bot.context import Context
from bot.core.llm_budget import MAX_TOKENS, BudgetInputError, make_budget, parse_tokens, use_line, writer_note
from bot.slack.blocks.home import home_view
from bot.slack.blocks.limits import check_view
from bot.slack.model import HomeView
from bot.storage.briefs import list_briefs
from bot.storage.db import session_scope
from bot.storage.models import Brief, Source, Workspace
from tests.conftest import SLACK_SECRET, context_for, make_settings, serving, wait_for
from tests.llm_server import FakeLLM, completion, streamed
from tests.slack_requests import command_body, event, event_body, sign
from tests.slack_server import SlackServer
from tests.test_hostile_cli import one_line
from tests.test_llm_pipeline import DRAFT
from tests.test_signal_update import board, post

DAY_ONE = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
_hooks = itertools.count(1)



def llm_context(db_url: str, llm: FakeLLM, clock: Any, budget: int, **extra: Any) -> Context:
    # These signals grow within minutes and are re-briefed at once (the interval has its own tests).
    settings = make_settings(db_url, openai_base_url=llm.base_url, briefbot_brief_model="test-model",
                             briefbot_llm_timeout=2.0, briefbot_llm_max_retries=0, briefbot_daily_token_budget=budget,
                             **{"briefbot_rebrief_minutes": 0, **extra})
    return context_for(settings, clock)


def backfill(engine: Engine, clock: Any, *teams: str) -> dict[str, Source]:
    """Each team's board with one old posting (backfill), then a day later: new postings make signals."""
    sources = {team: board(engine, clock, team=team) for team in teams}
    for source in sources.values():
        post(engine, clock, source, ["Software Engineer"], "Bellingham", backfill=True)
    clock.now += timedelta(days=1)
    return sources


def warehouse(engine: Engine, clock: Any, source: Source) -> None:
    post(engine, clock, source, ["Warehouse Associate", "Forklift Operator", "Picker"], "Kent")


def grow(engine: Engine, clock: Any, source: Source) -> None:
    """Two more roles in the metro: the signal grows by two thirds and is briefed again."""
    clock.now += timedelta(minutes=5)
    post(engine, clock, source, ["Shipping Lead", "Dock Supervisor"], "Auburn")


def briefs_of(engine: Engine, team: str) -> list[Brief]:
    with session_scope(engine) as session:
        return sorted(list_briefs(session=session, team_id=team), key=lambda b: b.id or 0)


def llm_reply(prompt_tokens: int = 120, completion_tokens: int = 40) -> Any:
    return completion(json.dumps(DRAFT), prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)


@pytest.fixture
def cli(db_url: str, llm: FakeLLM, clock: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`briefbot` in-process on the test's database, with the LLM configured and the test clock's time;
    returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str, budget: int = 1000) -> tuple[int, str, str]:
        env = {"DATABASE_URL": db_url, "OPENAI_BASE_URL": llm.base_url, "BRIEFBOT_DAILY_TOKEN_BUDGET": str(budget),
               "BRIEFBOT_NOW": clock().isoformat()}
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run


def ok(outcome: tuple[int, str, str]) -> str:
    code, out, err = outcome
    assert code == 0 and err == "", (code, out, err)
    return out


# ---- the pure rules ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "tokens"), [
    ("0", 0), ("500000", 500_000), ("500,000", 500_000), ("500_000", 500_000), (" 200k ", 200_000), ("2M", 2_000_000),
    ("default", None), ("DEFAULT", None), (str(MAX_TOKENS), MAX_TOKENS), ("007", 7)])
def test_a_budget_as_typed(typed: str, tokens: int | None) -> None:
    assert parse_tokens(typed) == tokens


@pytest.mark.parametrize(("typed", "why"), [
    ("-5", "is negative"), ("-500k", "is negative"), ("abc", "not a number"), ("1.5", "not a number"),
    ("1e9", "not a number"), ("", "not a number"), ("5\x00", "not a number"), ("٣", "not a number"),
    ("50,00", "not a number"), ("2k5", "not a number"), (str(MAX_TOKENS + 1), "more than 2,147,483,647"),
    ("3000M", "more than"), ("9" * 5000, "more than"), ("0" * 5000 + "1", None)])
def test_a_budget_that_is_not_one_says_why_in_one_line(typed: str, why: str | None) -> None:
    if why is None:  # leading zeros are still a number
        assert parse_tokens(typed) == 1
        return
    with pytest.raises(BudgetInputError) as raised:
        parse_tokens(typed)
    message = str(raised.value)
    assert why in message and "\n" not in message and len(message) < 200 and "or default" in message


def test_the_budget_day_is_the_utc_day() -> None:
    late = datetime(2026, 11, 25, 23, 59, 59, tzinfo=UTC)
    budget = make_budget(team_id="T1", own_limit=None, default_limit=1000, used=1000, now=late)
    assert budget.spent and not budget.own and budget.resets_at == datetime(2026, 11, 26, tzinfo=UTC)
    assert use_line(budget) == ("1,000 of 1,000 tokens today (the default); spent: briefs use the built-in writer "
                                "until 00:00 UTC")
    assert "budget of 1,000 tokens is spent (1,000 used today)" in writer_note(budget)
    off = make_budget(team_id="T1", own_limit=0, default_limit=1000, used=0, now=late)
    assert off.spent and off.own and "budget is 0" in writer_note(off) and use_line(off).startswith("off")
    under = make_budget(team_id="T1", own_limit=5000, default_limit=1000, used=1200, now=late)
    assert not under.spent and under.left == 3800 and "(its own budget); resets at 00:00 UTC" in use_line(under)


# ---- briefs: one workspace's spent budget is its own ----------------------------------------------------------


def test_one_workspaces_spent_budget_leaves_the_others_llm_briefs_untouched(
        db_url: str, engine: Engine, clock: Any, llm: FakeLLM, cli: Any) -> None:
    """The issue's done-means: T1 spends its 1,000 tokens; its next brief is the built-in writer's, saying why,
    while T2's brief, written in the same pass, is the LLM's. The next UTC day T1 has its budget back."""
    ctx = llm_context(db_url, llm, clock, budget=1000)
    sources = backfill(engine, clock, "T1", "T2")
    warehouse(engine, clock, sources["T1"])
    llm.enqueue(llm_reply(prompt_tokens=900, completion_tokens=200))
    ctx.analyse()
    (first,) = briefs_of(engine, "T1")
    assert first.writer == "llm" and ctx.llm_budget("T1").spent  # type: ignore[union-attr]

    grow(engine, clock, sources["T1"])
    warehouse(engine, clock, sources["T2"])
    llm.enqueue(llm_reply())
    ctx.analyse()
    assert len(llm.requests) == 2  # T1's first brief and T2's: nothing was sent for T1's second
    (t2,) = briefs_of(engine, "T2")
    assert (t2.writer, t2.headline, t2.prompt_tokens) == ("llm", DRAFT["headline"], 120)
    second = briefs_of(engine, "T1")[-1]
    assert (second.writer, second.subject_version) == ("builtin", 2)
    assert second.writer_note == ("this workspace's daily LLM token budget of 1,000 tokens is spent (1,100 used "
                                  "today); the built-in writer stands in until it resets at 00:00 UTC")
    t2_budget = ctx.llm_budget("T2")
    assert t2_budget is not None and (t2_budget.used, t2_budget.spent) == (160, False)

    listed = json.loads(ok(cli("workspaces", "list", "--json")))
    assert [(w["team_id"], w["budget"], w["used_today"], w["spent"]) for w in listed["workspaces"]] == [
        ("T1", 1000, 1100, True), ("T2", 1000, 160, False)]
    table = ok(cli("workspaces", "list"))
    assert "spent: built-in writer until 00:00 UTC" in table and "840 left" in table
    status = ok(cli("status"))
    assert "llm use   1,260 tokens today across 2 workspaces; 1,000 tokens a day each by default" in status
    assert ("warning: workspace T1: its daily LLM budget of 1,000 tokens is spent (1,100 used today): briefs use "
            "the built-in writer until 00:00 UTC") in status
    assert "llm use   T2: 160 of 1,000 tokens today (the default); resets at 00:00 UTC" in ok(
        cli("status", "--team", "T2"))
    assert [b["team_id"] for b in json.loads(ok(cli("status", "--json")))["llm_budgets"]] == ["T1", "T2"]

    clock.now = clock.now.replace(hour=23, minute=59, second=59)
    assert ctx.llm_budget("T1").spent  # type: ignore[union-attr]
    clock.now += timedelta(seconds=1)  # 00:00 UTC
    back = ctx.llm_budget("T1")
    assert back is not None and (back.used, back.spent) == (0, False)


def test_a_budget_of_0_means_the_built_in_writer_and_default_brings_the_llm_back(
        db_url: str, engine: Engine, clock: Any, llm: FakeLLM, cli: Any) -> None:
    ctx = llm_context(db_url, llm, clock, budget=100_000)
    sources = backfill(engine, clock, "T1", "T2")
    said = ok(cli("workspaces", "budget", "T1", "0"))
    assert said.startswith("T1 no longer uses the LLM (daily budget 0, was the default)")
    warehouse(engine, clock, sources["T1"])
    warehouse(engine, clock, sources["T2"])
    llm.enqueue(llm_reply())
    ctx.analyse()
    assert len(llm.requests) == 1
    assert briefs_of(engine, "T2")[0].writer == "llm"
    (off,) = briefs_of(engine, "T1")
    assert off.writer == "builtin" and "daily LLM token budget is 0" in (off.writer_note or "")

    # Questions: T1's get the stored sources, saying why; T2's the LLM's answer.
    t1 = ctx.asker().ask(Conversation("T1", "cli", "q1", "cli"), "Which warehouse roles is Kestrel hiring?")
    assert t1.writer == "extractive" and "its daily LLM budget is 0" in t1.note and len(llm.requests) == 1
    llm.enqueue(streamed("Kestrel Commerce is hiring warehouse roles in Kent [1]."))
    t2 = ctx.asker().ask(Conversation("T2", "cli", "q2", "cli"), "Which warehouse roles is Kestrel hiring?")
    assert t2.writer == "llm" and len(llm.requests) == 2

    shown = ok(cli("workspaces", "budget", "T1"))
    assert shown.startswith("T1: 0 (LLM off for this workspace); off for this workspace")
    assert ok(cli("workspaces", "budget", "T1", "default", budget=100_000)).startswith(
        "T1 uses the default daily LLM budget again, 100,000 tokens (its own was 0 tokens); 0 of 100,000 tokens "
        "today (the default)")
    with session_scope(engine) as session:
        assert session.get_one(Workspace, "T1").llm_daily_tokens is None
    grow(engine, clock, sources["T1"])
    llm.enqueue(llm_reply())
    ctx.analyse()
    assert briefs_of(engine, "T1")[-1].writer == "llm" and len(llm.requests) == 3

    assert ok(cli("workspaces", "budget", "T2", "200k", "--json")) and json.loads(
        ok(cli("workspaces", "budget", "T2", "--json")))["budget"] == 200_000


@pytest.mark.parametrize(("args", "phrases", "code"), [
    (("T1", "-5"), ("Invalid value for 'TOKENS'", "'-5' is negative"), 2),
    (("T1", "abc"), ("'abc' is not a number of tokens",), 2),
    (("T1", "1.5e3"), ("not a number of tokens",), 2),
    (("T1", "99999999999"), ("more than 2,147,483,647 tokens",), 2),
    (("T1", "9" * 5000), ("more than 2,147,483,647 tokens",), 2),
    (("T1", "12\x00"), ("not a number of tokens",), 2),
    (("T1", "default", "extra"), ("unexpected extra argument",), 2),
    (("T1;DROP", "5"), ("Invalid value for 'TEAM'",), 2),
    (("T" * 500, "5"), ("at most 32",), 2),
    (("T9", "5"), ("no workspace T9 (there are: T1; see briefbot workspaces list)",), 1),
    (("T9",), ("no workspace T9",), 1),
])
def test_hostile_budget_input_is_one_plain_line(engine: Engine, clock: Any, cli: Any, args: tuple[str, ...],
                                                phrases: tuple[str, ...], code: int) -> None:
    board(engine, clock, team="T1")
    ok(cli("workspaces", "budget", "T1", "5000"))
    exit_code, out, err = cli("workspaces", "budget", *args)
    one_line(err, exit_code, *phrases, code=code, stdout=out)
    with session_scope(engine) as session:  # nothing changed, nothing created
        assert session.get_one(Workspace, "T1").llm_daily_tokens == 5000
        assert session.get(Workspace, "T9") is None


# ---- Slack: /brief status and App Home --------------------------------------------------------------------------


@pytest.fixture
def slack_llm_ctx(db_url: str, slack: SlackServer, llm: FakeLLM, clock: Any) -> Iterator[Context]:
    ctx = llm_context(db_url, llm, clock, budget=1000, slack_bot_token="xoxb-test",
                      slack_signing_secret=SLACK_SECRET, slack_api_url=slack.api_url,
                      briefbot_channel_post_interval=0.0, briefbot_slack_timeout=2.0)
    yield ctx
    ctx.engine.dispose()


def brief_status(web: str, slack: SlackServer, team: str) -> str:
    name = f"budget{next(_hooks)}"
    body = command_body("status", team_id=team, response_url=slack.hook_url(name))
    assert httpx.post(web + "/slack/events", content=body, headers=sign(SLACK_SECRET, body), timeout=10).is_success
    return str(wait_for(lambda: slack.hooks(name), timeout=10)[-1]["text"])


def app_home(web: str, slack: SlackServer, team: str, user: str) -> str:
    body = event_body(event("app_home_opened", user=user), team_id=team)
    assert httpx.post(web + "/slack/events", content=body, headers=sign(SLACK_SECRET, body), timeout=10).is_success
    return str(wait_for(lambda: slack.home(user), timeout=10)["blocks"])


def test_status_and_app_home_show_each_workspaces_use_and_budget(
        slack_llm_ctx: Context, slack: SlackServer, llm: FakeLLM, clock: Any) -> None:
    engine = slack_llm_ctx.engine
    sources = backfill(engine, clock, "T1", "T2")
    warehouse(engine, clock, sources["T1"])
    llm.enqueue(llm_reply(prompt_tokens=900, completion_tokens=200))
    slack_llm_ctx.analyse()
    with session_scope(engine) as session:
        session.get_one(Workspace, "T2").llm_daily_tokens = 0
    spent = "1,100 of 1,000 tokens today (the default); spent: briefs use the built-in writer until 00:00 UTC"
    with serving(slack_llm_ctx) as web:
        assert f"*LLM today:* {spent}" in brief_status(web, slack, "T1")
        assert "*LLM today:* off for this workspace (its budget is 0)" in brief_status(web, slack, "T2")
        assert f"⚠️ *LLM today:* {spent}" in app_home(web, slack, "T1", "U1")
        assert "*LLM today:* off for this workspace" in app_home(web, slack, "T2", "U2")
        with session_scope(engine) as session:
            session.get_one(Workspace, "T1").llm_daily_tokens = 5000
        mine = "*LLM today:* 1,100 of 5,000 tokens today (its own budget); resets at 00:00 UTC"
        assert mine in brief_status(web, slack, "T1")
        assert mine in app_home(web, slack, "T1", "U3")
    assert slack.block_errors == []


def test_without_an_llm_no_budget_line_is_shown(slack_ctx: Any, slack: SlackServer) -> None:
    with serving(slack_ctx) as web:
        assert "LLM today" not in brief_status(web, slack, "T1")


def test_the_home_tab_with_a_budget_stays_within_slacks_limits() -> None:
    budget = make_budget(team_id="T1", own_limit=None, default_limit=MAX_TOKENS, used=MAX_TOKENS * 40, now=DAY_ONE)
    view = home_view(HomeView(team_id="T1", timezone="UTC", writer="LLM x", llm_budget=budget))
    assert check_view(view) == [] and "⚠️ *LLM today:* 85,899,345,880 of 2,147,483,647 tokens" in str(view)

