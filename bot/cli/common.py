"""What the CLI commands share: building the context, JSON output, time arguments. Tables and other plain
text are bot/terminal's. Every command imports this module, so what only some of them use (Slack's client, the
table models behind the parameter types, lxml) is imported where it is used."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import click
from pydantic import ValidationError

from bot.clock import as_utc
from bot.context import Context, StartupError, build_context
from bot.settings import Settings, mask_url_password
from bot.terminal import short


class DeferredType(click.ParamType[Any]):
    """A parameter type of bot.cli.params, imported when a value is given: those types read their limits from
    the table models, which a command that only reads (`sources list`) need not import. `name` is the type's own
    (tests/test_cli_lazy.py checks it), so help and errors read the same."""

    def __init__(self, name: str, attribute: str):
        self.name, self.attribute = name, attribute

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from bot.cli import params

        return getattr(params, self.attribute).convert(value, param, ctx)


TEAM = DeferredType("team id", "TEAM")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
team_option = click.option("--team", "team", type=TEAM, default=None, help="Only this Slack team id (default: all).")
# For what is written under a workspace (see team_for_writing).
owner_team_option = click.option("--team", "team", type=TEAM, default=None, help=(
    "Slack team id (default: BRIEFBOT_DEFAULT_TEAM if set, else SLACK_BOT_TOKEN's workspace, else T_LOCAL)."))


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']).upper()}: {_reason(e['msg'])}" for e in exc.errors())
        raise click.ClickException(f"bad configuration: {problems}") from exc


def _reason(message: str) -> str:
    return message.removeprefix("Value error, ")  # pydantic's prefix for a validator's own message


def context(migrate: bool = True) -> Context:
    settings = load_settings()
    try:
        return build_context(settings, migrate=migrate)
    except (click.ClickException, StartupError):
        raise  # already names the setting
    except Exception as exc:  # an unreachable, locked, read-only or unusable database, said in one line
        from bot.cli.explain import explain
        from bot.core.normalize import first_line

        where = mask_url_password(settings.database_url)
        explained = explain(exc, sqlite_path=settings.sqlite_path())
        problem = explained.message if explained.expected else f"{type(exc).__name__}: {first_line(exc, None)}"
        raise click.ClickException(f"cannot open the database {where}: {problem}") from exc


def team_for_writing(ctx: Context, team: str | None) -> str:
    """The workspace new follows and questions belong to: --team; else BRIEFBOT_DEFAULT_TEAM when it is set;
    else, in single-token mode, SLACK_BOT_TOKEN's own workspace (one auth.test), so the worker can post what
    is followed; else T_LOCAL."""
    from bot.slack.clients import SlackSetupError, oauth_enabled, token_team
    from bot.storage.db import session_scope
    from bot.storage.sources import count_sources

    s = ctx.settings
    if team:
        return team
    if "briefbot_default_team" in s.model_fields_set or s.slack_bot_token is None or oauth_enabled(s):
        return s.briefbot_default_team
    try:
        chosen = token_team(s, s.slack_bot_token.get_secret_value())
    except SlackSetupError as exc:
        raise click.ClickException(f"{exc}; or name the workspace with --team (or BRIEFBOT_DEFAULT_TEAM)") from exc
    with session_scope(ctx.engine) as session:  # an install from before the token chose the workspace
        earlier = count_sources(session=session, team_id=s.briefbot_default_team)
    if earlier:
        click.echo(f"note: using SLACK_BOT_TOKEN's workspace {chosen}; {earlier} source(s) are filed under "
                   f"{s.briefbot_default_team}, which that token cannot post to (pass --team "
                   f"{s.briefbot_default_team} to work with them)", err=True)
    return chosen


@contextmanager
def sole_scheduler(settings: Settings) -> Iterator[None]:
    """`bot.worker.single.sole_worker`, with another worker on the same SQLite file said as a one-line error."""
    from bot.worker.single import AnotherWorkerRunning, sole_worker

    try:
        with sole_worker(settings):
            yield
    except AnotherWorkerRunning as exc:
        raise click.ClickException(str(exc)) from exc


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DAYS_BACK = {"today": 0, "yesterday": 1}


def parse_since(value: str | None, now: datetime) -> datetime | None:
    """`--since` as an ISO date or time (UTC unless it says otherwise), a span back from now (30m, 12h, 7d, 2w), or
    `today` / `yesterday` (from midnight UTC)."""
    if value is None:
        return None
    text = value.strip().lower()
    if text in _DAYS_BACK:
        midnight = as_utc(now).replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight - timedelta(days=_DAYS_BACK[text])
    match = _RELATIVE.match(text)
    try:
        if match:
            return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        return as_utc(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except OverflowError as exc:  # a span reaching back before year 1, or a time past year 9999 in UTC
        raise _bad_since(f"{short(value, 40)!r} reaches outside the years 1 to 9999; give a shorter span (7d) or "
                         "a time like 2026-03-01T09:00Z") from exc
    except ValueError as exc:
        raise _bad_since(f"{short(value, 40)!r} is neither an ISO time (2026-03-01T09:00Z), a span (12h, 7d) "
                         "nor today or yesterday") from exc


def none_since(what: str, since: str | None, any_at_all: bool, hint: str) -> str:
    """What a listing says when it is empty: with `--since` and older ones stored, that none is that recent
    (not "none yet"); else `hint` on how they come about."""
    if since is not None and any_at_all:
        return f"no {what} since {short(since, 40)}; older ones are stored (leave out --since to list them)"
    return f"no {what} yet; {hint}"


def _bad_since(message: str) -> click.BadParameter:
    return click.BadParameter(message, ctx=click.get_current_context(silent=True), param_hint="'--since'")
