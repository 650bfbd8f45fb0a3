"""Data functions for stories: the clusterer's states and assignments in and out, items moved on a merge,
the stories due a brief, listings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, func, select

from bot.core.stories import Assignment, StoryState
from bot.storage.models import Item, ItemLink, Story


def unclustered_news(*, session: Session, team_id: str, limit: int) -> list[Item]:
    """News items not yet in a story, oldest report first: the durable queue of the clusterer."""
    order = func.coalesce(Item.published_at, Item.first_seen_at)
    query = (select(Item).where(Item.team_id == team_id, Item.kind == "news", col(Item.story_id).is_(None))
             .order_by(order, col(Item.id)).limit(limit))
    return list(session.exec(query))


def active_states(*, session: Session, team_id: str, since: datetime) -> list[StoryState]:
    query = select(Story).where(Story.team_id == team_id, col(Story.merged_into).is_(None),
                                col(Story.last_at) >= since, Story.item_count > 0)
    return [StoryState.from_json(s.state["json"]) for s in session.exec(query) if s.state.get("json")]


def new_story(*, session: Session, team_id: str, now: datetime) -> int:
    """A story row for the clusterer to fill (the database hands out ids)."""
    story = Story(team_id=team_id, headline="", first_at=now, last_at=now, created_at=now, updated_at=now,
                  item_count=0)
    session.add(story)
    session.flush()
    return story.id or 0


def merge_stories(*, session: Session, into: int, absorbed: tuple[int, ...], now: datetime) -> None:
    for story_id in absorbed:
        session.execute(update(Item).where(col(Item.story_id) == story_id).values(story_id=into))
        story = session.get(Story, story_id)
        if story is not None:
            story.merged_into, story.updated_at = into, now


def save_assignments(*, session: Session, assignments: Sequence[tuple[Item, Assignment]], now: datetime) -> None:
    """Each item into the story the clusterer chose, in the clusterer's order: a merge moves the absorbed stories'
    items (those assigned just before it included) into the story that absorbed them. Flushed at the end, so the
    stories' members can be read back."""
    for item, assignment in assignments:
        item.story_id = assignment.story_id
        if assignment.merged:
            session.flush()  # the UPDATE below must see the assignments made so far
            merge_stories(session=session, into=assignment.story_id, absorbed=assignment.merged, now=now)
    session.flush()


def save_state(*, session: Session, state: StoryState, headline: str, now: datetime) -> Story | None:
    story = session.get(Story, state.story_id)
    if story is None or story.merged_into is not None:
        return None
    if state.item_count > story.item_count and story.item_count > 0:
        story.version += 1
    story.item_count, story.outlets = state.item_count, list(state.outlets)
    story.first_at, story.last_at = state.first_at, state.last_at
    story.state = {"json": state.to_json()}
    story.headline = headline or story.headline
    story.updated_at = now
    return story


def story_items(*, session: Session, story_ids: list[int]) -> dict[int, list[Item]]:
    out: dict[int, list[Item]] = {sid: [] for sid in story_ids}
    if story_ids:
        query = (select(Item).where(col(Item.story_id).in_(story_ids))
                 .order_by(func.coalesce(Item.published_at, Item.first_seen_at), col(Item.id)))
        for item in session.exec(query):
            out[item.story_id or 0].append(item)
    return out


def recent_stories(*, session: Session, team_id: str, since: datetime, min_outlets: int) -> list[Story]:
    """The team's live (not merged) stories updated since `since` that at least `min_outlets` outlets carry,
    oldest id first."""
    query = select(Story).where(Story.team_id == team_id, col(Story.merged_into).is_(None),
                                Story.item_count >= min_outlets, col(Story.updated_at) >= since)
    return [s for s in session.exec(query.order_by(col(Story.id))) if len(s.outlets) >= min_outlets]


def stories_from_sources(*, session: Session, team_id: str, source_ids: set[int], since: datetime) -> list[Story]:
    """The team's live stories updated since `since` that hold an item from one of `source_ids`, oldest id first."""
    if not source_ids:
        return []
    wanted = sorted(source_ids)
    linked = select(ItemLink.item_id).where(ItemLink.team_id == team_id, col(ItemLink.source_id).in_(wanted))
    ids = (select(Item.story_id).where(Item.team_id == team_id, col(Item.story_id).is_not(None),
                                       or_(col(Item.source_id).in_(wanted), col(Item.id).in_(linked.scalar_subquery())))
           .distinct())
    query = select(Story).where(Story.team_id == team_id, col(Story.merged_into).is_(None),
                                col(Story.updated_at) >= since, col(Story.id).in_(ids.scalar_subquery()))
    return list(session.exec(query.order_by(col(Story.id))))


def list_stories(*, session: Session, team_id: str | None = None, since: datetime | None = None,
                 min_items: int = 1, limit: int = 50) -> list[Story]:
    query = select(Story).where(col(Story.merged_into).is_(None), Story.item_count >= min_items)
    if team_id is not None:
        query = query.where(Story.team_id == team_id)
    if since is not None:
        query = query.where(col(Story.last_at) >= since)
    return list(session.exec(query.order_by(col(Story.last_at).desc(), col(Story.id).desc()).limit(limit)))


def story_as_dict(story: Story, items: list[Item]) -> dict[str, Any]:
    return {
        "id": story.id, "team_id": story.team_id, "headline": story.headline, "item_count": story.item_count,
        "outlets": story.outlets, "version": story.version, "first_at": story.first_at.isoformat(),
        "last_at": story.last_at.isoformat(),
        "items": [{"id": i.id, "title": i.title, "url": i.url, "outlet": i.outlet,
                   "published_at": i.published_at.isoformat() if i.published_at else None} for i in items],
    }
