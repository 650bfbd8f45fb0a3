"""Choosing a writer: the LLM when one is configured and within budget, the built-in writer otherwise, when
the LLM's answer cannot be used, or for a story one outlet reports so far (`SINGLE_REPORT_NOTE`). Every brief
records which writer made it and why."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from bot.briefs.builtin import write_builtin
from bot.briefs.guard import UnsafeDraftError, check_draft
from bot.briefs.model import BriefInput, WrittenBrief, hashable

BUILTIN_VERSION = "builtin-1"
# Why the built-in writer wrote a story that one outlet reports so far, though an LLM is configured: its alert is
# the article itself (title, outlet, lead, link); the LLM writes once there is something to combine.
SINGLE_REPORT_NOTE = "single report: the LLM writes the brief once a second outlet reports the story"


class BriefWriter(Protocol):
    def input_hash(self, inp: BriefInput) -> str: ...
    def write(self, inp: BriefInput) -> WrittenBrief: ...


@runtime_checkable
class PerWorkspace(Protocol):
    """A writer whose choice depends on the workspace (the LLM's, within that workspace's daily budget)."""

    def for_team(self, team_id: str) -> BriefWriter: ...


def writer_for_team(writer: BriefWriter, team_id: str) -> BriefWriter:
    """The writer for one workspace's briefs: its own when the writer has one per workspace, else the same."""
    return writer.for_team(team_id) if isinstance(writer, PerWorkspace) else writer


def canonical_input(inp: BriefInput) -> str:
    def default(value: Any) -> str:
        return value.isoformat() if isinstance(value, datetime) else str(value)

    return json.dumps(hashable(inp), sort_keys=True, ensure_ascii=False, default=default)


class BuiltinWriter:
    """The deterministic writer, saying why it stands in."""

    def __init__(self, note: str):
        self.note = note

    def input_hash(self, inp: BriefInput) -> str:
        return hashlib.sha256(f"{BUILTIN_VERSION}\n{canonical_input(inp)}".encode()).hexdigest()

    def write(self, inp: BriefInput) -> WrittenBrief:
        return replace(guarded_builtin(inp, self.note), input_hash=self.input_hash(inp))


def guarded_builtin(inp: BriefInput, note: str) -> WrittenBrief:
    """The built-in writer's brief, through the same output guard as an LLM's. Feed titles are its
    material, so a mention or a foreign link in one is cleaned out here too."""
    written = write_builtin(inp, note=note)
    allowed = {item.url for item in inp.cited() if item.url}
    try:
        return replace(written, draft=check_draft(written.draft, allowed))
    except UnsafeDraftError:
        # Nothing readable was left of the feed's words: say only what the structured fields say.
        plain = written.draft.model_copy(update={"headline": _plain_headline(inp), "summary": _plain_summary(inp),
                                                 "entities": [], "places": []})
        return replace(written, draft=check_draft(plain, allowed))


def _plain_headline(inp: BriefInput) -> str:
    if inp.subject == "signal":
        return f"{inp.company} hiring in {inp.metro}"[:90]
    return f"A story reported by {len(set(inp.outlets)) or 1} outlets"


def _plain_summary(inp: BriefInput) -> str:
    return f"{inp.total_items()} items; open the sources for details."

