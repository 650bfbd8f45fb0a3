"""What the CLI commands share: building the context, JSON output, time arguments, tables."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import click
from pydantic import ValidationError

from bot.clock import as_utc
from bot.context import Context, build_context
from bot.settings import Settings

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
team_option = click.option("--team", "team", default=None, help="Slack team id (default: BRIEFBOT_DEFAULT_TEAM).")


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors())
        raise click.ClickException(f"bad configuration: {problems}") from exc


def context(migrate: bool = True) -> Context:
    try:
        return build_context(load_settings(), migrate=migrate)
    except click.ClickException:
        raise
    except Exception as exc:  # an unreachable database or a bad URL, said in one line
        raise click.ClickException(f"cannot open the database: {type(exc).__name__}: {_first_line(exc)}") from exc


@contextmanager
def sole_scheduler(settings: Settings) -> Iterator[None]:
    """`bot.worker.single.sole_worker`, with another worker on the same SQLite file said as a one-line error."""
    from bot.worker.single import AnotherWorkerRunning, sole_worker

    try:
        with sole_worker(settings):
            yield
    except AnotherWorkerRunning as exc:
        raise click.ClickException(str(exc)) from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0]


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")


def parse_since(value: str | None, now: datetime) -> datetime | None:
    """`--since` as an ISO date or time (UTC unless it says otherwise) or a span back from now: 30m, 12h, 7d, 2w."""
    if value is None:
        return None
    text = value.strip().lower()
    match = _RELATIVE.match(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return now - timedelta(**{{"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[unit]: amount})
    try:
        return as_utc(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is neither an ISO time (2026-03-01T09:00Z) nor a span (12h, 7d)") from exc


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "never"
    seconds = int((now - value).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            text = f"{seconds // size}{unit}"
            break
    else:
        text = f"{seconds}s"
    return f"in {text}" if future else f"{text} ago"


def short(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"
