"""Data functions for a signal's evidence ("why it fired"): the signal, when it last fired, and the company's
stored postings with their links, handed to the pure `bot.core.signal_evidence.explain`. Nothing is stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from bot.core.lifecycle import track
from bot.core.pullback_evidence import PullbackEvidence, explain_pullback
from bot.core.signal_evidence import Evidence, ItemRef, explain, group_weekly_counts
from bot.core.signals import Posting, SignalParams
from bot.storage.lifecycle import lifecycles
from bot.storage.models import Item, Signal, SignalItem
from bot.storage.signals import PULLBACK, company_postings


def team_signal(*, session: Session, signal_id: int, team_id: str | None) -> Signal | None:
    """The signal, if it exists and (when a team is given) is that team's."""
    signal = session.get(Signal, signal_id)
    if signal is None or (team_id is not None and signal.team_id != team_id):
        return None
    return signal


def fired_at(*, session: Session, signal: Signal) -> datetime:
    """When the signal last gained postings: the moment detection last found it (a closed signal's
    `updated_at` is when it closed, so it cannot stand for that)."""
    last = session.exec(select(func.max(SignalItem.added_at)).where(SignalItem.signal_id == signal.id)).one()
    return last if isinstance(last, datetime) else signal.created_at


def signal_evidence(*, session: Session, signal: Signal, params: SignalParams) -> Evidence:
    """The signal's evidence as of when it last fired, from the company's stored postings."""
    postings = company_postings(session=session, team_id=signal.team_id, company=signal.company)
    return explain(postings, _key(signal, postings), now=fired_at(session=session, signal=signal), params=params,
                   refs=_refs(session, signal, postings))


def _refs(session: Session, signal: Signal, postings: Sequence[Posting]) -> dict[int, ItemRef]:
    query = select(Item.id, Item.url, Item.locations).where(
        Item.team_id == signal.team_id, Item.kind == "job", col(Item.id).in_([p.item_id for p in postings]))
    return {item_id or 0: ItemRef(url=url, place=_place(locations)) for item_id, url, locations in session.exec(query)}


def pullback_evidence(*, session: Session, signal: Signal) -> PullbackEvidence:
    """A pullback's evidence as of when it last grew, from the company's postings and their lifecycles."""
    postings = company_postings(session=session, team_id=signal.team_id, company=signal.company)
    lives = lifecycles(session=session, team_id=signal.team_id, item_ids=[p.item_id for p in postings])
    return explain_pullback(track(postings, lives), _key(signal, postings),
                            now=fired_at(session=session, signal=signal), refs=_refs(session, signal, postings))


def signal_weekly_counts(*, session: Session, signal_id: int, team_id: str) -> tuple[int, ...]:
    """The signal's group's postings per week over the weeks up to when it last fired (for the alert's
    sparkline); () when the signal is not the team's."""
    signal = team_signal(session=session, signal_id=signal_id, team_id=team_id)
    if signal is None:
        return ()
    postings = company_postings(session=session, team_id=team_id, company=signal.company)
    if signal.reason == PULLBACK:  # a pullback shows its group's open roles week by week
        return pullback_evidence(session=session, signal=signal).weekly_open
    return group_weekly_counts(postings, _key(signal, postings), end=fired_at(session=session, signal=signal))


def _key(signal: Signal, postings: Sequence[Posting]) -> tuple[str, str, str]:
    """The signal's (company, family, metro), the company named as its postings now name it (an alias added
    since the signal fired may name it differently)."""
    return (postings[0].company if postings else signal.company, signal.family, signal.metro)


def _place(locations: Sequence[Any] | None) -> str:
    """The first place a posting names, as 'City, Region' (or 'Remote')."""
    for place in locations or ():
        if not isinstance(place, dict):
            continue
        parts = [str(place[k]) for k in ("city", "region") if place.get(k)]
        if parts:
            return ", ".join(parts)
        if place.get("remote"):
            return "Remote"
    return ""
