"""`briefbot status`: how this installation is doing: database, writer, Slack, sources, outbox, every
workspace whose channels nothing can be posted to, and every workspace whose last analysis pass failed in part."""

from __future__ import annotations

from collections import Counter
from typing import Any

import click

from bot.cli.common import context, echo_json, json_option, team_option
from bot.context import Context
from bot.settings import mask_url_password
from bot.slack.clients import SlackClients, SlackSetupError, oauth_enabled
from bot.slack.delivery import find_unpostable
from bot.storage.db import current_revision, session_scope
from bot.storage.deliveries import outbox_counts
from bot.storage.health import analysis_problems
from bot.storage.sources import list_sources


def register(group: click.Group) -> None:
    @group.command("status")
    @team_option
    @json_option
    def status(team: str | None, as_json: bool) -> None:
        """Database, brief writer, Slack, source health and the outbox; warns about follows nothing can post."""
        ctx = context()
        clients = SlackClients(ctx.settings, ctx.engine)
        with session_scope(ctx.engine) as session:
            sources = Counter(h.as_dict()["status"] for h in list_sources(session=session, team_id=team))
            outbox = outbox_counts(session=session, team_id=team)
            analysis = analysis_problems(session=session, team_id=team)
        unpostable = find_unpostable(engine=ctx.engine, tokens=clients, team_id=team)
        report: dict[str, Any] = {
            "database": mask_url_password(ctx.settings.database_url), "revision": current_revision(ctx.engine),
            "writer": ctx.writer_label(), "slack": slack_mode(ctx, clients), "sources": dict(sorted(sources.items())),
            "outbox": dict(sorted(outbox.items())),
            "unpostable": [{"team_id": u.team_id, "channels": list(u.channels), "waiting": u.waiting,
                            "reason": u.reason} for u in unpostable],
            "analysis_problems": [{"team_id": t, "error": error, "at": at.isoformat()} for t, error, at in analysis],
        }
        if as_json:
            echo_json(report)
            return
        click.echo(f"database  {report['database']} (revision {report['revision']})")
        click.echo(f"briefs    {report['writer']}")
        click.echo(f"slack     {report['slack']}")
        click.echo(f"sources   {counts(report['sources']) or 'none yet'}")
        click.echo(f"outbox    {counts(report['outbox']) or 'empty'}")
        for problem in unpostable:
            click.echo(f"warning: {problem.describe()}")
        for team_id, error, at in analysis:
            click.echo(f"warning: workspace {team_id}: the last analysis pass ({at:%Y-%m-%d %H:%M} UTC) could not do "
                       f"everything, retried on every pass: {error}")


def slack_mode(ctx: Context, clients: SlackClients) -> str:
    s = ctx.settings
    if oauth_enabled(s):
        return "OAuth: each installed workspace posts with its own token"
    if s.slack_bot_token is None:
        return "not configured (set SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth)"
    try:
        return f"SLACK_BOT_TOKEN of workspace {clients.single_team()}"
    except SlackSetupError as exc:
        return str(exc)


def counts(by_status: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in by_status.items())
