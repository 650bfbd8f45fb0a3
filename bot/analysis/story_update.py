"""Put new news items into stories: the same event across sources and outlets joins one story, and a later
report attaches to the story it belongs to. Items without a story are the queue, so a crash loses nothing
and a restart picks up where it stopped."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.briefs.builtin import clearest
from bot.briefs.model import SourceRef
from bot.clock import Clock
from bot.core.stories import StoryClusterer, StoryInput, StoryParams, embedding_text
from bot.core.types import Embed
from bot.storage.db import session_scope
from bot.storage.leases import Held
from bot.storage.models import Item
from bot.storage.sources import teams_to_process
from bot.storage.stories import (
    active_states,
    new_story,
    save_assignments,
    save_state,
    story_items,
    unclustered_news,
)
from bot.storage.transactions import Engine
from bot.storage.vectors import save_vectors
from bot.storage.wanted import request_work

log = logging.getLogger(__name__)
BATCH = 2000


@dataclass(slots=True)
class StoryReport:
    items: int = 0
    created: set[int] = field(default_factory=set)
    grown: set[int] = field(default_factory=set)
    merged: int = 0
    embedded: int = 0  # items clustered with an embedding


def update_stories(*, engine: Engine, clock: Clock, params: StoryParams, team_id: str | None = None,
                   embed: Embed | None = None, held: Held | None = None) -> StoryReport:
    """Cluster every team's queued items (or `team_id`'s). With `held` (the team's clustering lease), every
    batch renews the lease in its own transaction and the pass stops where the lease was lost."""
    report = StoryReport()
    with session_scope(engine) as session:
        teams = teams_to_process(session=session, team_id=team_id)
    for team in teams:
        while _cluster_batch(engine, clock, params, team, report, embed, held):
            pass
    report.grown -= report.created
    return report


def _cluster_batch(engine: Engine, clock: Clock, params: StoryParams, team: str, report: StoryReport,
                   embed: Embed | None, held: Held | None) -> bool:
    """One batch in one transaction: the items' story ids and the stories' states commit together."""
    now = clock()
    with session_scope(engine) as session:
        if held is not None and not held.fence(session, now):
            log.warning("clustering lease %s lost; another worker carries on", held.name)
            return False
        pending = unclustered_news(session=session, team_id=team, limit=BATCH)
        if not pending:
            return False
        request_work(session=session, team_id=team, kind="briefs")  # with the stories it changes, in one commit
        earliest = min(i.published_at or i.first_seen_at for i in pending)
        clusterer = StoryClusterer(params=params, new_id=lambda: new_story(session=session, team_id=team, now=now))
        clusterer.load(active_states(session=session, team_id=team, since=earliest - params.window))
        vectors = _embeddings(embed, pending)
        report.embedded += sum(v is not None for v in vectors)
        save_vectors(session=session, team_id=team,
                     vectors=[(item.id or 0, item.published_at or item.first_seen_at, v)
                              for item, v in zip(pending, vectors, strict=True) if v])
        assignments = []
        for item, vector in zip(pending, vectors, strict=True):
            assignment = clusterer.assign(StoryInput(
                item_id=item.id or 0, title=item.title, text=item.text, outlet=item.outlet,
                published_at=item.published_at or item.first_seen_at, embedding=vector))
            assignments.append((item, assignment))
            (report.created if assignment.is_new else report.grown).add(assignment.story_id)
            report.merged += len(assignment.merged)
        save_assignments(session=session, assignments=assignments, now=now)
        changed = clusterer.take_changed()
        members = story_items(session=session, story_ids=[s.story_id for s in changed])
        for state in changed:
            items = members.get(state.story_id, [])
            refs = tuple(SourceRef(item_id=i.id or 0, title=i.title, url=i.url, outlet=i.outlet,
                                   published_at=i.published_at) for i in items)
            save_state(session=session, state=state, headline=clearest(refs).title if refs else "", now=now)
        report.items += len(pending)
        return len(pending) == BATCH


def _embeddings(embed: Embed | None, items: Sequence[Item]) -> list[tuple[float, ...] | None]:
    vectors: list[tuple[float, ...] | None] = [None] * len(items)
    texts = {n: text for n, item in enumerate(items) if (text := embedding_text(item.title, item.text))}
    if embed is None or not texts:
        return vectors
    found = embed(list(texts.values()))
    if found is not None:
        for n, vector in zip(texts, found, strict=True):
            vectors[n] = vector
    return vectors
