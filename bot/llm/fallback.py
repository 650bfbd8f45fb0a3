"""The writer the bot uses: the LLM when configured and within the daily token budget, and the built-in
writer whenever the LLM cannot be used, with the reason recorded beside the brief."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from bot.briefs.builtin import write_builtin
from bot.briefs.guard import UnsafeDraftError, check_draft
from bot.briefs.model import BriefInput, WrittenBrief
from bot.briefs.writers import BriefWriter
from bot.llm.client import LLMError

log = logging.getLogger(__name__)


class LLMWithFallback:
    """`input_hash` is the LLM's (what would be sent); `write` falls back per brief, never fails."""

    def __init__(self, llm: BriefWriter, *, tokens_left: Callable[[], int]):
        self.llm = llm
        self.tokens_left = tokens_left

    def input_hash(self, inp: BriefInput) -> str:
        return self.llm.input_hash(inp)

    def write(self, inp: BriefInput) -> WrittenBrief:
        if self.tokens_left() <= 0:
            return builtin(inp, "over the daily LLM token budget (BRIEFBOT_DAILY_TOKEN_BUDGET)")
        try:
            return self.llm.write(inp)
        except LLMError as exc:
            log.warning("LLM brief failed, built-in writer used: %s", exc)
            return builtin(inp, f"LLM unavailable: {_first_line(exc)}")


def builtin(inp: BriefInput, note: str) -> WrittenBrief:
    """The built-in writer's brief, through the same output guard as an LLM's. Feed titles are its
    material, so a mention or a foreign link in one is cleaned out here too."""
    written = write_builtin(inp, note=note)
    allowed = {item.url for item in inp.items if item.url}
    try:
        return replace(written, draft=check_draft(written.draft, allowed))
    except UnsafeDraftError:
        # Nothing readable was left of the feed's words: say only what the structured fields say.
        fallback = written.draft.model_copy(update={"headline": _plain_headline(inp), "summary": _plain_summary(inp),
                                                    "entities": [], "places": []})
        return replace(written, draft=check_draft(fallback, allowed))


def _plain_headline(inp: BriefInput) -> str:
    if inp.subject == "signal":
        return f"{inp.company} hiring in {inp.metro}"[:90]
    return f"A story reported by {len(set(inp.outlets)) or 1} outlets"


def _plain_summary(inp: BriefInput) -> str:
    return f"{len(inp.items)} items; open the sources for details."


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
