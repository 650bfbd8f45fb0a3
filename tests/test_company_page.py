"""A company's page: `briefbot company NAME` (in-process, on the test's database) and `/brief company NAME` through
the served Bolt app; `stories_about` on its own. A company's news and its hiring signal meet on its page, under
any of its names; each workspace sees only its own. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine

from bot.analysis.signal_update import update_signals
from bot.cli import main
from bot.core.signals import SignalParams
from bot.storage.companies import add_alias, company_identity
from bot.storage.company_news import stories_about
from bot.storage.db import session_scope
from bot.storage.models import Story
from tests.conftest import SLACK_SECRET, wait_for
from tests.history import add_items, brief, item, source
from tests.slack_requests import command_body, sign
from tests.slack_server import SlackServer
from tests.test_signal_update import seed_seattle_hiring

_hooks = itertools.count(1)


def story(engine: Engine, team: str, headline: str, titles: list[str], at: Any, *,
          entities: list[str] | None = None, outlet: str = "Harbor Ledger") -> int:
    """A stored story of news items (and its brief, when `entities` is given), last updated at `at`."""
    feed = source(engine, team, f"https://news.example/{team}/{headline[:20]}.xml", at)
    with session_scope(engine) as session:
        row = Story(team_id=team, headline=headline, item_count=len(titles), outlets=[outlet], first_at=at,
                    last_at=at, created_at=at, updated_at=at)
        session.add(row)
        session.flush()
        story_id = row.id or 0
    add_items(engine, [item(team, feed, t, url=f"https://news.example/{team}/{story_id}/{n}", at=at, outlet=outlet,
                            story_id=story_id) for n, t in enumerate(titles)])
    if entities is not None:
        with session_scope(engine) as session:
            session.add(brief(team, headline, summary="…", at=at, entities=entities, subject_id=story_id))
    return story_id


def seed(engine: Engine, clock: Any) -> dict[str, int]:
    """T1: Kestrel Commerce's board (an engineer, then three warehouse roles around Seattle: a signal), the alias
    "KC Logistics", and news: a story naming Kestrel Commerce, one whose brief names it only by its alias, one
    about something else that merely looks alike, and one too old. T2: the same board and a story of its own."""
    seed_seattle_hiring(engine, clock, team="T1")
    seed_seattle_hiring(engine, clock, team="T2")
    update_signals(engine=engine, clock=clock, params=SignalParams())
    now = clock()
    with session_scope(engine) as session:
        add_alias(session=session, team_id="T1", alias="KC Logistics", canonical_name="Kestrel Commerce",
                  created_by="U1", now=now)
    return {
        "named": story(engine, "T1", "Port plans new fulfillment centre",
                       ["Kestrel Commerce plans Seattle fulfillment centre", "Seattle centre for online seller"],
                       now - timedelta(days=2)),
        "alias": story(engine, "T1", "Logistics firm signs Kent lease", ["Logistics firm signs Kent lease"],
                       now - timedelta(days=1), entities=["KC Logistics Inc.", "Kent"]),
        "lookalike": story(engine, "T1", "Kestrel Commercial Realty sells tower", ["Kestrel Commercial Realty sells"],
                           now - timedelta(days=1), entities=["Kestrel Commercial Realty"]),
        "old": story(engine, "T1", "Kestrel Commerce founded", ["Kestrel Commerce founded"],
                     now - timedelta(days=60)),
        "other_team": story(engine, "T2", "Kestrel Commerce opens Tacoma hub", ["Kestrel Commerce opens Tacoma hub"],
                            now - timedelta(days=1)),
    }


def test_stories_about_a_company_under_any_of_its_names(engine: Engine, clock: Any) -> None:
    ids = seed(engine, clock)
    with session_scope(engine) as session:
        identity = company_identity(session=session, team_id="T1")
        key = identity.key("Kestrel Commerce")
        assert key is not None
        found = stories_about(session=session, team_id="T1", identity=identity, key=key,
                              since=clock() - timedelta(days=30))
        assert [s.id for s in found] == [ids["alias"], ids["named"]]  # newest first
        by_alias = identity.key("kc logistics")
        assert by_alias == key
        everything = stories_about(session=session, team_id="T1", identity=identity, key=key,
                                   since=clock() - timedelta(days=90))
        assert ids["old"] in [s.id for s in everything] and ids["lookalike"] not in [s.id for s in everything]
        assert [s.id for s in stories_about(session=session, team_id="T1", identity=identity, key=key,
                                            since=clock() - timedelta(days=90), limit=1)] == [ids["alias"]]
        t2 = company_identity(session=session, team_id="T2")
        assert [s.id for s in stories_about(session=session, team_id="T2", identity=t2, key=key,
                                            since=clock() - timedelta(days=30))] == [ids["other_team"]]


# ---- the CLI ------------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Any) -> Any:
    monkeypatch.chdir(tmp_path)  # no stray .env

    def run(*args: str, code: int = 0) -> Result:
        env = {"DATABASE_URL": db_url, "BRIEFBOT_NOW": clock().isoformat()}
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return run


def test_a_companys_news_and_signal_meet_on_its_page(engine: Engine, clock: Any, cli: Any) -> None:
    ids = seed(engine, clock)
    page = json.loads(cli("company", "KC Logistics", "--team", "T1", "--json").output)
    assert (page["team_id"], page["asked"], page["name"], page["key"]) == (
        "T1", "KC Logistics", "Kestrel Commerce", "kestrel commerce")
    assert page["names"] == ["KC Logistics", "Kestrel Commerce"]
    [signal] = page["signals"]
    assert (signal["family"], signal["metro"], signal["item_count"]) == ("fulfillment_logistics", "Seattle", 3)
    roles = page["open_roles"]
    assert (roles["company"], roles["total"], roles["functions"]) == ("Kestrel Commerce", 4, 2)
    assert roles["groups"][0]["metro"] == "Seattle" and roles["groups"][0]["count"] == 3
    assert [s["id"] for s in page["stories"]] == [ids["alias"], ids["named"]]
    assert page["stories"][1]["url"].startswith(f"https://news.example/T1/{ids['named']}/")
    assert [(a["alias"], a["canonical"], a["origin"]) for a in page["aliases"]] == [
        ("KC Logistics", "Kestrel Commerce", "workspace")]
    assert set(page) == {"known", "team_id", "asked", "key", "name", "names", "aliases", "signals", "open_roles",
                         "stories", "news_since", "instead_of"}
    assert page["instead_of"] is None

    text = cli("company", "kestrel commerce inc.", "--team", "T1").output
    assert text.startswith("Kestrel Commerce (T1)\nalso known as: KC Logistics\n"), text
    assert "open hiring signals: 1" in text and "Seattle" in text
    assert "Kestrel Commerce: 4 open roles in 2 functions" in text
    assert "fulfillment and logistics · Seattle: 3 open" in text
    assert "Port plans new fulfillment centre" in text and "Logistics firm signs Kent lease" in text
    assert "Kestrel Commercial Realty" not in text and "founded" not in text
    assert "KC Logistics → Kestrel Commerce (workspace)" in text


def test_each_workspace_sees_only_its_own(engine: Engine, clock: Any, cli: Any) -> None:
    ids = seed(engine, clock)
    page = json.loads(cli("company", "Kestrel Commerce", "--team", "T2", "--json").output)
    assert [s["id"] for s in page["stories"]] == [ids["other_team"]]
    assert page["aliases"] == [] and page["names"] == ["Kestrel Commerce"]
    assert page["open_roles"]["total"] == 4 and len(page["signals"]) == 1
    t1 = json.loads(cli("company", "Kestrel Commerce", "--team", "T1", "--json").output)
    assert {s["id"] for s in t1["signals"]}.isdisjoint(s["id"] for s in page["signals"])  # each its own signal
    refused = cli("company", "KC Logistics", "--team", "T2", code=1).output  # T1's alias is not T2's
    assert refused.startswith("briefbot: T2 knows no company called 'KC Logistics'"), refused


def test_an_unknown_company_says_so_and_suggests_close_names(engine: Engine, clock: Any, cli: Any) -> None:
    seed(engine, clock)
    refused = cli("company", "Kestral Comerce", "--team", "T1", code=1).output
    assert refused.count("\n") == 1, refused
    assert refused.startswith("briefbot: T1 knows no company called 'Kestral Comerce' (no job postings, hiring "
                              "signals or recent stories under that name or its aliases); close names it knows: "
                              "'Kestrel Commerce'"), refused
    assert "`briefbot companies list`" in refused
    nothing = cli("company", "Zyxw Corp", "--team", "T1", code=1).output
    assert "close names" not in nothing and "`briefbot companies list`" in nothing
    for bad, why in (("\u200b", "needs at least one letter or digit"), ("x" * 301, "at most 300 characters")):
        out = cli("company", bad, "--team", "T1", code=1).output
        assert out.startswith("briefbot: no company page for") and why in out and out.count("\n") == 1, out


def test_a_word_of_one_companys_name_shows_that_company(engine: Engine, clock: Any, cli: Any) -> None:
    """"kestrel" is a word of one company's name only, so its page is shown, saying so; a word two companies'
    names hold, or letters that are not a word, are only suggested."""
    seed(engine, clock)
    shown = cli("company", "kestrel", "--team", "T1").output
    assert shown.startswith("(no company called 'kestrel'; Kestrel Commerce is the one name here that holds it)\n\n"
                            "Kestrel Commerce (T1)\n"), shown
    assert json.loads(cli("company", "KESTREL", "--team", "T1", "--json").output)["instead_of"] == "KESTREL"
    assert "(no company called" not in cli("company", "Kestrel Commerce", "--team", "T1").output
    letters = cli("company", "Kest", "--team", "T1", code=1).output
    assert "knows no company called 'Kest'" in letters and "'Kestrel Commerce'" in letters, letters
    with session_scope(engine) as session:
        add_alias(session=session, team_id="T1", alias="Kestrel Air", canonical_name="Kestrel Air Cargo",
                  created_by="U1", now=clock())
    both = cli("company", "kestrel", "--team", "T1", code=1).output
    assert "knows no company called 'kestrel'" in both and "'Kestrel Commerce'" in both and "'Kestrel Air'" in both


# ---- /brief company in Slack ---------------------------------------------------------------------------------------


@pytest.fixture
def brief_command(web: str, slack: SlackServer) -> Any:
    """`ack, reply = brief_command("company X", team_id="T2")`: the ack's text and the reply to the response_url."""

    def run(text: str, *, reply: bool = True, **fields: Any) -> tuple[str, str | None]:
        name = f"cp{next(_hooks)}"
        body = command_body(text, response_url=slack.hook_url(name), **fields)
        started = time.monotonic()
        response = httpx.post(web + "/slack/events", content=body, headers=sign(SLACK_SECRET, body), timeout=10)
        assert response.status_code == 200 and time.monotonic() - started < 3.0, response.text
        ack = response.json()
        assert ack["response_type"] == "ephemeral"
        if not reply:
            return str(ack["text"]), None
        hook = wait_for(lambda: slack.hooks(name), timeout=10)[-1]
        assert hook["replace_original"] is True
        return str(ack["text"]), str(hook["text"])

    return run


