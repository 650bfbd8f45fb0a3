"""`briefbot companies alias | unalias | list`: company names as briefbot reads them, and the aliases that
make several names one company."""

from __future__ import annotations

import click

from bot.cli.common import context, echo_json, json_option, owner_team_option, team_for_writing, team_option
from bot.storage.companies import AliasError, add_alias, builtin_alias_for, list_aliases, remove_alias
from bot.storage.db import session_scope
from bot.terminal import short, table


def register(group: click.Group) -> None:
    @group.group("companies")
    def companies() -> None:
        """Company names: legal suffixes, case and punctuation are ignored; aliases make several names one."""

    @companies.command("alias")
    @click.argument("alias")
    @click.argument("company")
    @owner_team_option
    @json_option
    def alias(alias: str, company: str, team: str | None, as_json: bool) -> None:
        """Treat ALIAS as another name of COMPANY in a workspace: briefbot companies alias "ByteDance" "TikTok".
        Quote names with spaces. Aliasing a name again points it at the new company."""
        ctx = context()
        team_id = team_for_writing(ctx, team)
        try:
            with session_scope(ctx.engine) as session:
                saved = add_alias(session=session, team_id=team_id, alias=alias, canonical_name=company,
                                  created_by="cli", now=ctx.clock())
        except AliasError as exc:
            raise click.ClickException(f"cannot alias {_quoted(alias)} to {_quoted(company)}: {exc}") from exc
        if as_json:
            echo_json({"team_id": team_id, "alias": saved.alias, "canonical": saved.canonical,
                       "alias_key": saved.alias_key, "canonical_key": saved.canonical_key,
                       "resolves_to": saved.resolves_to, "resolves_to_name": saved.resolves_to_name,
                       "outcome": saved.outcome, "previous": saved.previous})
            return
        name, other = _quoted(saved.alias), _quoted(saved.canonical)
        if saved.outcome == "unchanged":
            line = f"{name} already stands for {other} in {team_id}"
        elif saved.outcome == "changed":
            line = f"{name} now stands for {other} in {team_id} (it stood for {_quoted(saved.previous or '')})"
        else:
            line = f"{name} is now another name of {other} in {team_id}"
        if saved.resolves_to != saved.canonical_key:
            line += f"; {other} is itself another name of {_quoted(saved.resolves_to_name)}"
        click.echo(line)

    @companies.command("unalias")
    @click.argument("name")
    @owner_team_option
    def unalias(name: str, team: str | None) -> None:
        """Stop treating NAME as another company's name in a workspace."""
        ctx = context()
        team_id = team_for_writing(ctx, team)
        try:
            with session_scope(ctx.engine) as session:
                removed = remove_alias(session=session, team_id=team_id, name=name)
        except AliasError as exc:
            raise click.ClickException(f"cannot unalias {_quoted(name)}: {exc}") from exc
        if removed is not None:
            click.echo(f"{_quoted(removed.alias)} no longer stands for {_quoted(removed.canonical)} in {team_id}")
            return
        builtin = builtin_alias_for(name)
        if builtin is not None:
            raise click.ClickException(
                f"{_quoted(builtin.alias)} → {_quoted(builtin.canonical)} is a built-in alias, not {team_id}'s; to "
                f"replace it there, alias {_quoted(builtin.alias)} to another company")
        raise click.ClickException(f"{team_id} has no alias {_quoted(name)} (see: briefbot companies list)")

    @companies.command("list")
    @team_option
    @json_option
    def list_(team: str | None, as_json: bool) -> None:
        """Company aliases: each workspace's own and the built-in ones, with the company each name resolves to."""
        ctx = context()
        with session_scope(ctx.engine) as session:
            entries = list_aliases(session=session, team_id=team)
        if as_json:
            echo_json([e.as_dict() for e in entries])
            return
        rows = [[e.team_id or "-", short(e.alias, 40), short(e.canonical, 40), short(e.resolves_to, 30),
                 e.origin] for e in entries]
        click.echo(table(rows, ["team", "alias", "company", "company key", "from"]))


def _quoted(name: str) -> str:
    return f'"{short(" ".join(name.split()), 80)}"'
