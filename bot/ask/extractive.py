"""The answer without an LLM: the most relevant stored briefs and items, grouped, with dates and outlets,
citing each as [n], and a line saying no LLM is configured. Pure and deterministic."""

from __future__ import annotations

from collections.abc import Sequence

from bot.ask.model import Answer
from bot.core.lifecycle import lifecycle_of
from bot.core.types import Source, describe

NO_LLM = ("No LLM is configured, so these are the stored briefs and items that best match your question "
          "(set OPENAI_BASE_URL or OPENAI_API_KEY for written answers).")
LLM_FAILED = "The LLM could not answer just now, so these are the stored briefs and items that best match."
CUT_SHORT = "The LLM took too long, so this answer stops where it was cut off; the sources below are complete."
GROUPS = (("brief", "Briefs"), ("news", "News"), ("job", "Job postings"))


def extractive_answer(question: str, sources: Sequence[Source], *, note: str = NO_LLM) -> Answer:
    lines: list[str] = []
    shown: list[Source] = []
    for key, label in GROUPS:
        group = [s for s in sources if (s.kind == "brief") == (key == "brief") and
                 (key == "brief" or (s.item_kind or "news") == key)]  # every source: retrieval capped them
        if not group:
            continue
        lines.append(f"{label}:")
        for s in group:
            life = lifecycle_of(s.text) if s.kind == "item" and s.item_kind == "job" else None
            lines.append(f"• [{s.n}] {' '.join(s.title.split())} ({describe(s).split(', ', 1)[-1]})"
                         + (f": {life}" if life else ""))
            shown.append(s)
    shown.sort(key=lambda s: s.n)
    return Answer(question=question, text="\n".join(lines), sources=shown, writer="extractive", note=note)
