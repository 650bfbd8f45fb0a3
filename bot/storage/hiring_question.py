"""What a hiring question about one company reads from storage: the names the workspace's job postings are
filed under, and one company's postings in the families asked about (bot.core.hiring_question)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.hiring_question import HiringScope, hiring_scope
from bot.core.jobs import family_of, job_function
from bot.core.question import Question
from bot.storage.companies import company_identity
from bot.storage.models import Item

MAX_READ = 400  # a company's latest stored postings read for one question: enough for its families, bounded work


def question_scope(session: Session, *, team_id: str, question: Question) -> HiringScope | None:
    """The hiring scope of `question` in the workspace, or None (bot.core.hiring_question.hiring_scope)."""
    if not question.about_jobs:
        return None
    companies = session.exec(select(Item.outlet).where(Item.team_id == team_id, Item.kind == "job").distinct())
    return hiring_scope(question, company_identity(session=session, team_id=team_id), [c for c in companies if c])


def scoped_postings(session: Session, *, team_id: str, scope: HiringScope, since: datetime | None,
                    until: datetime | None, limit: int) -> list[int]:
    """The ids of the `limit` latest stored postings of the scope's companies in its families (every family when
    it names none), first seen or posted inside the window; none when it names no company."""
    if not scope.names:  # every board's newest postings would be a scan of the team's; search finds those
        return []
    at = func.coalesce(Item.published_at, Item.first_seen_at)
    query = (select(Item.id, Item.job_title, Item.title, Item.department)
             .where(Item.team_id == team_id, Item.kind == "job", col(Item.outlet).in_(sorted(scope.names)))
             .order_by(col(Item.id).desc()).limit(MAX_READ))  # stored last first: read along the outlet index
    if since is not None:
        query = query.where(at >= since)
    if until is not None:
        query = query.where(at < until)
    ids: list[int] = []
    for item_id, job_title, title, department in session.exec(query):
        if item_id is None or (scope.families and
                                family_of(job_function(job_title or title, department)) not in scope.families):
            continue
        ids.append(item_id)
        if len(ids) == limit:
            break
    return ids
