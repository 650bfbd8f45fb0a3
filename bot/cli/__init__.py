"""`briefbot` command line: admin commands that work with no Slack at all."""

from __future__ import annotations

import click

from bot import __version__
from bot.cli import (
    ask_cmd,
    briefs_cmd,
    companies_cmd,
    company_cmd,
    config_cmd,
    db_cmd,
    demo_cmd,
    items_cmd,
    poll_cmd,
    signals_cmd,
    slack_cmd,
    sources_cmd,
    status_cmd,
    stories_cmd,
    worker_cmd,
    workspaces_cmd,
)
from bot.cli.boundary import BriefbotGroup, debug_option


@click.group(cls=BriefbotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="briefbot")
@debug_option
def main() -> None:
    """briefbot: market signals from news and job sources, briefed into Slack. A failure ends as one line on
    stderr and a non-zero exit; --debug (or BRIEFBOT_DEBUG=1) adds its traceback."""


for module in (ask_cmd, briefs_cmd, companies_cmd, company_cmd, config_cmd, db_cmd, demo_cmd, items_cmd, poll_cmd,
               signals_cmd, slack_cmd, sources_cmd, status_cmd, stories_cmd, worker_cmd,
               workspaces_cmd):
    module.register(main)
