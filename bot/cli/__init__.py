"""`briefbot` command line: admin commands that work with no Slack at all.

Each command lives in its own module with a `register(group)`. Importing those modules is what costs (the
OpenAI, Slack and database libraries behind them), so `main` imports only the one for the command being run:
`COMMANDS` names each command's module and its short help for `briefbot --help` (tests/test_cli_lazy.py
checks it against the commands themselves)."""

from __future__ import annotations

import importlib
from typing import NamedTuple

import click

from bot import __version__
from bot.cli.boundary import BriefbotGroup, debug_option


class Lazy(NamedTuple):
    module: str  # in bot.cli; its register(group) adds the command
    short_help: str  # the first sentence of the command's docstring, as click shortens it for the listing


COMMANDS: dict[str, Lazy] = {
    "ask": Lazy("ask_cmd", "Answer QUESTION from the stored briefs and items of one workspace, citing them."),
    "briefs": Lazy("briefs_cmd", "Briefs on stories and hiring signals, with the items they stand on."),
    "companies": Lazy(
        "companies_cmd",
        "Company names: legal suffixes, case and punctuation are ignored; aliases make several names one.",
    ),
    "company": Lazy(
        "company_cmd",
        "One company's page: names and aliases, open signals, open roles by function and "
        "metro with the weekly trend, and the last 30 days' stories about it.",
    ),
    "config": Lazy("config_cmd", "Print the effective settings (environment and .env), with secrets masked."),
    "db": Lazy("db_cmd", "Database migrations."),
    "demo": Lazy(
        "demo_cmd", "Serve sample news feeds and job boards locally, follow them, poll twice, print what was stored."
    ),
    "items": Lazy("items_cmd", "Stored items, newest first (by the date shown: published, else first seen)."),
    "poll": Lazy("poll_cmd", "Poll the sources that are due, once."),
    "run": Lazy(
        "slack_cmd",
        "Socket Mode: the Slack app and the scheduler in one process; no public URL needed (one workspace).",
    ),
    "serve": Lazy("slack_cmd", "HTTP mode for Slack (events, commands, buttons, OAuth install) under uvicorn."),
    "signals": Lazy("signals_cmd", "Hiring signals: a company's burst of new postings in one function and metro."),
    "sources": Lazy("sources_cmd", "What briefbot watches."),
    "status": Lazy(
        "status_cmd",
        "Database, brief writer, Slack, source health and the outbox; warns about follows nothing can post.",
    ),
    "stories": Lazy("stories_cmd", "Stories: reports of one event from several sources and outlets."),
    "worker": Lazy(
        "worker_cmd", "Run the scheduler: poll due sources every BRIEFBOT_SCHEDULER_TICK seconds until stopped."
    ),
    "workspaces": Lazy(
        "workspaces_cmd",
        "The workspaces briefbot knows and their daily LLM token budgets "
        "(BRIEFBOT_DAILY_TOKEN_BUDGET each, unless a workspace has its own).",
    ),
}


class LazyGroup(BriefbotGroup):
    """click's documented lazy group: the commands of `COMMANDS` are listed from the table and imported when
    one of them is looked up to run (or to show its own help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = COMMANDS.get(cmd_name)
        if cmd_name not in self.commands and lazy is not None:
            importlib.import_module(f"bot.cli.{lazy.module}").register(self)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's listing, with the short help of a command not imported yet taken from `COMMANDS`."""
        shown = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name) or click.Command(name, help=COMMANDS[name].short_help)
            if not command.hidden:
                shown.append((name, command))
        if not shown:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in shown)
        with formatter.section("Commands"):
            formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in shown])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="briefbot")
@debug_option
def main() -> None:
    """briefbot: market signals from news and job sources, briefed into Slack. A failure ends as one line on
    stderr and a non-zero exit; --debug (or BRIEFBOT_DEBUG=1) adds its traceback."""
