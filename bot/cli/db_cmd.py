"""`briefbot db upgrade` / `db current`."""

from __future__ import annotations

import click

from bot.cli.common import context
from bot.settings import mask_url_password
from bot.storage.db import current_revision, upgrade


def register(group: click.Group) -> None:
    @group.group("db")
    def db() -> None:
        """Database migrations."""

    @db.command("upgrade")
    def db_upgrade() -> None:
        """Apply every migration (this also happens on every start)."""
        ctx = context(migrate=False)
        upgrade(ctx.engine)
        click.echo(f"database at revision {current_revision(ctx.engine)} "
                   f"({mask_url_password(ctx.settings.database_url)})")

    @db.command("current")
    def db_current() -> None:
        """Print the database's migration revision."""
        ctx = context(migrate=False)
        click.echo(current_revision(ctx.engine) or "empty (run: briefbot db upgrade)")
