"""What Slack's listeners and `/brief` handlers are given, and nothing more: not the whole `Context`. Built once
by `bot.slack.app.build_app` (`deps_for`); tests build it the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.ask.service import Asker
from bot.clock import Clock
from bot.context import Context
from bot.core.llm_budget import LLMBudget
from bot.settings import Settings
from bot.slack.listeners.background import Background
from bot.storage.transactions import Engine

if TYPE_CHECKING:  # handed on to ingest, never used here
    from bot.fetch.http import Fetcher


@dataclass(frozen=True, slots=True)
class Deps:
    engine: Engine  # every lookup and change goes through a storage function in its own transaction
    clock: Clock
    settings: Settings  # resolving and adding source specs, the poll interval `/brief follow` mentions
    writer_label: str  # how briefs are written, for `/brief status` and App Home
    asker: Callable[[], Asker]  # answers questions (built on first use: it may hold an LLM client)
    fetcher: Callable[[], Fetcher]  # a new HTTP client for `/brief follow`, built and closed in its event loop
    background: Background  # slow work after the ack
    llm_budget: Callable[[str], LLMBudget | None]  # a workspace's LLM use today and budget; None: no LLM configured


def deps_for(ctx: Context, background: Background | None = None) -> Deps:
    background = background or Background(ctx.settings.briefbot_listener_threads)
    return Deps(engine=ctx.engine, clock=ctx.clock, settings=ctx.settings, writer_label=ctx.writer_label(),
                asker=ctx.asker, fetcher=ctx.fetcher, background=background, llm_budget=ctx.llm_budget)
