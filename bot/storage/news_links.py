"""Data functions that link a company's news and its hiring: recent stories as the pure matcher reads them
(bot.core.news_links), and a team's open signals with every name their companies go by."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from bot.core.companies import CompanyIdentity
from bot.core.jobs import family_labels
from bot.core.news_links import SignalFacts, StoryFacts, company_names
from bot.storage.briefs import latest_briefs
from bot.storage.models import Item, Signal, Story
from bot.storage.signals import company_outlets

MAX_TITLES = 20  # a story's article titles read for company names (its newest)


def recent_story_facts(*, session: Session, team_id: str, since: datetime) -> list[StoryFacts]:
    """The team's live stories whose last report is since `since`, with their articles' titles, their newest
    article (to cite) and their latest brief's entities."""
    stories = list(session.exec(select(Story).where(Story.team_id == team_id, col(Story.merged_into).is_(None),
                                                    col(Story.last_at) >= since).order_by(col(Story.id))))
    if not stories:
        return []
    ids = [s.id or 0 for s in stories]
    articles: dict[int, list[tuple[int, str, str, str, datetime]]] = {i: [] for i in ids}
    at = func.coalesce(Item.published_at, Item.first_seen_at)
    query = (select(Item).where(Item.team_id == team_id, col(Item.story_id).in_(ids))
             .order_by(at.desc(), col(Item.id).desc()))
    for item in session.exec(query):
        if len(articles[item.story_id or 0]) < MAX_TITLES:
            articles[item.story_id or 0].append((item.id or 0, item.title, item.url, item.outlet,
                                                 item.published_at or item.first_seen_at))
    briefs = latest_briefs(session=session, team_id=team_id, subject="story", subject_ids=ids)
    out = []
    for story in stories:
        found = articles[story.id or 0]
        newest = found[0] if found else None
        brief = briefs.get(story.id or 0)
        out.append(StoryFacts(
            story_id=story.id or 0, headline=brief.headline if brief else story.headline,
            titles=(*((story.headline,) if brief else ()), *(a[1] for a in found)),
            entities=tuple(str(e) for e in (brief.entities if brief else [])),
            outlets=tuple(story.outlets), last_at=story.last_at, url=newest[2] if newest else "",
            outlet=newest[3] if newest else "", item_id=newest[0] if newest else None,
            published_at=newest[4] if newest else None))
    return out


def open_signal_facts(*, session: Session, team_id: str, identity: CompanyIdentity) -> list[SignalFacts]:
    """The team's open signals, each with every name its company goes by."""
    labels = family_labels()
    out = []
    names: dict[str, tuple[str, ...]] = {}
    for signal in session.exec(select(Signal).where(Signal.team_id == team_id, Signal.status == "open")
                               .order_by(col(Signal.id))):
        key = identity.key(signal.company)
        if key is None:
            continue
        if key not in names:
            seen = company_outlets(session=session, team_id=team_id, key=key, identity=identity)
            names[key] = company_names(identity, key, [signal.company, *seen])
        out.append(SignalFacts(signal_id=signal.id or 0, company=signal.company, names=names[key],
                               family_label=labels.get(signal.family, signal.family), metro=signal.metro,
                               count=signal.item_count, reason=signal.reason, last_at=signal.last_at))
    return out
