"""`briefbot ask "QUESTION"`: a question answered from the stored history, with no Slack at all."""

from __future__ import annotations

import sys
import uuid

import click

from bot.ask.service import Conversation
from bot.cli.common import context, echo_json, json_option, owner_team_option, team_for_writing
from bot.cli.params import THREAD
from bot.terminal import format_answer


def register(group: click.Group) -> None:
    @group.command("ask")
    @click.argument("question", nargs=-1, required=True)
    @owner_team_option
    @click.option("--thread", type=THREAD, default=None,
                  help="Continue a conversation: the thread id an earlier `ask` printed (default: a new one).")
    @json_option
    def ask(question: tuple[str, ...], team: str | None, thread: str | None, as_json: bool) -> None:
        """Answer QUESTION from the stored briefs and items of one workspace, citing them."""
        ctx = context()
        text = " ".join(question).strip()
        if not text:
            raise click.UsageError("ask what? e.g. briefbot ask \"who is hiring warehouse staff in Seattle?\"")
        conversation = Conversation(team_id=team_for_writing(ctx, team), channel_id="cli",
                                    thread_ts=thread or uuid.uuid4().hex[:16], surface="cli")
        streamed = not as_json and sys.stdout.isatty()
        answer = ctx.asker().ask(conversation, text, on_text=(lambda t: click.echo(t, nl=False)) if streamed else None)
        if as_json:
            echo_json({**answer.as_dict(), "team": conversation.team_id, "thread": conversation.thread_ts})
            return
        click.echo(format_answer(answer, streamed=streamed and answer.writer == "llm"))
        click.echo(f"(thread {conversation.thread_ts}: `briefbot ask --thread {conversation.thread_ts} …` follows up)")

