"""`briefbot signals`: hiring signals found in the stored job postings."""

from __future__ import annotations

import click

from bot.cli.common import context, echo_json, json_option, parse_since, team_option
from bot.core.jobs import family_labels
from bot.storage.db import session_scope
from bot.storage.signals import list_signals, signal_as_dict, signal_items
from bot.terminal import short, table


def register(group: click.Group) -> None:
    @group.command("signals")
    @click.option("--since", default=None, help="Only signals updated since (ISO time or 12h, 7d).")
    @click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
    @team_option
    @json_option
    def signals(since: str | None, limit: int, team: str | None, as_json: bool) -> None:
        """Hiring signals: a company's burst of new postings in one function and metro."""
        ctx = context()
        with session_scope(ctx.engine) as session:
            found = list_signals(session=session, team_id=team, since=parse_since(since, ctx.clock()), limit=limit)
            items = signal_items(session=session, signal_ids=[s.id for s in found if s.id is not None])
        if as_json:
            echo_json([signal_as_dict(s, items.get(s.id or 0, [])) for s in found])
            return
        if not found:
            click.echo("no hiring signals yet")
            return
        labels = family_labels()
        rows = [[s.id, short(s.company, 24), labels.get(s.family, s.family), short(s.metro, 24), s.item_count,
                 s.reason.replace("_", " "), s.status, s.last_at.strftime("%Y-%m-%d")] for s in found]
        click.echo(table(rows, ["id", "company", "function", "metro", "roles", "why", "status", "latest"]))
