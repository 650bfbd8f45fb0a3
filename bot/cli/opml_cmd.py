"""`briefbot sources import FILE.opml` and `briefbot sources export`: OPML in and out (bot/ingest/opml)."""

from __future__ import annotations

import asyncio
from typing import BinaryIO

import click

from bot.cli.common import context, echo_json, json_option, owner_team_option, team_for_writing
from bot.cli.params import CHANNEL
from bot.core.normalize import redact_url
from bot.core.opml import MAX_BYTES, OpmlError, parse_opml, write_opml
from bot.core.routing import ALERT_POLICIES
from bot.storage.channels import channel_follows
from bot.storage.db import session_scope
from bot.storage.sources import list_sources


def register(sources: click.Group) -> None:
    @sources.command("import")
    @click.argument("file", type=click.File("rb"))
    @click.option("--channel", type=CHANNEL, default=None, help="Slack channel id that follows every feed.")
    @click.option("--alert", type=click.Choice(ALERT_POLICIES, case_sensitive=False), default=None,
                  help="How the channel hears the feeds' news (as for `sources add`).")
    @owner_team_option
    @json_option
    def import_(file: BinaryIO, channel: str | None, alert: str | None, team: str | None, as_json: bool) -> None:
        """Follow every feed an OPML file lists (FILE, or - for stdin). Each feed is added, found already followed,
        or refused with its reason, one line each; a refused feed never stops the rest, and importing the same
        file again adds nothing new. Outlines with type="rss" are added without being fetched (their address is
        checked by the SSRF guard); outlines without a type are fetched once to learn what they are."""
        from bot.ingest.opml import OUTCOMES, REFUSED, ImportSummary, import_opml  # the HTTP client: only here

        ctx = context()
        if alert is not None and channel is None:
            raise click.UsageError("--alert needs --channel: it is how that channel hears the feeds' news")
        data = file.read(MAX_BYTES + 1)
        try:
            opml = parse_opml(data)
        except OpmlError as exc:
            raise click.ClickException(f"cannot read {file.name} as OPML: {exc}") from exc
        team_id = team_for_writing(ctx, team)

        async def run() -> ImportSummary:
            fetcher = ctx.fetcher()
            try:
                return await import_opml(opml=opml, team_id=team_id, channel_id=channel,
                                         alert=alert.lower() if alert else None, settings=ctx.settings,
                                         engine=ctx.engine, fetcher=fetcher, clock=ctx.clock)
            finally:
                await fetcher.aclose()

        summary = asyncio.run(run())
        if as_json:
            echo_json({"team_id": team_id, "channel": channel,
                       **{outcome.replace(" ", "_"): len(summary.of(outcome)) for outcome in OUTCOMES},
                       "lines": [line.as_dict() for line in summary.lines]})
            return
        where = f" in {channel}" if channel else ""
        click.echo(f"imported {file.name} into {team_id}{where}: {summary.counts()}")
        for line in summary.lines:
            detail = f": {line.reason}" if line.outcome == REFUSED else f" (source {line.source_id}, {line.kind})"
            url = f" <{redact_url(line.url)}>" if line.url and line.title else ""
            click.echo(f"{line.outcome}: {line.label()}{url}{detail}")

    @sources.command("export")
    @owner_team_option
    @click.option("--channel", type=CHANNEL, default=None, help="Only what this Slack channel follows.")
    def export(team: str | None, channel: str | None) -> None:
        """The workspace's sources as OPML 2.0 on stdout, one folder per kind of source (feeds, news searches,
        job boards, careers pages). `sources import` reads it back, in another workspace too."""
        from bot.ingest.opml import as_outlines

        ctx = context()
        team_id = team_for_writing(ctx, team)
        with session_scope(ctx.engine) as session:
            if channel:
                sources = [s for _, s in channel_follows(session=session, team_id=team_id, channel_id=channel)]
            else:
                sources = [h.source for h in list_sources(session=session, team_id=team_id)]
        where = f", channel {channel}" if channel else ""
        click.echo(write_opml(as_outlines(sources), title=f"briefbot sources ({team_id}{where})",
                              created=ctx.clock()), nl=False)
