"""`briefbot briefs`: the briefs written so far, newest first."""

from __future__ import annotations

import click

from bot.cli.common import context, echo_json, json_option, none_since, parse_since, team_option
from bot.storage.briefs import brief_as_dict, list_briefs
from bot.storage.db import session_scope
from bot.terminal import format_brief


def register(group: click.Group) -> None:
    @group.command("briefs")
    @click.option("--since", default=None, help="Only briefs written since (ISO time, 12h, 7d, today or yesterday).")
    @click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
    @team_option
    @json_option
    def briefs(since: str | None, limit: int, team: str | None, as_json: bool) -> None:
        """Briefs on stories and hiring signals, with the items they stand on."""
        ctx = context()
        with session_scope(ctx.engine) as session:
            found = list_briefs(session=session, team_id=team, since=parse_since(since, ctx.clock()), limit=limit)
            any_at_all = bool(found) or bool(list_briefs(session=session, team_id=team, limit=1))
        if as_json:
            echo_json([brief_as_dict(b) for b in found])
            return
        if not found:
            click.echo(none_since("briefs", since, any_at_all,
                                  "they are written after polls find stories and hiring signals"))
            return
        for brief in found:
            click.echo(format_brief(brief_as_dict(brief)))

