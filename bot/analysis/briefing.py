"""Write briefs for stories and signals that are new or changed materially since their last brief.
Idempotent: a subject version is briefed once, and identical inputs reuse the brief already written."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from functools import partial

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.briefs.model import BriefDraft, BriefInput, SourceRef, WrittenBrief
from bot.briefs.writers import BriefWriter
from bot.clock import Clock
from bot.core.jobs import family_labels, function_label
from bot.core.normalize import cap_text
from bot.core.rebrief import needs_brief
from bot.storage.briefs import brief_by_input_hash, latest_brief, save_brief
from bot.storage.db import session_scope
from bot.storage.models import Item, Signal, Story
from bot.storage.signals import signal_items
from bot.storage.sources import teams_to_process
from bot.storage.stories import story_items

log = logging.getLogger(__name__)
MAX_SOURCES = 12  # a brief cites at most this many items; the newest are kept
HORIZON = timedelta(days=7)  # subjects unchanged for longer are not looked at again
SOURCE_TEXT = 500


def write_pending_briefs(*, engine: Engine, clock: Clock, writer: BriefWriter, team_id: str | None = None,
                         story_min_outlets: int = 2) -> list[int]:
    """Brief every signal and story that needs it; returns the new brief ids."""
    written: list[int] = []
    with session_scope(engine) as session:
        teams = teams_to_process(session=session, team_id=team_id)
    for team in teams:
        with session_scope(engine) as session:
            written += _brief_stories(session, team, writer, clock, story_min_outlets)
        with session_scope(engine) as session:
            recent = select(Signal).where(Signal.team_id == team, col(Signal.updated_at) >= clock() - HORIZON)
            signals = list(session.exec(recent.order_by(col(Signal.id))))
            items = signal_items(session=session, signal_ids=[s.id for s in signals if s.id is not None])
            for signal in signals:
                brief_id = _brief_if_needed(
                    session, team, writer, clock, subject="signal", subject_id=signal.id or 0,
                    version=signal.version, items=signal.item_count, outlets=1,
                    make_input=partial(signal_input, signal, items.get(signal.id or 0, [])))
                if brief_id is not None:
                    written.append(brief_id)
    return written


def _brief_if_needed(session: Session, team: str, writer: BriefWriter, clock: Clock, *, subject: str,
                     subject_id: int, version: int, items: int, outlets: int,
                     make_input: Callable[[], BriefInput]) -> int | None:
    """A brief for this version of the subject, unless it has one or has not changed materially since its
    last; the new brief's id, or None."""
    last = latest_brief(session=session, team_id=team, subject=subject, subject_id=subject_id)
    if last is not None and last.subject_version == version:
        return None
    if not needs_brief(briefed_items=last.item_count if last else None,
                       briefed_outlets=last.outlet_count if last else None, items=items, outlets=outlets):
        return None
    return _write(session, team, make_input(), writer, items=items, outlets=outlets, clock=clock)


def _brief_stories(session: Session, team: str, writer: BriefWriter, clock: Clock, min_outlets: int) -> list[int]:
    """Stories that several outlets carry get a brief; a story made only of a new source's backlog does not."""
    query = select(Story).where(Story.team_id == team, col(Story.merged_into).is_(None),
                                Story.item_count >= min_outlets, col(Story.updated_at) >= clock() - HORIZON)
    stories = [s for s in session.exec(query.order_by(col(Story.id))) if len(s.outlets) >= min_outlets]
    members = story_items(session=session, story_ids=[s.id for s in stories if s.id is not None])
    written = []
    for story in stories:
        items = members.get(story.id or 0, [])
        if all(i.backfill for i in items):
            continue
        brief_id = _brief_if_needed(
            session, team, writer, clock, subject="story", subject_id=story.id or 0, version=story.version,
            items=story.item_count, outlets=len(story.outlets),
            make_input=partial(story_input, story, items))
        if brief_id is not None:
            written.append(brief_id)
    return written


def story_input(story: Story, items: list[Item]) -> BriefInput:
    newest = sorted(items, key=lambda i: (i.published_at or i.first_seen_at, i.id or 0))[-MAX_SOURCES:]
    return BriefInput(
        subject="story", subject_id=story.id or 0, subject_version=story.version,
        items=tuple(SourceRef(item_id=i.id or 0, title=i.title, url=i.url, outlet=i.outlet,
                              published_at=i.published_at or i.first_seen_at, text=cap_text(i.text, SOURCE_TEXT))
                    for i in newest),
        outlets=tuple(story.outlets), first_at=story.first_at, last_at=story.last_at,
    )


def _write(session: Session, team: str, inp: BriefInput, writer: BriefWriter, *, items: int, outlets: int,
           clock: Clock) -> int:
    key = writer.input_hash(inp)
    cached = brief_by_input_hash(session=session, input_hash=key)
    if cached is not None and cached.team_id == team:
        draft = BriefDraft(headline=cached.headline, summary=cached.summary, why_it_matters=cached.why_it_matters,
                           entities=cached.entities, places=cached.places, event_type=cached.event_type)
        written = WrittenBrief(draft=draft, writer="builtin" if cached.writer == "builtin" else "llm",
                               prompt_name=cached.prompt_name, prompt_version=cached.prompt_version,
                               model=cached.model, input_hash=key, note="reused: identical input briefed before")
    else:
        written = writer.write(inp)
        written = replace(written, input_hash=written.input_hash or key)
    brief = save_brief(session=session, team_id=team, inp=inp, written=written, items=items, outlets=outlets,
                       now=clock())
    log.info("brief %s for %s %s v%s by %s", brief.id, inp.subject, inp.subject_id, inp.subject_version, written.writer)
    return brief.id or 0


def signal_input(signal: Signal, items: list[Item]) -> BriefInput:
    newest = sorted(items, key=lambda i: (i.first_seen_at, i.id or 0))[-MAX_SOURCES:]
    cities = [str(place["city"]) for i in newest for place in i.locations if place.get("city")]
    main = signal.functions[0][0] if signal.functions else ""
    return BriefInput(
        subject="signal", subject_id=signal.id or 0, subject_version=signal.version,
        items=tuple(SourceRef(item_id=i.id or 0, title=i.job_title or i.title, url=i.url, outlet=i.outlet,
                              published_at=i.published_at or i.first_seen_at, text=cap_text(i.text, SOURCE_TEXT))
                    for i in newest),
        company=signal.company, function_label=family_labels().get(signal.family, signal.family),
        main_function_label=function_label(main), metro=signal.metro, cities=tuple(dict.fromkeys(cities)),
        reason=signal.reason, baseline=signal.baseline, first_at=signal.first_at, last_at=signal.last_at,
    )
