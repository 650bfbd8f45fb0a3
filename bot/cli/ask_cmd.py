"""`briefbot ask "QUESTION"`: a question answered from the stored history, with no Slack at all."""

from __future__ import annotations

import sys
import uuid

import click

from bot.ask.evidence import describe
from bot.ask.model import Answer
from bot.ask.service import Conversation
from bot.cli.common import context, echo_json, json_option, owner_team_option, team_for_writing
from bot.cli.params import THREAD


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


def format_answer(answer: Answer, *, streamed: bool = False) -> str:
    """The answer for a terminal: the text (unless it was streamed already), a note, then the sources. An
    extractive answer already lists its sources' titles, so only their links follow it."""
    lines = []
    if answer.writer == "extractive":
        lines += [answer.note, "", answer.text, "", "Links:"]
        lines += [f"  [{s.n}] {s.url}" for s in answer.sources if s.url]
        return "\n".join(lines)
    lines.append("" if streamed else answer.text)
    if answer.note:
        lines.append(f"\n{answer.note}")
    if answer.sources:
        lines.append("\nSources:")
        for s in answer.sources:
            lines.append(f"  [{s.n}] {' '.join(s.title.split())} ({describe(s)})")
            if s.url:
                lines.append(f"      {s.url}")
    return "\n".join(lines)
