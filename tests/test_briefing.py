"""Briefs on real databases: one per subject version, re-written only on material change, cached by input."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from bot.analysis.briefing import write_pending_briefs
from bot.analysis.signal_update import update_signals
from bot.briefs.model import BriefInput, WrittenBrief
from bot.briefs.writers import BuiltinWriter
from bot.core.signals import SignalParams
from bot.storage.briefs import list_briefs
from bot.storage.db import session_scope
from tests.test_signal_update import post, seed_seattle_hiring


class CountingWriter(BuiltinWriter):
    def __init__(self) -> None:
        super().__init__("test")
        self.calls: list[BriefInput] = []

    def write(self, inp: BriefInput) -> WrittenBrief:
        self.calls.append(inp)
        return replace(super().write(inp), writer="llm", model="fake", prompt_tokens=100, completion_tokens=20)


def test_briefs_follow_material_change_only(engine: Engine, clock: Any) -> None:
    writer = CountingWriter()
    source = seed_seattle_hiring(engine, clock)

    def run() -> list[int]:
        update_signals(engine=engine, clock=clock, params=SignalParams())
        return write_pending_briefs(engine=engine, clock=clock, writer=writer).written

    first = run()
    assert len(first) == 1 and len(writer.calls) == 1
    assert run() == [] and len(writer.calls) == 1  # nothing changed, nothing written

    clock.now += timedelta(hours=2)
    post(engine, clock, source, ["Packer"], "Kent")  # 3 -> 4 roles: not material
    assert run() == [] and len(writer.calls) == 1
    post(engine, clock, source, ["Dock Lead", "Inventory Clerk"], "Tacoma")  # 4 -> 6 roles since the brief: material
    assert len(run()) == 1 and len(writer.calls) == 2

    with session_scope(engine) as session:
        briefs = list_briefs(session=session, team_id="T1")
    newest, oldest = briefs
    assert (oldest.subject, oldest.item_count, newest.item_count) == ("signal", 3, 6)
    assert newest.subject_version > oldest.subject_version and newest.headline.endswith("roles in Seattle")
    assert (newest.writer, newest.model, newest.prompt_tokens) == ("llm", "fake", 100)
    assert {s["url"] for s in newest.sources} >= {s["url"] for s in oldest.sources}


def test_identical_input_is_not_sent_twice(engine: Engine, clock: Any) -> None:
    writer = CountingWriter()
    seed_seattle_hiring(engine, clock)
    update_signals(engine=engine, clock=clock, params=SignalParams())
    write_pending_briefs(engine=engine, clock=clock, writer=writer)
    with session_scope(engine) as session:
        (brief,) = list_briefs(session=session)
        # As if the brief were older and smaller: the signal needs a new brief, but what a writer would see is
        # exactly what it saw before.
        brief.subject_version, brief.item_count = 0, 0
    assert len(write_pending_briefs(engine=engine, clock=clock, writer=writer).written) == 1
    assert len(writer.calls) == 1  # the second brief reused the first one's text
    with session_scope(engine) as session:
        again = list_briefs(session=session)[0]
    assert again.headline == brief.headline and again.writer_note == "reused: identical input briefed before"
