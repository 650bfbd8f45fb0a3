"""Company aliases through their commands: `briefbot companies alias | unalias | list` (in-process, on the test's
database) and `/brief alias | unalias` through the real served Bolt app (signed requests, replies read from the
recording Slack's response_urls). Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlmodel import Session, select

from bot.cli import main
from bot.core.companies import NAME_MAX, builtin_aliases, resolve
from bot.slack.commands.parse import USAGE, company_names, one_name, parse
from bot.storage.companies import alias_map
from bot.storage.models import CompanyAlias
from tests.conftest import SLACK_SECRET, wait_for
from tests.slack_requests import command_body, sign
from tests.slack_server import SlackServer

_hooks = itertools.count(1)


# ---- the CLI ------------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)  # no stray .env
    env = {"DATABASE_URL": db_url}

    def run(*args: str, code: int = 0) -> Result:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return run


def test_cli_aliases_names_lists_and_unaliases(cli: Any) -> None:
    assert cli("companies", "alias", "ByteDance Ltd.", "TikTok Inc.").output == (
        '"ByteDance Ltd." is now another name of "TikTok Inc." in T_LOCAL\n')
    assert cli("companies", "alias", "BYTEDANCE", "tiktok").output == (
        '"ByteDance Ltd." already stands for "TikTok Inc." in T_LOCAL\n')
    assert cli("companies", "alias", "Musical.ly", "ByteDance", "--team", "T1").output == (
        '"Musical.ly" is now another name of "ByteDance" in T1\n')  # T1 has no ByteDance alias
    chained = json.loads(cli("companies", "alias", "Lark", "ByteDance", "--json").output)
    assert (chained["outcome"], chained["canonical_key"], chained["resolves_to"], chained["resolves_to_name"]) == (
        "added", "bytedance", "tiktok", "TikTok Inc.")
    assert cli("companies", "alias", "Lark", "Feishu").output == (
        '"Lark" now stands for "Feishu" in T_LOCAL (it stood for "ByteDance")\n')

    listed = json.loads(cli("companies", "list", "--team", "T_LOCAL", "--json").output)
    own = sorted((e["alias"], e["canonical"], e["resolves_to"]) for e in listed if e["origin"] == "workspace")
    assert own == [("ByteDance Ltd.", "TikTok Inc.", "tiktok"), ("Lark", "Feishu", "feishu")]
    assert {e["alias"] for e in listed if e["origin"] == "built-in"} == {a.alias for a in builtin_aliases()}
    everyone = json.loads(cli("companies", "list", "--json").output)
    assert sorted(e["team_id"] for e in everyone if e["origin"] == "workspace") == ["T1", "T_LOCAL", "T_LOCAL"]
    table = cli("companies", "list", "--team", "T_LOCAL").output
    assert "ByteDance Ltd." in table and "Alphabet" in table and "built-in" in table

    assert cli("companies", "unalias", "bytedance, inc.").output == (
        '"ByteDance Ltd." no longer stands for "TikTok Inc." in T_LOCAL\n')
    assert [e["alias"] for e in json.loads(cli("companies", "list", "--team", "T_LOCAL", "--json").output)
            if e["origin"] == "workspace"] == ["Lark"]


@pytest.mark.parametrize(("args", "message"), [
    (["companies", "alias", "TikTok Inc", "tiktok"], 'one company already: both read as "tiktok"'),
    (["companies", "alias", "Google", "Alphabet"], "through a built-in alias), so this alias would go round"),
    (["companies", "alias", "\u200b", "TikTok"], "the alias needs at least one letter or digit"),
    (["companies", "alias", "x" * (NAME_MAX + 1), "TikTok"], f"at most {NAME_MAX} characters; that one has 301"),
    (["companies", "unalias", "Facebook"], '"Facebook" → "Meta" is a built-in alias, not T_LOCAL\'s'),
    (["companies", "unalias", "Nobody"], 'T_LOCAL has no alias "Nobody" (see: briefbot companies list)'),
    (["companies", "unalias", "\x00"], "needs at least one letter or digit"),
])
def test_cli_refusals_are_one_line_and_save_nothing(cli: Any, args: list[str], message: str) -> None:
    result = cli(*args, code=1)
    assert result.output.startswith("briefbot: ") and result.output.count("\n") == 1, result.output
    assert message in result.output, result.output
    assert [e for e in json.loads(cli("companies", "list", "--json").output) if e["origin"] == "workspace"] == []


def test_cli_circles_are_refused_with_the_way_round(cli: Any) -> None:
    cli("companies", "alias", "A Corp", "B Corp")
    cli("companies", "alias", "B", "C")
    result = cli("companies", "alias", "C", "A", code=1)
    assert '"A" already stands for "C" (a → b → c)' in result.output and "remove the other alias first" in result.output


def test_cli_usage_errors_name_the_command(cli: Any) -> None:
    result = cli("companies", "alias", "ByteDance", code=2)
    assert result.output.startswith("briefbot: companies alias: Missing argument 'COMPANY'"), result.output


# ---- /brief alias parsing (pure) -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("arg", "names"), [
    ('"ByteDance" "TikTok"', ["ByteDance", "TikTok"]),
    ("ByteDance TikTok", ["ByteDance", "TikTok"]),
    ('"Meta Platforms, Inc." Meta', ["Meta Platforms, Inc.", "Meta"]),
    ("“Meta Platforms” “Meta”", ["Meta Platforms", "Meta"]),  # Slack's editor may curl the quotes
    ('"  spaced   out " x', ["spaced out", "x"]),
    ('"AT&T"', ["AT&T"]),
    ('"open', None),
    ('"" x', None),
    ("", []),
])
def test_company_names(arg: str, names: list[str] | None) -> None:
    assert company_names(arg) == names


@pytest.mark.parametrize(("arg", "name"), [
    ("Meta Platforms", "Meta Platforms"), ('"Meta Platforms"', "Meta Platforms"), ("“Meta”", "Meta"),
    ('"a" "b"', ""), ('"open', ""), ("", ""),  # two names are not one
])
def test_one_name(arg: str, name: str) -> None:
    assert one_name(arg) == name


@pytest.mark.parametrize("text", ['alias "ByteDance"', "alias a b c", 'alias "open', 'alias "" x', "unalias",
                                  'unalias "open', "alias " + "x " * 300])
def test_wrong_alias_usage_gets_a_usage_line(text: str) -> None:
    parsed = parse(text)
    assert not hasattr(parsed, "name"), parsed
    assert USAGE[text.split()[0]] in parsed.text  # type: ignore[union-attr]


# ---- /brief alias in Slack -----------------------------------------------------------------------------------------


@pytest.fixture
def brief(web: str, slack: SlackServer) -> Any:
    """`ack, reply = brief('alias "A" "B"', team_id="T2")`: the ack's text and the reply posted to the
    response_url (None when the ack is the whole answer)."""

    def run(text: str, *, reply: bool = True, **fields: Any) -> tuple[str, str | None]:
        name = f"co{next(_hooks)}"
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


def aliases(engine: Any, team_id: str = "T1") -> dict[str, str]:
    with Session(engine) as session:
        return alias_map(session=session, team_id=team_id)


def test_slack_alias_lists_and_unalias(slack_ctx: Any, brief: Any) -> None:
    engine = slack_ctx.engine
    ack, reply = brief('alias "ByteDance Ltd." "TikTok"')
    assert ack == "Looking at company aliases…"
    assert reply == "*ByteDance Ltd.* is now another name of *TikTok* in this workspace."
    with Session(engine) as session:
        row = session.exec(select(CompanyAlias)).one()
    assert (row.team_id, row.alias_key, row.canonical_key, row.created_by) == ("T1", "bytedance", "tiktok", "U1")

    assert brief("alias bytedance tiktok")[1] == "*ByteDance Ltd.* already stands for *TikTok* in this workspace."
    assert brief("alias “Musical.ly Inc” “ByteDance”")[1] == (
        "*Musical.ly Inc* is now another name of *ByteDance* in this workspace. *ByteDance* is itself another name "
        "of *TikTok*.")
    assert resolve("Musical.ly", aliases(engine)) == "tiktok"

    _, listing = brief("alias")
    assert listing is not None
    assert "*This workspace's aliases*\n• Musical.ly Inc → ByteDance\n• ByteDance Ltd. → TikTok" in listing, listing
    assert "*Built in:* " in listing and "Alphabet → Google" in listing

    _, refused = brief("alias TikTok ByteDance")
    assert refused == ('Couldn\'t make *TikTok* another name of *ByteDance*: "ByteDance" already stands for "TikTok" '
                       "(bytedance → tiktok), so this alias would go round in a circle; remove the other alias first.")

    assert brief("unalias ByteDance Inc")[1] == "*ByteDance Ltd.* no longer stands for *TikTok* in this workspace."
    assert brief("unalias ByteDance")[1] == "This workspace has no alias `ByteDance`. `/brief alias` lists them."
    assert brief('unalias "Facebook"')[1] == (
        "*Facebook* → *Meta* is built into briefbot; to replace it here, alias *Facebook* to another company.")
    assert aliases(engine) == aliases(engine, "T_OTHER") | {"musical ly": "bytedance"}


def test_slack_aliases_stay_in_their_workspace(slack_ctx: Any, brief: Any) -> None:
    brief('alias "ByteDance" "TikTok"')
    _, other = brief("alias", team_id="T2")
    assert other is not None and "no aliases of its own yet" in other and "• " not in other
    assert brief("unalias ByteDance", team_id="T2")[1] == (
        "This workspace has no alias `ByteDance`. `/brief alias` lists them.")
    assert brief('alias "TikTok" "ByteDance"', team_id="T2")[1] == (
        "*TikTok* is now another name of *ByteDance* in this workspace.")
    assert resolve("TikTok", aliases(slack_ctx.engine, "T1")) == "tiktok"
    assert resolve("ByteDance", aliases(slack_ctx.engine, "T2")) == "bytedance"


def test_slack_wrong_usage_is_answered_in_the_ack_and_names_are_escaped(
        slack_ctx: Any, slack: SlackServer, brief: Any) -> None:
    assert brief('alias "ByteDance"', reply=False)[0] == "Usage: " + USAGE["alias"]
    assert brief("unalias", reply=False)[0] == "Usage: " + USAGE["unalias"]
    help_text = brief("help", reply=False)[0]
    assert USAGE["alias"] in help_text and USAGE["unalias"] in help_text
    time.sleep(0.3)
    assert slack.hooks() == []  # nothing ran after those acks
    # Slack sends <, > and & escaped; they are read as typed and escaped again in the reply.
    _, reply = brief('alias "&lt;!channel&gt; Inc" "AT&amp;T"')
    assert reply == "*&lt;!channel&gt; Inc* is now another name of *AT&amp;T* in this workspace."
    assert aliases(slack_ctx.engine)["channel"] == "at and t"
