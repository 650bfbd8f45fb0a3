"""The writer the bot uses: the LLM when configured and within the workspace's daily token budget, and the
built-in writer whenever the LLM cannot be used, with the reason recorded beside the brief."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.briefs.model import BriefInput, WrittenBrief
from bot.briefs.writers import BriefWriter, guarded_builtin
from bot.core.llm_budget import LLMBudget
from bot.core.llm_budget import writer_note as budget_note
from bot.core.normalize import first_line
from bot.llm.client import LLMBadOutput, LLMError, LLMTooSlow

log = logging.getLogger(__name__)


class LLMWithFallback:
    """`input_hash` is the LLM's (what would be sent); `write` falls back per brief, never fails. `for_team`
    gives the writer of one workspace's briefs, which checks that workspace's budget (`budget(team_id)`)
    before each brief: one workspace's spent budget sends only its own briefs to the built-in writer. A writer
    bound to no workspace checks none (the LLM boundary's own tests)."""

    def __init__(self, llm: BriefWriter, *, budget: Callable[[str], LLMBudget], team_id: str | None = None):
        self.llm = llm
        self.budget = budget
        self.team_id = team_id

    def for_team(self, team_id: str) -> LLMWithFallback:
        return LLMWithFallback(self.llm, budget=self.budget, team_id=team_id)

    def input_hash(self, inp: BriefInput) -> str:
        return self.llm.input_hash(inp)

    def write(self, inp: BriefInput) -> WrittenBrief:
        if self.team_id is not None:
            budget = self.budget(self.team_id)
            if budget.spent:
                return guarded_builtin(inp, budget_note(budget))
        try:
            return self.llm.write(inp)
        except Exception as exc:  # any failure of the LLM, of whatever type, costs only this brief its LLM text
            unexpected = not isinstance(exc, LLMError)  # a defect of ours: its traceback goes to the log
            log.warning("LLM brief failed, built-in writer used: %s", exc, exc_info=unexpected)
            return guarded_builtin(inp, writer_note(exc))


def writer_note(exc: BaseException) -> str:
    """Why the built-in writer stood in, in one line, as stored beside the brief."""
    if isinstance(exc, LLMTooSlow):
        label = "LLM too slow"
    elif isinstance(exc, LLMBadOutput):
        label = "LLM reply unusable"
    elif isinstance(exc, LLMError):
        label = "LLM unavailable"
    else:
        label = f"LLM call failed ({type(exc).__name__})"
    return f"{label}: {first_line(exc) or type(exc).__name__}"
