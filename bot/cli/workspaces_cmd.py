"""`briefbot workspaces list | budget`: the workspaces briefbot knows, and each one's daily LLM token budget and
today's use. A workspace past its budget gets built-in briefs and extractive answers until 00:00 UTC; the others
keep the LLM."""

from __future__ import annotations

import click

from bot.cli.common import context, echo_json, json_option, team_option
from bot.cli.params import TEAM
from bot.context import Context
from bot.core.llm_budget import RESET_AT, BudgetInputError, LLMBudget, limit_label, parse_tokens, tokens, use_line
from bot.llm.client import llm_configured
from bot.storage.db import session_scope
from bot.storage.llm_budgets import UnknownWorkspaceError, all_budgets, set_budget, workspace_budget
from bot.storage.workspaces import get_workspace
from bot.terminal import short, table

NO_LLM = ("note: no LLM is configured, so every brief uses the built-in writer; these budgets apply once one is "
          "(OPENAI_BASE_URL or OPENAI_API_KEY)")


def register(group: click.Group) -> None:
    @group.group("workspaces")
    def workspaces() -> None:
        """The workspaces briefbot knows and their daily LLM token budgets (BRIEFBOT_DAILY_TOKEN_BUDGET each,
        unless a workspace has its own)."""

    @workspaces.command("list")
    @team_option
    @json_option
    def list_(team: str | None, as_json: bool) -> None:
        """Each workspace with its daily LLM budget, its briefs' tokens today (UTC) and whether it is spent."""
        ctx = context()
        with session_scope(ctx.engine) as session:
            rows = [(w.team_id, w.name, b) for w, b in all_budgets(
                session=session, default_limit=ctx.settings.briefbot_daily_token_budget, now=ctx.clock(),
                team_id=team)]
        if as_json:
            echo_json({"llm_configured": llm_configured(ctx.settings), "resets": RESET_AT,
                       "default_budget": ctx.settings.briefbot_daily_token_budget,
                       "workspaces": [{**b.as_dict(), "name": name} for _, name, b in rows]})
            return
        if not rows:
            click.echo(f"no workspace {team}" if team else
                       "no workspaces yet; one is stored when it follows a source or installs the Slack app")
            return
        click.echo(table([(t, short(name, 30), _limit_cell(b), f"{b.used:,}", _state(b)) for t, name, b in rows],
                         ["TEAM", "NAME", "BUDGET (TOKENS/DAY)", "USED TODAY", "STATE"]))
        click.echo(f"budgets count the tokens briefs recorded since 00:00 UTC and reset at {RESET_AT}; "
                   f"the default is BRIEFBOT_DAILY_TOKEN_BUDGET ({tokens(ctx.settings.briefbot_daily_token_budget)})")
        if not llm_configured(ctx.settings):
            click.echo(NO_LLM)

    @workspaces.command("budget", context_settings={"ignore_unknown_options": True})
    @click.argument("team_id", metavar="TEAM", type=TEAM)
    @click.argument("value", metavar="[TOKENS|default]", required=False)
    @json_option
    def budget(team_id: str, value: str | None, as_json: bool) -> None:
        """Show TEAM's daily LLM token budget, or set it: a number of tokens (200000, 200k, 2M; 0: never use the
        LLM there) or `default` for BRIEFBOT_DAILY_TOKEN_BUDGET again. Days are UTC days."""
        ctx = context()
        if value is None:
            with session_scope(ctx.engine) as session:
                known = get_workspace(session=session, team_id=team_id) is not None
            if not known:
                raise click.ClickException(f"no workspace {team_id} (see briefbot workspaces list)")
            shown = _budget(ctx, team_id)
            _report(shown, as_json, f"{team_id}: {limit_label(shown)}; {use_line(shown)}")
            return
        try:
            tokens_ = parse_tokens(value)
        except BudgetInputError as exc:
            raise click.BadParameter(str(exc), param_hint="'TOKENS'") from None
        try:
            with session_scope(ctx.engine) as session:
                before = set_budget(session=session, team_id=team_id, tokens=tokens_)
        except UnknownWorkspaceError as exc:
            raise click.ClickException(str(exc)) from None
        now_ = _budget(ctx, team_id)
        was = "the default" if before is None else tokens(before)
        if tokens_ is None:
            line = f"{team_id} uses the default daily LLM budget again, {tokens(now_.limit)} (its own was {was})"
        elif tokens_ == 0:
            line = (f"{team_id} no longer uses the LLM (daily budget 0, was {was}): its briefs use the built-in "
                    "writer and its questions get the stored sources")
        else:
            line = f"{team_id}'s daily LLM budget is now {tokens(tokens_)} (was {was})"
        _report(now_, as_json, f"{line}; {use_line(now_)}" if now_.limit else line)


def _budget(ctx: Context, team_id: str) -> LLMBudget:
    with session_scope(ctx.engine) as session:
        return workspace_budget(session=session, team_id=team_id,
                                default_limit=ctx.settings.briefbot_daily_token_budget, now=ctx.clock())


def _report(budget: LLMBudget, as_json: bool, line: str) -> None:
    if as_json:
        echo_json(budget.as_dict())
    else:
        click.echo(line)


def _limit_cell(budget: LLMBudget) -> str:
    return "0 (LLM off)" if budget.limit == 0 else f"{budget.limit:,} ({'own' if budget.own else 'default'})"


def _state(budget: LLMBudget) -> str:
    if budget.limit == 0:
        return "built-in writer only"
    if budget.spent:
        return f"spent: built-in writer until {RESET_AT}"
    return f"{budget.left:,} left"
