"""Choosing a writer: the LLM when one is configured and within budget, the built-in writer otherwise or
when the LLM's answer cannot be used. Every brief records which writer made it and why."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from bot.briefs.builtin import write_builtin
from bot.briefs.guard import check_draft
from bot.briefs.model import BriefInput, WrittenBrief, hashable

BUILTIN_VERSION = "builtin-1"


class BriefWriter(Protocol):
    def input_hash(self, inp: BriefInput) -> str: ...
    def write(self, inp: BriefInput) -> WrittenBrief: ...


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
        written = write_builtin(inp, note=self.note)
        allowed = {item.url for item in inp.items if item.url}
        return replace(written, draft=check_draft(written.draft, allowed), input_hash=self.input_hash(inp))
