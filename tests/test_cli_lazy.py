"""The lazy CLI: `briefbot --help` lists every command from bot.cli.COMMANDS without importing them, and that table
cannot drift from the commands themselves."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import click
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
