"""Data functions for briefs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from bot.briefs.model import BriefInput, WrittenBrief
from bot.storage.models import Brief


def latest_brief(*, session: Session, team_id: str, subject: str, subject_id: int) -> Brief | None:
    return session.exec(
        select(Brief).where(Brief.team_id == team_id, Brief.subject == subject, Brief.subject_id == subject_id)
        .order_by(col(Brief.subject_version).desc(), col(Brief.id).desc())
    ).first()


def latest_briefs(*, session: Session, team_id: str, subject: str, subject_ids: list[int]) -> dict[int, Brief]:
    """`latest_brief` for many subjects of one kind, in one query: subject id -> its newest brief."""
    newest: dict[int, Brief] = {}
    if subject_ids:
        query = select(Brief).where(Brief.team_id == team_id, Brief.subject == subject,
                                    col(Brief.subject_id).in_(subject_ids))
        for brief in session.exec(query.order_by(col(Brief.subject_version), col(Brief.id))):
            newest[brief.subject_id] = brief  # the last one read is the newest
    return newest


def brief_by_input_hash(*, session: Session, input_hash: str) -> Brief | None:
    """A brief written from exactly this input before (identical inputs are never sent to the LLM twice)."""
    return session.exec(select(Brief).where(Brief.input_hash == input_hash).order_by(col(Brief.id))).first()


def tokens_since(*, session: Session, since: datetime) -> int:
    total = session.exec(select(func.coalesce(func.sum(Brief.prompt_tokens + Brief.completion_tokens), 0))
                         .where(col(Brief.created_at) >= since)).one()
    return int(total)


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
                  "published_at": s.published_at.isoformat() if s.published_at else None} for s in inp.items],
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
