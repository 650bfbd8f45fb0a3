"""What a hiring question reads from storage (bot.core.hiring_question): the names the workspace's job postings
are filed under, the named companies' postings in the families and metros asked about, a metro's hiring
signals' postings, and the metros of the postings a search found."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.core.hiring_question import HiringScope, hiring_scope
from bot.core.jobs import family_of, job_function, metros_of
from bot.core.question import Question
from bot.storage.companies import company_identity
from bot.storage.models import Item, Signal, SignalItem
from bot.storage.signals import job_outlets

MAX_READ = 400  # a company's latest stored postings read for one question: enough for its families, bounded work


def question_scope(session: Session, *, team_id: str, question: Question) -> HiringScope | None:
    """The hiring scope of `question` in the workspace, or None (bot.core.hiring_question.hiring_scope)."""
    if not question.about_jobs:
        return None
    return hiring_scope(question, company_identity(session=session, team_id=team_id),
                        job_outlets(session=session, team_id=team_id))


def scoped_postings(session: Session, *, team_id: str, scope: HiringScope, since: datetime | None,
                    until: datetime | None, limit: int) -> list[int]:
    """The ids of the `limit` latest stored postings of the scope's companies in its families and metros (every
    family, every metro when it names none), first seen or posted inside the window. Without a company named:
    the postings of the workspace's hiring signals in the metros it names, if any (every board's newest postings
    would be a scan of the team's; search finds those)."""
    if not scope.names:
        return _signal_postings(session, team_id, scope, limit) if scope.metros else []
    at = func.coalesce(Item.published_at, Item.first_seen_at)
    query = (sa_select(col(Item.id), col(Item.job_title), col(Item.title), col(Item.department),  # 5 columns:
                       col(Item.locations))  # more than sqlmodel's select types
             .where(col(Item.team_id) == team_id, col(Item.kind) == "job", col(Item.outlet).in_(sorted(scope.names)))
             .order_by(col(Item.id).desc()).limit(MAX_READ))  # stored last first: read along the outlet index
    if since is not None:
        query = query.where(at >= since)
    if until is not None:
        query = query.where(at < until)
    ids: list[int] = []
    for item_id, job_title, title, department, locations in session.execute(query).all():
        if item_id is None or (scope.families and
                                family_of(job_function(job_title or title, department)) not in scope.families):
            continue
        if scope.metros and not scope.metros & set(_metros(locations)):
            continue
        ids.append(item_id)
        if len(ids) == limit:
            break
    return ids


def posting_metros(session: Session, *, team_id: str, ids: list[int]) -> dict[int, tuple[str, ...]]:
    """The metros of these postings of the team's (by id; the few a search found). By primary key alone, the
    team checked on each row: with the team in the WHERE, SQLite's planner without statistics scans the team's
    index instead (300–400 ms at a million items)."""
    if not ids:
        return {}
    rows = session.exec(select(Item.id, Item.team_id, col(Item.locations)).where(col(Item.id).in_(ids)))
    return {item_id: tuple(_metros(locations)) for item_id, team, locations in rows
            if item_id is not None and team == team_id}


def _signal_postings(session: Session, team_id: str, scope: HiringScope, limit: int) -> list[int]:
    query = (select(SignalItem.item_id).join(Signal, col(Signal.id) == SignalItem.signal_id)
             .where(Signal.team_id == team_id, col(Signal.metro).in_(sorted(scope.metros)))
             .order_by(col(Signal.last_at).desc(), col(SignalItem.item_id).desc()).limit(limit))
    if scope.families:
        query = query.where(col(Signal.family).in_(sorted(scope.families)))
    return list(dict.fromkeys(session.exec(query)))


def _metros(locations: object) -> list[str]:
    """The metros of a stored `locations` value; a place of another shape than the normaliser writes (a row
    written by hand, an older writer) is skipped, so one odd row cannot fail the question."""
    if not isinstance(locations, list):
        return []
    return metros_of([p for p in locations if isinstance(p, dict) and all(
        isinstance(p.get(field), str | None) for field in ("city", "region", "country"))])
