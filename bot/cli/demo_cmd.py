"""`briefbot demo`: the whole pipeline offline, on bundled sample sources served from 127.0.0.1."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    @group.command("demo")
    @click.option("--db", "db_path", default="data/demo.db", show_default=True,
                  help="SQLite file to create afresh for the demo.")
    def demo(db_path: str) -> None:
        """Serve sample news feeds and job boards locally, follow them, poll twice, print what was stored."""
        click.echo("briefbot demo: starting (offline; loading the pipeline takes a few seconds)…")
        from bot.demo.run import run_demo

        run_demo(db_path=db_path, echo=click.echo)
