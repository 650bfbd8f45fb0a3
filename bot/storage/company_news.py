"""News about a company: the stories that are about one company, under any of its names. Shared by the company
page (`briefbot company`, `/brief company`) and by briefs that link a company's hiring signal and its news.

A story is about the company when
- its latest brief's `entities` hold a name that resolves to the company (through the workspace's aliases:
  a brief naming "ByteDance" is about TikTok where one is an alias of the other), or
- its headline, its latest brief's headline, or one of its items' titles mentions one of the company's names
  as whole words (core/routing.mentions: "Kestrel" in "Kestrel Commerce opens…", not in "kestrels").
The company's names are those its aliases write (CompanyIdentity.names), the names its job postings give
(storage/signals.company_outlets) and its key, three characters or more. Merged stories are left out (their items
moved). The matching itself is core/news_links', which also links a signal's brief to its company's news."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.core.companies import CompanyIdentity, canonical
from bot.core.news_links import brief_names_company, story_names_company
from bot.core.news_links import company_names as names_of
from bot.storage.models import Story
from bot.storage.news_links import recent_story_facts
from bot.storage.signals import company_outlets


def company_names(*, session: Session, team_id: str, identity: CompanyIdentity, key: str) -> list[str]:
    """Every name the company `key` stands for goes by in the workspace: as its aliases write it, as its job
    postings give it, and its key; alphabetically, without repeats (core/news_links.company_names)."""
    target = canonical(key, identity.aliases)
    seen = company_outlets(session=session, team_id=team_id, key=target, identity=identity)
    return sorted(names_of(identity, target, seen), key=lambda n: (n.casefold(), n))


@dataclass(frozen=True, slots=True)
class StoryMatch:
    story: Story
    named: bool  # its latest brief names the company among its entities (not only a mention in its text)


def story_matches(*, session: Session, team_id: str, identity: CompanyIdentity, key: str, since: datetime,
                  limit: int | None = None) -> list[StoryMatch]:
    """`stories_about`, saying for each story whether its brief names the company as an entity."""
    target = canonical(key, identity.aliases)
    names = company_names(session=session, team_id=team_id, identity=identity, key=target)
    facts = recent_story_facts(session=session, team_id=team_id, since=since)
    found = sorted((f for f in facts if story_names_company(f, target, names, identity)),
                   key=lambda f: (f.last_at, f.story_id), reverse=True)[:limit]
    if not found:
        return []
    stories = {s.id: s for s in session.exec(select(Story).where(col(Story.id).in_([f.story_id for f in found])))}
    return [StoryMatch(stories[f.story_id], brief_names_company(f, target, identity)) for f in found
            if f.story_id in stories]


def stories_about(*, session: Session, team_id: str, identity: CompanyIdentity, key: str, since: datetime,
                  limit: int | None = None) -> list[Story]:
    """The workspace's stories about the company `key` stands for (module docstring) that were last updated
    at or after `since` (`Story.last_at`), newest first; at most `limit` when given. `identity` is the
    workspace's (storage/companies.company_identity); `key` any key of the company (it is followed through the
    aliases)."""
    return [m.story for m in story_matches(session=session, team_id=team_id, identity=identity, key=key,
                                           since=since, limit=limit)]
