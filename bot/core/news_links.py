"""News and hiring together: which news stories are about the company a hiring signal is about, and which
open hiring signals belong to the companies a story names. Pure: the storage layer gathers the facts.

A story is about a company when its latest brief lists the company (under any of its names, through the
workspace's aliases) among its entities, or when its headline or one of its articles' titles names the company
as whole words ("Kestrel" in "Kestrel Commerce leases Kent warehouse", not in "kestrels"). Names shorter than
`MIN_NAME` characters are too ambiguous to find in text. Only stories whose last report falls within `WINDOW`
of the signal count: last year's news says little about this month's hiring."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.companies import CompanyIdentity
from bot.core.routing import mentions

WINDOW = timedelta(days=30)
MIN_NAME = 3
MAX_LINKS = 3  # stories linked to a signal, signals linked to a story


@dataclass(frozen=True, slots=True)
class StoryFacts:
    story_id: int
    headline: str
    titles: tuple[str, ...]  # its articles' titles
    entities: tuple[str, ...]  # its latest brief's entities
    outlets: tuple[str, ...]
    last_at: datetime
    url: str = ""  # its newest article, to cite
    outlet: str = ""
    item_id: int | None = None
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SignalFacts:
    signal_id: int
    company: str
    names: tuple[str, ...]  # every name the company goes by (company_names)
    family_label: str
    metro: str
    count: int
    reason: str
    last_at: datetime


def company_names(identity: CompanyIdentity, key: str, seen: Iterable[str]) -> tuple[str, ...]:
    """The names to look for in text: the aliases' names for the company, the names its boards use (`seen`) and
    its key, each once, long enough to be meaningful."""
    out: dict[str, str] = {}
    target = identity.key(key) or key
    for name in (*identity.names(target), *seen, target):
        name = " ".join(name.split())
        if len(name) >= MIN_NAME and identity.key(name) == identity.key(key):
            out.setdefault(name.casefold(), name)
    return tuple(out.values())


def brief_names_company(story: StoryFacts, key: str, identity: CompanyIdentity) -> bool:
    """Whether the story's latest brief lists the company among its entities."""
    return any(identity.key(e) == key for e in story.entities if e.strip())


def story_names_company(story: StoryFacts, key: str, names: Sequence[str], identity: CompanyIdentity) -> bool:
    if brief_names_company(story, key, identity):
        return True
    return any(mentions(n, text) for text in (story.headline, *story.titles) for n in names)


def stories_about(stories: Sequence[StoryFacts], *, key: str, names: Sequence[str], identity: CompanyIdentity,
                  since: datetime, limit: int = MAX_LINKS) -> list[StoryFacts]:
    """The company's stories since `since`, the most widely reported first, then the newest."""
    found = [s for s in stories if s.last_at >= since and story_names_company(s, key, names, identity)]
    return sorted(found, key=lambda s: (-len(s.outlets), -s.last_at.timestamp(), s.story_id))[:limit]


def signals_in_story(story: StoryFacts, signals: Sequence[SignalFacts], identity: CompanyIdentity, *,
                     limit: int = MAX_LINKS) -> list[SignalFacts]:
    """The open signals of the companies the story names, the biggest first."""
    found = []
    for signal in signals:
        key = identity.key(signal.company)
        if key is not None and story.last_at >= signal.last_at - WINDOW and story_names_company(
                story, key, signal.names, identity):
            found.append(signal)
    return sorted(found, key=lambda s: (-s.count, -s.last_at.timestamp(), s.signal_id))[:limit]
