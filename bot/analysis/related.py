"""What a brief says about the other half of its company's picture: a hiring signal's brief gets the news
stories about its company, a story's brief gets the open hiring signals of the companies it names
(bot.core.news_links decides which). Read once per team and briefing pass, only when something is due."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.briefs.model import BriefInput, RelatedRef
from bot.core.news_links import WINDOW, SignalFacts, StoryFacts, company_names, signals_in_story, stories_about
from bot.storage.companies import company_identity
from bot.storage.news_links import open_signal_facts, recent_story_facts
from bot.storage.signals import company_outlets
from bot.storage.transactions import Session

REASON_WORDS = {"new_metro": "its first roles there", "new_function": "a new kind of role for it",
                "new_function_in_metro": "a new kind of role there", "surge": "well above its usual pace"}


def with_related(session: Session, team: str, now: datetime, inputs: list[BriefInput]) -> list[BriefInput]:
    """The inputs, each with its related stories or signals (none when nothing matches)."""
    if not inputs:
        return inputs
    identity = company_identity(session=session, team_id=team)
    stories = recent_story_facts(session=session, team_id=team, since=now - WINDOW)
    signals = open_signal_facts(session=session, team_id=team, identity=identity) if any(
        i.subject == "story" for i in inputs) else []
    by_id = {s.story_id: s for s in stories}
    out = []
    for inp in inputs:
        related: list[RelatedRef] = []
        if inp.subject == "signal":
            key = identity.key(inp.company)
            if key is not None and stories:
                seen = company_outlets(session=session, team_id=team, key=key, identity=identity)
                names = company_names(identity, key, [inp.company, *seen])
                since = (inp.first_at or now) - WINDOW
                related = [story_ref(s) for s in stories_about(stories, key=key, names=names, identity=identity,
                                                                since=since)]
        elif (story := by_id.get(inp.subject_id)) is not None:
            related = [signal_ref(s) for s in signals_in_story(story, signals, identity)]
        out.append(_replace_related(inp, tuple(related)))
    return out


def story_ref(story: StoryFacts) -> RelatedRef:
    outlets = list(dict.fromkeys(story.outlets))
    detail = f"reported by {', '.join(outlets[:3])}" + (f" and {len(outlets) - 3} more" if len(outlets) > 3 else "")
    return RelatedRef(kind="story", subject_id=story.story_id, headline=story.headline, detail=detail,
                      url=story.url, outlet=story.outlet, count=len(outlets), published_at=story.published_at,
                      item_id=story.item_id)


def signal_ref(signal: SignalFacts) -> RelatedRef:
    roles = "role" if signal.count == 1 else "roles"
    detail = f"{signal.company}, {signal.count} {signal.family_label} {roles} around {signal.metro}" + (
        f" ({REASON_WORDS[signal.reason]})" if signal.reason in REASON_WORDS else "")
    return RelatedRef(kind="signal", subject_id=signal.signal_id,
                      headline=f"{signal.company} hiring {signal.family_label} roles in {signal.metro}",
                      detail=detail, count=signal.count, published_at=signal.last_at)


def _replace_related(inp: BriefInput, related: tuple[RelatedRef, ...]) -> BriefInput:
    return replace(inp, related=related) if related else inp
