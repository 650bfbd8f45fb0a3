"""`briefbot sources add | list | remove | import | export`. Each subcommand is built when it is looked up
(`SourcesGroup`), with what its options need: `sources list`, run by hand and by scripts, starts without the
source kinds, the OPML code or the table models (it reads through `storage/source_health`, plain SQL)."""

from __future__ import annotations

from collections.abc import Callable

import click

from bot.cli.common import context, echo_json, json_option, owner_team_option, team_for_writing, team_option


class SourcesGroup(click.Group):
    """click's lazy group, one level down: a subcommand is added by its builder in `_BUILDERS` when it is
    looked up, to run or for `sources --help` (which lists them all, so builds them all)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *_BUILDERS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        build = _BUILDERS.get(cmd_name)
        if cmd_name not in self.commands and build is not None:
            build(self)
        return self.commands.get(cmd_name)


def register(group: click.Group) -> None:
    @group.group("sources", cls=SourcesGroup)
    def sources() -> None:
        """What briefbot watches."""


def _opml(sources: click.Group) -> None:
    from bot.cli import opml_cmd

    opml_cmd.register(sources)  # import | export


def _add(sources: click.Group) -> None:
    import asyncio

    from bot.cli.params import CHANNEL, SPEC
    from bot.core.routing import ALERT_POLICIES
    from bot.sources.base import SpecError
    from bot.sources.registry import ALIASES, KINDS

    kind_choices = sorted([*KINDS, *ALIASES])

    @sources.command("add")
    @click.argument("spec", type=SPEC)
    @click.option("--kind", type=click.Choice(kind_choices, case_sensitive=False), default=None,
                  help="Treat SPEC (a URL) as this kind, e.g. a job-board API endpoint at any host.")
    @click.option("--channel", type=CHANNEL, default=None, help="Slack channel id that follows the source.")
    @click.option("--alert", type=click.Choice(ALERT_POLICIES, case_sensitive=False), default=None,
                  help="How the channel hears the source's news: every story, only stories several outlets "
                       "carry, or only in its digest (default: stories for news: searches, every otherwise).")
    @owner_team_option
    @json_option
    def add(spec: str, kind: str | None, channel: str | None, alert: str | None, team: str | None,
            as_json: bool) -> None:
        """Follow SPEC: a feed or page URL, or kind:identifier (greenhouse:acme, news:"acme layoffs")."""
        from bot.ingest.add import Added, add_by_spec  # the HTTP client: only for the command that fetches

        ctx = context()
        team_id = team_for_writing(ctx, team)
        if alert is not None and channel is None:
            raise click.UsageError("--alert needs --channel: it is how that channel hears the source's news")
        alert = alert.lower() if alert else None

        async def run() -> Added:
            fetcher = ctx.fetcher()
            try:
                return await add_by_spec(spec=spec, kind=kind, team_id=team_id,
                                         channel_id=channel, settings=ctx.settings, engine=ctx.engine,
                                         fetcher=fetcher, clock=ctx.clock, alert=alert)
            finally:
                await fetcher.aclose()

        try:
            added = asyncio.run(run())
        except SpecError as exc:
            raise click.ClickException(str(exc)) from exc
        s = added.source
        if as_json:
            echo_json({"id": s.id, "kind": s.kind, "locator": s.locator, "title": s.title, "created": added.created,
                       "team_id": s.team_id, "channel": channel,
                       "alert": added.alert})
            return
        verb = "added" if added.created else "already followed:"
        followed = f", followed in {channel} (alerts: {added.alert})" if channel else ""
        click.echo(f"{verb} source {s.id}: {s.kind} {s.locator}" + (f" ({s.title})" if s.title else "")
                   + f" [{added.how}]" + followed)


def _list(sources: click.Group) -> None:
    @sources.command("list")
    @team_option
    @json_option
    def list_(team: str | None, as_json: bool) -> None:
        """Every source with its health: last success, last error and why, next poll, item count."""
        from bot.slack.unpostable import find_unpostable, lazy_tokens
        from bot.storage.source_health import list_source_health

        ctx = context()
        with ctx.engine.connect() as connection:
            health = list_source_health(connection, team)
        # Follows no token of briefbot's can post (another workspace's, or none): said, not left to wait silently.
        unpostable = {u.team_id: u for u in find_unpostable(
            engine=ctx.engine, tokens=lazy_tokens(ctx.settings, ctx.engine), team_id=team)}
        if as_json:
            echo_json([h.as_dict() | {"unpostable": unpostable[h.source.team_id].reason
                                      if h.channels and h.source.team_id in unpostable else None} for h in health])
            return
        if not health:
            click.echo("no sources yet; add one with: briefbot sources add URL")
            return
        from bot.core.normalize import source_label  # lxml, for the rows' names: only when there are rows
        from bot.terminal import ago, due, short, table

        now = ctx.clock()
        rows = []
        for h in health:
            s, d = h.source, h.as_dict()
            error = f"{s.last_error_kind}: {s.last_error}" if s.failures and s.last_error else ""
            rows.append([s.id, s.kind, short(source_label(s.title, s.spec), 32), d["status"], h.item_count,
                         ago(s.last_success_at, now), due(s.next_due_at, now), short(error, 70)])
        click.echo(table(rows, ["id", "kind", "source", "status", "items", "last ok", "next poll", "last error"]))
        for h in health:  # what the last poll noted: items skipped or refused, a lenient parse
            if h.source.last_notes:
                click.echo(f"note: source {h.source.id}: {short(h.source.last_notes, 300)}")
        for problem in unpostable.values():
            click.echo(f"warning: {problem.describe()}")


def _remove(sources: click.Group) -> None:
    from bot.cli.params import SOURCE_ID
    from bot.storage.db import session_scope
    from bot.storage.sources import get_source, remove_source

    @sources.command("remove")
    @click.argument("source_id", type=SOURCE_ID)
    @team_option
    def remove(source_id: int, team: str | None) -> None:
        """Stop following a source. Its items stay in the history."""
        ctx = context()
        with session_scope(ctx.engine) as session:
            source = get_source(session=session, source_id=source_id, team_id=team)
            if source is None:
                raise click.ClickException(f"no source with id {source_id}")
            remove_source(session=session, source=source, now=ctx.clock())
        click.echo(f"removed source {source_id}; its items stay in the history")


_BUILDERS: dict[str, Callable[[click.Group], None]] = {
    "add": _add, "list": _list, "remove": _remove, "import": _opml, "export": _opml}
