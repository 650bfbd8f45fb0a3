"""The lazy CLI: `briefbot --help` lists every command from bot.cli.COMMANDS without importing them, and that table
cannot drift from the commands themselves."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

import bot.cli
from bot.cli import COMMANDS, main

CLI_DIR = Path(bot.cli.__file__).parent
HEAVY = ("openai", "slack_bolt", "slack_sdk", "apscheduler", "httpx", "sqlalchemy", "sqlmodel", "alembic")


def real_commands() -> dict[str, tuple[str, click.Command]]:
    """Every top-level command, as each *_cmd module's register() adds it to a group of its own."""
    found: dict[str, tuple[str, click.Command]] = {}
    for path in sorted(CLI_DIR.glob("*_cmd.py")):
        if path.stem == "opml_cmd":  # `sources import | export`: registered by sources_cmd under `sources`
            continue
        group = click.Group()
        importlib.import_module(f"bot.cli.{path.stem}").register(group)
        for name, command in group.commands.items():
            assert name not in found, f"{name} registered by {found[name][0]} and {path.stem}"
            found[name] = (path.stem, command)
    return found


def test_the_table_names_every_command_its_module_and_its_short_help() -> None:
    real = real_commands()
    assert sorted(COMMANDS) == sorted(real)
    for name, (module, command) in real.items():
        assert COMMANDS[name].module == module, name
        assert COMMANDS[name].short_help == command.get_short_help_str(limit=10_000), name
        assert not command.hidden, name


def test_help_lists_every_command_as_the_commands_themselves_would() -> None:
    eager = click.Group("briefbot")
    for _module, command in real_commands().values():
        eager.add_command(command)
    listing = CliRunner().invoke(main, ["--help"], terminal_width=100)
    assert listing.exit_code == 0, listing.output
    commands = listing.output.split("Commands:\n", 1)[1]
    expected = CliRunner().invoke(eager, ["--help"], terminal_width=100).output.split("Commands:\n", 1)[1]
    assert commands == expected
    assert [line.split()[0] for line in commands.splitlines()] == sorted(COMMANDS)


def test_a_command_is_imported_only_when_it_runs() -> None:
    """In a fresh interpreter: importing bot.cli and printing the help load none of the heavy libraries; running
    `sources --help` loads sources_cmd and no other command's module."""
    script = f"""
import json, sys
from click.testing import CliRunner
import bot.cli
heavy = {HEAVY!r}
after_import = [m for m in heavy if m in sys.modules]
help = CliRunner().invoke(bot.cli.main, ["--help"])
after_help = [m for m in heavy if m in sys.modules]
sources = CliRunner().invoke(bot.cli.main, ["sources", "--help"])
commands = sorted(m.rpartition(".")[2] for m in sys.modules if m.startswith("bot.cli.") and m.endswith("_cmd"))
print(json.dumps({{"after_import": after_import, "after_help": after_help, "codes": [help.exit_code, sources.exit_code],
                  "commands": commands, "openai": "openai" in sys.modules, "bolt": "slack_bolt" in sys.modules}}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    seen = json.loads(done.stdout)
    assert seen["codes"] == [0, 0]
    assert seen["after_import"] == [] and seen["after_help"] == []
    assert seen["commands"] == ["opml_cmd", "sources_cmd"]
    assert not seen["openai"] and not seen["bolt"]  # `sources` talks to neither the LLM nor Slack's app framework


def test_the_deferred_team_type_reads_as_the_one_it_stands_for() -> None:
    from bot.cli import common, params

    assert common.TEAM.name == params.TEAM.name
    assert common.TEAM.convert("T0123ABCD", None, None) == "T0123ABCD"
    too_long = "T" * (params.TEAM.max_length + 1)
    for bad in ("T1;DROP", too_long):
        with pytest.raises(click.BadParameter) as deferred:
            common.TEAM.convert(bad, None, None)
        with pytest.raises(click.BadParameter) as direct:
            params.TEAM.convert(bad, None, None)
        assert deferred.value.message == direct.value.message


def test_sources_list_loads_no_table_models_and_slack_only_to_check_a_follow(tmp_path: Path) -> None:
    """`sources list` in a fresh interpreter: on a migrated database without follows it imports neither the table
    models, nor the source kinds, nor the OPML command, nor slack_sdk; once a channel follows a source, slack_sdk
    is loaded for the token check (and the warning printed)."""
    script = """
import json, sys
from click.testing import CliRunner
import bot.cli
result = CliRunner().invoke(bot.cli.main, ["sources", "list"])
print(json.dumps({"code": result.exit_code, "output": result.output,
                  "loaded": [m for m in ("bot.storage.models", "bot.sources.registry", "bot.cli.opml_cmd", "slack_sdk")
                   if m in sys.modules]}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BRIEFBOT_", "DATABASE_URL"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"

    def run() -> dict[str, Any]:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env,
                              cwd=tmp_path)
        seen: dict[str, Any] = json.loads(done.stdout)
        assert seen["code"] == 0, seen["output"]
        return seen

    first = run()  # creates and migrates the database: Alembic and the models, as every command's first run
    assert "bot.storage.models" in first["loaded"]
    empty = run()
    assert empty["output"] == "no sources yet; add one with: briefbot sources add URL\n"
    assert empty["loaded"] == []

    from bot.settings import Settings
    from bot.storage.db import build_engine, session_scope
    from bot.storage.sources import add_source, ensure_workspace, subscribe

    engine = build_engine(Settings(database_url=env["DATABASE_URL"], _env_file=None))  # type: ignore[call-arg]
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        ensure_workspace(session=session, team_id="T1", now=now)
        source, _ = add_source(session=session, team_id="T1", kind="feed", spec="https://example.com/feed",
                               locator="https://example.com/feed", title="", now=now)
        subscribe(session=session, team_id="T1", channel_id="C1", source_id=source.id or 0, now=now)
    engine.dispose()
    followed = run()
    assert "warning: nothing can be posted to workspace T1 (channel C1): no Slack token is set" in followed["output"]
    assert followed["loaded"] == ["slack_sdk"]  # for the token check