def test_slack_company_page(slack_ctx: Any, clock: Any, brief_command: Any) -> None:
    seed(slack_ctx.engine, clock)
    story(slack_ctx.engine, "T1", "Kestrel Commerce <!channel> <http://evil.example|x> *bold*", ["x"],
          clock() - timedelta(days=3), outlet="Wire <@U123>")
    ack, reply = brief_command('company "KC Logistics"')
    assert ack == "Looking up `\"KC Logistics\"`…"
    assert reply is not None and reply.startswith("*Kestrel Commerce* (also KC Logistics)\n\n"), reply
    assert "*Open hiring signals (1):*\n• fulfillment and logistics in Seattle: 3 roles" in reply
    assert "*Open roles:* *4 open roles* in 2 functions" in reply
    assert "• *fulfillment and logistics · Seattle*: 3 open" in reply
    assert "|Port plans new fulfillment centre>" in reply and "|Logistics firm signs Kent lease>" in reply
    assert "Realty" not in reply
    assert "<!channel>" not in reply and "<http://evil" not in reply and "<@U123>" not in reply
    assert "Kestrel Commerce &lt;!channel&gt; &lt;http\u2060://evil.example|x&gt; ∗bold∗" in reply
    assert reply.endswith("*Aliases:* KC Logistics → Kestrel Commerce")
    assert len(reply) < 4000

    _, held = brief_command("company Kestrel")
    assert held is not None and held.startswith(
        "_No company called *Kestrel*; *Kestrel Commerce* is the one name here that holds it._\n\n"
        "*Kestrel Commerce* (also KC Logistics)\n\n"), held
    _, unknown = brief_command("company Kestral Comerce")
    assert unknown == ("This workspace has no company called *Kestral Comerce*: no job postings, hiring signals or "
                       "recent stories under that name or its aliases. Close names it knows: *Kestrel Commerce*. "
                       "`/brief alias` lists the aliases; `/brief list` this channel's follows.")
    _, other = brief_command("company KC Logistics", team_id="T2")
    assert other is not None and other.startswith("This workspace has no company called *KC Logistics*")
    _, t2 = brief_command("company Kestrel Commerce", team_id="T2")
    assert t2 is not None and "Opens Tacoma hub".lower() in t2.lower() and "Port plans" not in t2


def test_slack_company_usage_and_escaping(slack_ctx: Any, slack: SlackServer, brief_command: Any) -> None:
    from bot.slack.commands.parse import USAGE

    assert brief_command("company", reply=False)[0] == "Usage: " + USAGE["company"]
    assert brief_command('company "open', reply=False)[0] == "Usage: " + USAGE["company"]
    assert USAGE["company"] in brief_command("help", reply=False)[0]
    _, reply = brief_command("company &lt;!channel&gt; *Inc*")
    assert reply == ("This workspace has no company called *&lt;!channel&gt; ∗Inc∗*: no job postings, hiring "
                     "signals or recent stories under that name or its aliases. `/brief alias` lists the aliases; "
                     "`/brief list` this channel's follows.")
