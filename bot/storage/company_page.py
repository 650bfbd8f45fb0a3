"""One company's page in one workspace (`briefbot company NAME`, `/brief company NAME`): its names and aliases,
its open hiring signals, its open roles by function and metro with their trend, and recent stories about it.
Everything is the workspace's own: no other team's postings, signals, stories or aliases."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot.core.companies import CompanyIdentity, canonical, held_by
from bot.core.open_roles import OpenRoles, open_roles
from bot.storage.briefs import latest_briefs
from bot.storage.companies import AliasEntry, checked_name, company_identity, list_aliases
from bot.storage.company_news import company_names, story_matches
from bot.storage.models import CompanyAlias, Item, Signal, Story
from bot.storage.signals import company_postings, job_outlets
from bot.storage.stories import story_items

NEWS_WINDOW = timedelta(days=30)  # stories on the page: those updated in the last 30 days
MAX_STORIES = 10
MAX_CLOSE = 5  # close names suggested for a company the workspace does not know


@dataclass(frozen=True, slots=True)
class PageStory:
    id: int
    headline: str  # the latest brief's headline, else the story's
    outlets: tuple[str, ...]
    item_count: int
    last_at: datetime
    url: str  # the story's newest item

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "headline": self.headline, "outlets": list(self.outlets),
                "item_count": self.item_count, "last_at": self.last_at.isoformat(), "url": self.url}


@dataclass(frozen=True, slots=True)
class CompanyPage:
    team_id: str
    asked: str  # the name as asked for
    key: str  # the company's key (through the workspace's aliases)
    name: str  # as it is shown
    names: tuple[str, ...]  # every name it goes by here: its aliases' and its postings'
    aliases: tuple[AliasEntry, ...]  # the aliases (the workspace's and built-in) that lead to it
    signals: tuple[Signal, ...]  # its open hiring signals, newest first
    roles: OpenRoles
    stories: tuple[PageStory, ...]  # newest first
    news_since: datetime
    known: bool  # the workspace has something on it (below)

    def as_dict(self) -> dict[str, Any]:
        return {
            "known": self.known, "team_id": self.team_id, "asked": self.asked, "key": self.key, "name": self.name,
            "names": list(self.names),
            "aliases": [{"alias": a.alias, "canonical": a.canonical, "origin": a.origin} for a in self.aliases],
            "signals": [{"id": s.id, "family": s.family, "metro": s.metro, "reason": s.reason,
                         "item_count": s.item_count, "first_at": s.first_at.isoformat(),
                         "last_at": s.last_at.isoformat()} for s in self.signals],
            "open_roles": self.roles.as_dict(),
            "stories": [s.as_dict() for s in self.stories], "news_since": self.news_since.isoformat(),
        }


def company_page(*, session: Session, team_id: str, name: str, now: datetime) -> CompanyPage:
    """The page of the company `name` stands for in the workspace; `known` is False when the workspace has
    nothing on it. Raises storage.companies.AliasError for a name that cannot be a company's (empty, too long)."""
    asked, _ = checked_name(name)
    identity = company_identity(session=session, team_id=team_id)
    key = identity.key(asked)
    assert key is not None  # checked_name keyed it
    target = canonical(key, identity.aliases)
    postings = company_postings(session=session, team_id=team_id, company=asked, identity=identity)
    closed = _closed(session, [p.item_id for p in postings])
    names = company_names(session=session, team_id=team_id, identity=identity, key=target)
    shown = identity.display(target, [p.company for p in postings] or [asked])
    roles = open_roles(postings, now=now, company=shown, is_open=lambda p: p.item_id not in closed)
    since = now - NEWS_WINDOW
    matches = story_matches(session=session, team_id=team_id, identity=identity, key=target, since=since,
                            limit=MAX_STORIES)
    aliases = tuple(a for a in list_aliases(session=session, team_id=team_id) if a.resolves_to == target)
    signals = tuple(_open_signals(session, team_id, identity, target))
    # Known: it has postings, signals or an alias of the workspace's own, or a brief names it. A word that only
    # appears in headlines is not a company (a page for any word would be a search).
    known = bool(postings or signals or any(a.team_id is not None for a in aliases) or any(m.named for m in matches))
    return CompanyPage(team_id=team_id, asked=asked, key=target, name=shown, names=_shown_names(names, shown, target),
                       aliases=aliases, signals=signals, roles=roles,
                       stories=_page_stories(session, team_id, [m.story for m in matches]), news_since=since,
                       known=known)


