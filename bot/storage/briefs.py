"""Data functions for briefs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import not_, or_
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.briefs.model import BriefInput, WrittenBrief
from bot.storage.deliveries import subject_item_ids
from bot.storage.models import Brief, Item, Signal


def latest_brief(*, session: Session, team_id: str, subject: str, subject_id: int,
                 passing_over: str | None = None) -> Brief | None:
    """The subject's newest brief; `passing_over` a writer note's prefix: the newest whose note does not start
    with it (briefing.CARRIED_PREFIX: the newest whose text was written for the subject, not carried over by a
    sources update)."""
    query = select(Brief).where(Brief.team_id == team_id, Brief.subject == subject, Brief.subject_id == subject_id)
    return session.exec(_passing_over(query, passing_over)
                        .order_by(col(Brief.subject_version).desc(), col(Brief.id).desc())).first()


def latest_briefs(*, session: Session, team_id: str, subject: str, subject_ids: list[int],
                  passing_over: str | None = None) -> dict[int, Brief]:
    """`latest_brief` for many subjects of one kind, in one query: subject id -> its newest brief."""
    newest: dict[int, Brief] = {}
    if subject_ids:
        query = select(Brief).where(Brief.team_id == team_id, Brief.subject == subject,
                                    col(Brief.subject_id).in_(subject_ids))
        for brief in session.exec(_passing_over(query, passing_over).order_by(col(Brief.subject_version),
                                                                               col(Brief.id))):
            newest[brief.subject_id] = brief  # the last one read is the newest
    return newest


def _passing_over(query: SelectOfScalar[Brief], prefix: str | None) -> SelectOfScalar[Brief]:
    if prefix is None:
        return query
    return query.where(or_(col(Brief.writer_note).is_(None),
                           not_(col(Brief.writer_note).startswith(prefix, autoescape=True))))


def brief_by_input_hash(*, session: Session, input_hash: str) -> Brief | None:
    """A brief written from exactly this input before (identical inputs are never sent to the LLM twice)."""
    return session.exec(select(Brief).where(Brief.input_hash == input_hash).order_by(col(Brief.id))).first()


def save_brief(*, session: Session, team_id: str, inp: BriefInput, written: WrittenBrief, items: int, outlets: int,
               now: datetime) -> Brief:
    """`items` and `outlets` count the whole subject (a brief cites only the newest of many items)."""
    draft = written.draft
    brief = Brief(
        team_id=team_id, subject=inp.subject, subject_id=inp.subject_id, subject_version=inp.subject_version,
        item_count=items, outlet_count=outlets, headline=draft.headline, summary=draft.summary,
        why_it_matters=draft.why_it_matters, entities=draft.entities, places=draft.places,
        event_type=draft.event_type, writer=written.writer, writer_note=written.note,
        sources=[{"item_id": s.item_id, "title": s.title, "url": s.url, "outlet": s.outlet,
                  "published_at": s.published_at.isoformat() if s.published_at else None} for s in inp.items]
        + [{"item_id": r.item_id, "title": r.headline, "url": r.url, "outlet": r.outlet, "related": r.kind,
            "published_at": r.published_at.isoformat() if r.published_at else None}
           for r in inp.related if r.kind == "story" and r.url],
        prompt_name=written.prompt_name, prompt_version=written.prompt_version, model=written.model,
        prompt_tokens=written.prompt_tokens, completion_tokens=written.completion_tokens,
        input_hash=written.input_hash, created_at=now,
    )
    session.add(brief)
    session.flush()
    return brief


def list_briefs(*, session: Session, team_id: str | None = None, since: datetime | None = None,
                limit: int = 50) -> list[Brief]:
    query = select(Brief)
    if team_id is not None:
        query = query.where(Brief.team_id == team_id)
    if since is not None:
        query = query.where(col(Brief.created_at) >= since)
    return list(session.exec(query.order_by(col(Brief.created_at).desc(), col(Brief.id).desc()).limit(limit)))


def count_briefs_since(*, session: Session, team_id: str, since: datetime) -> int:
    """How many briefs the team got since `since` (`/brief status`: the last 24 hours)."""
    query = select(func.count()).select_from(Brief).where(Brief.team_id == team_id, col(Brief.created_at) >= since)
    return int(session.exec(query).one())


def team_briefs(*, session: Session, team_id: str, brief_ids: list[int]) -> list[Brief]:
    """The team's briefs among `brief_ids`, in that order; ids of missing or other teams' briefs are skipped."""
    if not brief_ids:
        return []
    found = {b.id: b for b in session.exec(select(Brief).where(col(Brief.id).in_(brief_ids), Brief.team_id == team_id))}
    return [found[i] for i in brief_ids if i in found]


@dataclass(frozen=True, slots=True)
class BriefSignal:
    """What an alert about a hiring signal shows of the signal: the company, where, why, how many postings,
    and the roles they are for (a title and its count, most common first)."""

    company: str
    metro: str
    reason: str
    postings: int
    roles: tuple[tuple[str, int], ...]


def brief_signal(*, session: Session, brief: Brief) -> BriefSignal | None:
    """The signal a signal brief is about, if it is the brief's team's."""
    if brief.subject != "signal":
        return None
    signal = session.get(Signal, brief.subject_id)
    if signal is None or signal.team_id != brief.team_id:
        return None
    ids = subject_item_ids(session=session, team_id=brief.team_id, subject="signal", subject_id=signal.id or 0)
    titles: Counter[str] = Counter()
    if ids:
        for item in session.exec(select(Item).where(col(Item.id).in_(ids))):
            titles[(item.job_title or item.title).strip()] += 1
    return BriefSignal(company=signal.company, metro=signal.metro, reason=signal.reason, postings=signal.item_count,
                       roles=tuple(titles.most_common()))


def brief_as_dict(brief: Brief) -> dict[str, Any]:
    return {
        "id": brief.id, "team_id": brief.team_id, "subject": brief.subject, "subject_id": brief.subject_id,
        "subject_version": brief.subject_version, "headline": brief.headline, "summary": brief.summary,
        "why_it_matters": brief.why_it_matters, "entities": brief.entities, "places": brief.places,
        "event_type": brief.event_type, "sources": brief.sources,
        "item_ids": [s["item_id"] for s in brief.sources], "writer": brief.writer, "writer_note": brief.writer_note,
        "prompt_name": brief.prompt_name, "prompt_version": brief.prompt_version, "model": brief.model,
        "prompt_tokens": brief.prompt_tokens, "completion_tokens": brief.completion_tokens,
        "created_at": brief.created_at.isoformat(),
    }


def team_brief(session: Session, *, team_id: str, brief_id: int | None) -> Brief | None:
    """The brief, if it is this team's."""
    if brief_id is None:
        return None
    brief = session.get(Brief, brief_id)
    return brief if brief is not None and brief.team_id == team_id else None
