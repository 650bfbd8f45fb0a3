"""`briefbot stories`: the same event across sources and outlets, grouped."""

from __future__ import annotations

import click

from bot.cli.common import context, echo_json, json_option, none_since, parse_since, team_option
from bot.storage.db import session_scope
from bot.storage.stories import list_stories, story_as_dict, story_items
from bot.terminal import short, table


def register(group: click.Group) -> None:
    @group.command("stories")
    @click.option("--since", default=None, help="Only stories reported since (ISO time, 12h, 7d, today or yesterday).")
    @click.option("--min-items", type=click.IntRange(1, 10_000), default=2, show_default=True,
                  help="Hide stories with fewer items (single reports are stories of one).")
    @click.option("--limit", type=click.IntRange(1, 10_000), default=30, show_default=True)
    @team_option
    @json_option
    def stories(since: str | None, min_items: int, limit: int, team: str | None, as_json: bool) -> None:
        """Stories: reports of one event from several sources and outlets."""
        ctx = context()
        with session_scope(ctx.engine) as session:
            found = list_stories(session=session, team_id=team, since=parse_since(since, ctx.clock()),
                                 min_items=min_items, limit=limit)
            members = story_items(session=session, story_ids=[s.id for s in found if s.id is not None])
            any_at_all = bool(found) or bool(list_stories(session=session, team_id=team, min_items=min_items,
                                                          limit=1))
        if as_json:
            echo_json([story_as_dict(s, members.get(s.id or 0, [])) for s in found])
            return
        if not found:
            what = f"stories with {min_items}+ items" if min_items > 1 else "stories"
            click.echo(none_since(what, since, any_at_all, "try --min-items 1" if min_items > 1
                                  else "they are made when polls find news"))
            return
        rows = [[s.id, short(s.headline, 64), s.item_count, len(s.outlets), short(", ".join(s.outlets), 40),
                 s.last_at.strftime("%Y-%m-%d %H:%M")] for s in found]
        click.echo(table(rows, ["id", "headline", "items", "outlets", "outlet names", "latest"]))
