"""`briefbot company NAME`: one company's page in one workspace: its names and aliases, open hiring signals,
open roles by function and metro with their trend, and recent stories about it."""

from __future__ import annotations

import click

from bot.cli.common import context, echo_json, json_option, owner_team_option, team_for_writing
from bot.core.jobs import family_labels
from bot.core.open_roles import summary_lines
from bot.storage.companies import AliasError
from bot.storage.company_page import CompanyPage, look_up_company
from bot.storage.db import session_scope
from bot.terminal import short, table


def register(group: click.Group) -> None:
    @group.command("company")
    @click.argument("name")
    @owner_team_option
    @json_option
    def company(name: str, team: str | None, as_json: bool) -> None:
        """One company's page: names and aliases, open signals, open roles by function and metro with the weekly
        trend, and the last 30 days' stories about it. NAME is any of its names (quote names with spaces)."""
        ctx = context()
        team_id = team_for_writing(ctx, team)
        try:
            with session_scope(ctx.engine) as session:
                found = look_up_company(session=session, team_id=team_id, name=name, now=ctx.clock())
        except AliasError as exc:
            raise click.ClickException(f"no company page for {short(name, 60)!r}: {exc}") from exc
        page, close = found.page, found.close
        if not page.known:
            hint = f"; close names it knows: {', '.join(repr(short(n, 60)) for n in close)}" if close else ""
            raise click.ClickException(
                f"{team_id} knows no company called {short(page.asked, 60)!r} (no job postings, hiring signals or "
                f"recent stories under that name or its aliases){hint}; `briefbot companies list` lists the "
                "aliases and `briefbot sources list` the boards followed")
        if as_json:
            echo_json({**page.as_dict(), "instead_of": found.instead_of})
            return
        if found.instead_of is not None:
            click.echo(f"(no company called {short(found.instead_of, 60)!r}; {short(page.name, 60)} is the one "
                       "name here that holds it)\n")
        click.echo("\n".join(page_lines(page)))


def page_lines(page: CompanyPage) -> list[str]:
    """The page as plain text."""
    others = [n for n in page.names if n != page.name]
    lines = [f"{short(page.name, 80)} ({page.team_id})"]
    if others:
        lines.append(f"also known as: {', '.join(short(n, 60) for n in others)}")
    labels = family_labels()
    lines += ["", f"open hiring signals: {len(page.signals) or 'none'}"]
    if page.signals:
        rows = [[s.id, labels.get(s.family, s.family), short(s.metro, 24), s.item_count, s.reason.replace("_", " "),
                 s.last_at.strftime("%Y-%m-%d")] for s in page.signals]
        lines.append(table(rows, ["id", "function", "metro", "roles", "why", "latest"]))
    lines += ["", "open roles:"]
    lines += ["  " + short(line, 200) for line in summary_lines(page.roles)]
    lines += ["", f"stories since {page.news_since:%Y-%m-%d}: {len(page.stories) or 'none'}"]
    lines += [f"  {s.last_at:%Y-%m-%d}  {short(s.headline, 90)} ({', '.join(short(o, 30) for o in s.outlets[:3])}"
              f"{'…' if len(s.outlets) > 3 else ''}; {s.item_count} item{'' if s.item_count == 1 else 's'}) "
              f"{s.url}" for s in page.stories]
    if page.aliases:
        lines += ["", "aliases:"]
        lines += [f"  {short(a.alias, 60)} → {short(a.canonical, 60)} ({a.origin})" for a in page.aliases]
    return lines
