"""`briefbot items`: the stored history, newest first."""

from __future__ import annotations

import click

from bot.cli.common import context, echo_json, json_option, parse_since, team_option
from bot.cli.params import SOURCE_ID
from bot.core.lifecycle import Lifecycle, lifecycle_short
from bot.storage.db import session_scope
from bot.storage.items import item_as_dict, list_items, sources_of
from bot.storage.lifecycle import lifecycles
from bot.storage.signals import signals_of
from bot.terminal import short, table


def register(group: click.Group) -> None:
    @group.command("items")
    @click.option("--source", "source_id", type=SOURCE_ID, default=None, help="Only items this source has seen.")
    @click.option("--since", default=None, help="ISO time, a span back from now (12h, 7d), today or yesterday.")
    @click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
    @team_option
    @json_option
    def items(source_id: int | None, since: str | None, limit: int, team: str | None, as_json: bool) -> None:
        """Stored items, newest first (by the date shown: published, else first seen)."""
        ctx = context()
        with session_scope(ctx.engine) as session:
            found = list_items(session=session, team_id=team, source_id=source_id,
                               since=parse_since(since, ctx.clock()), limit=limit)
            ids = [i.id for i in found if i.id is not None]
            seen_in = sources_of(session=session, item_ids=ids)
            in_signals = signals_of(session=session, item_ids=ids)
            lives: dict[int, Lifecycle] = {}
            for team_id in {i.team_id for i in found if i.kind == "job"}:
                lives |= lifecycles(session=session, team_id=team_id,
                                    item_ids=[i.id for i in found if i.id is not None and i.team_id == team_id])
        now = ctx.clock()
        if as_json:
            echo_json([item_as_dict(i, seen_in.get(i.id or 0), now) | {"signal_ids": in_signals.get(i.id or 0, [])}
                       for i in found])
            return
        if not found:
            with session_scope(ctx.engine) as session:
                stored = bool(list_items(session=session, limit=1))
            if stored and (since or source_id or team):
                where = " ".join(filter(None, [f"from source {source_id}" if source_id else "",
                                               f"in workspace {team}" if team else "",
                                               f"first seen since {since}" if since else ""]))
                click.echo(f"no items {where} (without filters, briefbot items lists everything stored)")
            else:
                click.echo("no items yet; run: briefbot poll")
            return
        rows = []
        for i in found:
            when = (i.published_at or i.first_seen_at).strftime("%Y-%m-%d %H:%M")
            where = ", ".join(filter(None, [(loc.get("city") or loc.get("country") or ("remote" if loc.get("remote")
                              else "")) for loc in i.locations][:2]))
            life = lives.get(i.id or 0)
            rows.append([i.id, i.kind, when, short(i.outlet, 22), short(i.title, 60), short(where, 24),
                         ",".join(str(s) for s in seen_in.get(i.id or 0, [i.source_id])),
                         lifecycle_short(life, now) if life else ""])
        click.echo(table(rows, ["id", "kind", "published", "outlet/company", "title", "where", "sources", "open"]))
