"""News about a company: the stories that are about one company, under any of its names. Shared by the company
page (`briefbot company`, `/brief company`) and by briefs that link a company's hiring signal and its news.

A story is about the company when
- its latest brief's `entities` hold a name that resolves to the company (through the workspace's aliases:
  a brief naming "ByteDance" is about TikTok where one is an alias of the other), or
- its headline, its latest brief's headline, or one of its items' titles mentions one of the company's names
  as whole words (core/routing.mentions: "Kestrel" in "Kestrel Commerce opens…", not in "kestrels").
The company's names are those its aliases write (CompanyIdentity.names), the names its job postings give
(storage/signals.company_outlets) and its key. Merged stories are left out (their items moved)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.core.companies import CompanyIdentity, canonical
from bot.core.routing import mentions
from bot.storage.briefs import latest_briefs
from bot.storage.models import Item, Story
from bot.storage.signals import company_outlets


def company_names(*, session: Session, team_id: str, identity: CompanyIdentity, key: str) -> list[str]:
    """Every name the company `key` stands for goes by in the workspace: as its aliases write it, as its job
    postings give it, and its key; alphabetically, without repeats."""
    target = canonical(key, identity.aliases)
    names = {*identity.names(target), *company_outlets(session=session, team_id=team_id, key=target,
                                                       identity=identity), target}
    return sorted({" ".join(n.split()) for n in names if n.strip()}, key=lambda n: (n.casefold(), n))


@dataclass(frozen=True, slots=True)
class StoryMatch:
    story: Story
    named: bool  # its latest brief names the company among its entities (not only a mention in its text)


def story_matches(*, session: Session, team_id: str, identity: CompanyIdentity, key: str, since: datetime,
                  limit: int | None = None) -> list[StoryMatch]:
    """`stories_about`, saying for each story whether its brief names the company as an entity."""
    target = canonical(key, identity.aliases)
    names = company_names(session=session, team_id=team_id, identity=identity, key=target)
    query = (select(Story).where(Story.team_id == team_id, col(Story.merged_into).is_(None),
                                 col(Story.last_at) >= since)
             .order_by(col(Story.last_at).desc(), col(Story.id).desc()))
    stories = list(session.exec(query))
    ids = [s.id for s in stories if s.id is not None]
    briefs = latest_briefs(session=session, team_id=team_id, subject="story", subject_ids=ids)
    titles: dict[int, list[str]] = {}
    if ids:
        rows = session.exec(select(Item.story_id, Item.title).where(Item.team_id == team_id,
                                                                    col(Item.story_id).in_(ids)))
        for story_id, title in rows:
            titles.setdefault(int(story_id or 0), []).append(title)
    found: list[StoryMatch] = []
    for story in stories:
        brief = briefs.get(story.id or 0)
        entities = [e for e in (brief.entities if brief else []) if isinstance(e, str)]
        texts = [story.headline, *([brief.headline] if brief else []), *titles.get(story.id or 0, [])]
        named = any(identity.key(e) == target for e in entities)
        if named or any(mentions(name, text) for name in names for text in texts):
            found.append(StoryMatch(story, named))
            if limit is not None and len(found) >= limit:
                break
    return found


def stories_about(*, session: Session, team_id: str, identity: CompanyIdentity, key: str, since: datetime,
                  limit: int | None = None) -> list[Story]:
    """The workspace's stories about the company `key` stands for (module docstring) that were last updated
    at or after `since` (`Story.last_at`), newest first; at most `limit` when given. `identity` is the
    workspace's (storage/companies.company_identity); `key` any key of the company (it is followed through the
    aliases)."""
    return [m.story for m in story_matches(session=session, team_id=team_id, identity=identity, key=key,
                                           since=since, limit=limit)]