@dataclass(frozen=True, slots=True)
class CompanyLookup:
    page: CompanyPage  # the page shown, or the unknown name's (known False)
    close: list[str]  # when nothing is shown: close names to suggest
    instead_of: str | None = None  # the name asked for, when the page is that of the one company holding it


def look_up_company(*, session: Session, team_id: str, name: str, now: datetime) -> CompanyLookup:
    """The page for `name`. A name the workspace does not know that only one of its company names holds as a
    whole word or the first words ("kestrel" for "Kestrel Commerce") shows that company's page, saying so;
    otherwise the close names are suggested. Raises storage.companies.AliasError like `company_page`."""
    page = company_page(session=session, team_id=team_id, name=name, now=now)
    if page.known:
        return CompanyLookup(page, [])
    holding, alike = _close(session, team_id, page.asked)
    if len(holding) == 1 and held_by(page.asked, holding[0]):
        found = company_page(session=session, team_id=team_id, name=holding[0], now=now)
        if found.known:
            return CompanyLookup(found, [], instead_of=page.asked)
    return CompanyLookup(page, list(dict.fromkeys([*holding, *alike]))[:MAX_CLOSE])


def _close(session: Session, team_id: str, name: str, limit: int = MAX_CLOSE) -> tuple[list[str], list[str]]:
    known = {*job_outlets(session=session, team_id=team_id),
             *session.exec(select(Signal.company).where(Signal.team_id == team_id).distinct()),
             *(n for pair in session.exec(select(CompanyAlias.alias, CompanyAlias.canonical)
                                          .where(CompanyAlias.team_id == team_id)) for n in pair)}
    by_fold = {n.casefold(): n for n in sorted(known) if n and n.strip()}
    wanted = " ".join(name.split()).casefold()
    if not wanted:
        return [], []
    holding = [n for f, n in by_fold.items() if f != wanted and (wanted in f.split() or f in wanted.split()
                                                                 or f.startswith(wanted) or wanted.startswith(f))]
    alike = [by_fold[f] for f in difflib.get_close_matches(wanted, list(by_fold), n=limit, cutoff=0.6)]
    return holding, alike


def _shown_names(names: list[str], shown: str, key: str) -> tuple[str, ...]:
    """The names to show: the company's name and its other names, without its key (a search form, not a name)
    and without repeats that differ only in case."""
    out: dict[str, str] = {shown.casefold(): shown}
    for name in names:
        if name != key:
            out.setdefault(name.casefold(), name)
    return tuple(sorted(out.values(), key=lambda n: (n.casefold(), n)))


def _closed(session: Session, item_ids: list[int]) -> set[int]:
    """Which of these postings are closed (core/lifecycle): not open roles."""
    closed: set[int] = set()
    for start in range(0, len(item_ids), 500):
        chunk = item_ids[start:start + 500]
        closed |= {i for i in session.exec(select(Item.id).where(col(Item.id).in_(chunk),
                                                                 col(Item.closed_at).is_not(None))) if i is not None}
    return closed


def _open_signals(session: Session, team_id: str, identity: CompanyIdentity, target: str) -> list[Signal]:
    query = (select(Signal).where(Signal.team_id == team_id, Signal.status == "open")
             .order_by(col(Signal.last_at).desc(), col(Signal.id).desc()))
    return [s for s in session.exec(query) if identity.key(s.company) == target]


def _page_stories(session: Session, team_id: str, stories: list[Story]) -> tuple[PageStory, ...]:
    ids = [s.id for s in stories if s.id is not None]
    briefs = latest_briefs(session=session, team_id=team_id, subject="story", subject_ids=ids)
    items = story_items(session=session, story_ids=ids)
    out = []
    for story in stories:
        sid = story.id or 0
        brief = briefs.get(sid)
        newest = items.get(sid, [])
        out.append(PageStory(id=sid, headline=brief.headline if brief else story.headline,
                             outlets=tuple(str(o) for o in story.outlets), item_count=story.item_count,
                             last_at=story.last_at, url=newest[-1].url if newest else ""))
    return tuple(out)
