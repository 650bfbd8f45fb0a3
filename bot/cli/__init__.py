"""`briefbot` command line: admin commands that work with no Slack at all."""

from __future__ import annotations

import click

from bot import __version__
from bot.cli import (
    ask_cmd,
    briefs_cmd,
    config_cmd,
    db_cmd,
    demo_cmd,
    items_cmd,
    poll_cmd,
    signals_cmd,
    slack_cmd,
    sources_cmd,
    stories_cmd,
    worker_cmd,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="briefbot")
def main() -> None:
    """briefbot: market signals from news and job sources, briefed into Slack."""


for module in (ask_cmd, briefs_cmd, config_cmd, db_cmd, demo_cmd, items_cmd, poll_cmd, signals_cmd, slack_cmd,
               sources_cmd, stories_cmd, worker_cmd):
    module.register(main)
