"""Click parameter types for what people type: ids and specs checked against the columns they are stored in
(bot/storage/models.py), so an over-long or malformed value is a usage error that names the option, never a
database error (PostgreSQL refuses what SQLite would quietly keep)."""

from __future__ import annotations

import re
from typing import Any

import click

from bot.core.inputs import has_hidden, slack_id
from bot.storage.columns import column_length
from bot.storage.models import ConversationTurn, Subscription, Workspace

MAX_ROW_ID = 2**31 - 1  # ids are INTEGER columns (PostgreSQL's is 32-bit)
SPEC_MAX = 2000  # a URL longer than this is not a feed anyone publishes
_THREAD = re.compile(r"[A-Za-z0-9._-]+")


def shown(value: str, width: int = 40) -> str:
    """A value quoted for an error message: control characters escaped, long ones cut."""
    return repr(value if len(value) <= width else value[:width] + "…")


class SlackIdType(click.ParamType[str]):
    """A Slack team or channel id (or briefbot's T_LOCAL): letters, digits and underscores, as long as its
    column allows."""

    def __init__(self, what: str, example: str, max_length: int):
        self.name, self.what, self.example, self.max_length = f"{what} id", what, example, max_length

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if len(text) > self.max_length:
            self.fail(f"{shown(text)} is {len(text)} characters long; a Slack {self.what} id has at most "
                      f"{self.max_length}, like {self.example}", param, ctx)
        if not slack_id(text):
            self.fail(f"{shown(text)} is not a Slack {self.what} id (letters, digits and _ only, like "
                      f"{self.example})", param, ctx)
        return text


class RowIdType(click.ParamType[int]):
    """A row id such as a source's: a whole number from 1 up to what the id column holds."""

    def __init__(self, what: str, listed_by: str):
        self.name, self.what, self.listed_by = f"{what} id", what, listed_by

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                self.fail(f"{shown(str(value))} is not a {self.what} id (a whole number; see: {self.listed_by})",
                          param, ctx)
        if not 1 <= number <= MAX_ROW_ID:
            self.fail(f"{shown(str(number))} is not a {self.what} id (ids run from 1 to {MAX_ROW_ID}; see: "
                      f"{self.listed_by})", param, ctx)
        return number


class SpecType(click.ParamType[str]):
    """A source spec: one line of printable text, at most SPEC_MAX characters."""

    name = "spec"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if not text:
            self.fail("empty; give a feed or page URL, or kind:identifier (greenhouse:acme)", param, ctx)
        if len(text) > SPEC_MAX:
            self.fail(f"{len(text)} characters long; a spec (a URL or kind:identifier) has at most {SPEC_MAX}",
                      param, ctx)
        if has_hidden(text):
            self.fail(f"{shown(text)} holds control or invisible characters; type the URL or kind:identifier "
                      "as plain text", param, ctx)
        return text


class ThreadType(click.ParamType[str]):
    """A conversation id `briefbot ask` printed (or a Slack thread ts)."""

    name = "thread"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        limit = column_length(ConversationTurn, "thread_ts")
        if len(text) > limit or not _THREAD.fullmatch(text):
            self.fail(f"{shown(text)} is not a thread id `briefbot ask` printed (at most {limit} letters, digits, "
                      "dots, dashes)", param, ctx)
        return text


TEAM = SlackIdType("team", "T0123ABCD", column_length(Workspace, "team_id"))
CHANNEL = SlackIdType("channel", "C0123ABCD", column_length(Subscription, "channel_id"))
SOURCE_ID = RowIdType("source", "briefbot sources list")
SPEC = SpecType()
THREAD = ThreadType()
