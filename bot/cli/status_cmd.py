"""`briefbot status`: how this installation is doing: database, writer, Slack, sources, outbox, every
workspace whose channels nothing can be posted to, and every workspace whose last analysis pass failed in part."""

from __future__ import annotations

from collections import Counter
from typing import Any

import click

from bot.cli.common import context, echo_json, json_option, team_option
from bot.context import Context
from bot.core.llm_budget import RESET_AT, LLMBudget, tokens, use_line
from bot.llm.client import llm_configured
from bot.settings import mask_url_password
from bot.slack.clients import SlackClients, SlackSetupError, oauth_enabled
from bot.slack.unpostable import find_unpostable
from bot.storage.db import current_revision, session_scope
from bot.storage.deliveries import outbox_counts
from bot.storage.health import analysis_problems
from bot.storage.llm_budgets import all_budgets
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
            default_limit = ctx.settings.briefbot_daily_token_budget
            budgets = [b for _, b in all_budgets(session=session, default_limit=default_limit, now=ctx.clock(),
                                                 team_id=team)] if llm_configured(ctx.settings) else []
        unpostable = find_unpostable(engine=ctx.engine, tokens=clients, team_id=team)
        report: dict[str, Any] = {
            "database": mask_url_password(ctx.settings.database_url), "revision": current_revision(ctx.engine),
            "writer": ctx.writer_label(), "slack": slack_mode(ctx, clients), "sources": dict(sorted(sources.items())),
            "outbox": dict(sorted(outbox.items())),
            "unpostable": [{"team_id": u.team_id, "channels": list(u.channels), "waiting": u.waiting,
                            "reason": u.reason} for u in unpostable],
            "analysis_problems": [{"team_id": t, "error": error, "at": at.isoformat()} for t, error, at in analysis],
            "llm_budgets": [b.as_dict() for b in budgets],
        }
        if as_json:
            echo_json(report)
            return
        click.echo(f"database  {report['database']} (revision {report['revision']})")
        click.echo(f"briefs    {report['writer']}")
        click.echo(f"slack     {report['slack']}")
        click.echo(f"sources   {counts(report['sources']) or 'none yet'}")
        click.echo(f"outbox    {counts(report['outbox']) or 'empty'}")
        if budgets:
            click.echo(f"llm use   {llm_use(budgets, ctx.settings.briefbot_daily_token_budget)}")
        for problem in unpostable:
            click.echo(f"warning: {problem.describe()}")
        for team_id, error, at in analysis:
            click.echo(f"warning: workspace {team_id}: the last analysis pass ({at:%Y-%m-%d %H:%M} UTC) could not do "
                       f"everything, retried on every pass: {error}")
        for spent in budgets if len(budgets) > 1 else []:
            if spent.spent and spent.limit:
                click.echo(f"warning: workspace {spent.team_id}: its daily LLM budget of {tokens(spent.limit)} is "
                           f"spent ({spent.used:,} used today): briefs use the built-in writer until {RESET_AT}")


def llm_use(budgets: list[LLMBudget], default_limit: int) -> str:
    """One workspace: its use against its budget. Several: the total, the default and how many are spent or off
    (each spent one gets its warning line)."""
    if len(budgets) == 1:
        return f"{budgets[0].team_id}: {use_line(budgets[0])}"
    spent = sum(1 for b in budgets if b.spent and b.limit)
    off = sum(1 for b in budgets if b.limit == 0)
    parts = [f"{sum(b.used for b in budgets):,} tokens today across {len(budgets)} workspaces",
             f"{tokens(default_limit)} a day each by default (briefbot workspaces list)"]
    parts += [f"{spent} spent until {RESET_AT}"] if spent else []
    parts += [f"{off} with the LLM off"] if off else []
    return "; ".join(parts)


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
