"""`briefbot config`: the effective settings, secrets masked."""

from __future__ import annotations

import click

from bot.cli.common import echo_json, json_option, load_settings


def register(group: click.Group) -> None:
    @group.command("config")
    @json_option
    def config(as_json: bool) -> None:
        """Print the effective settings (environment and .env), with secrets masked."""
        values = load_settings().masked()
        if as_json:
            echo_json(values)
            return
        width = max(len(k) for k in values)
        for key, value in values.items():
            click.echo(f"{key.ljust(width)}  {'' if value is None else value}")
