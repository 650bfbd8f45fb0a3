"""Retrieval for one question in one workspace: full-text search narrowed to the question's time window,
then ranked (bot.core.retrieval). Only the asking workspace's items and briefs are ever searched."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.core.hiring_question import scoped
from bot.core.lifecycle import with_lifecycle
from bot.core.question import Question
from bot.core.retrieval import Candidate, above, focus, focused, fused, scored, search_terms
from bot.storage.hiring_question import posting_metros, question_scope, scoped_postings
from bot.storage.lifecycle import lifecycles
from bot.storage.search import items_by_id, search
from bot.storage.transactions import Session
from bot.storage.vectors import nearest

MIN_SCORE = 0.05  # below this share of the best text score a candidate is noise
VECTOR_MARGIN = 0.15  # vector matches more than this below the best cosine are left out
POOL = 40  # candidates per ranking before fusion
RECENT = timedelta(days=7)  # searched first: older matches only when the last week holds too few (search.ENOUGH)


@dataclass(frozen=True, slots=True)
class Retrieved:
    candidates: list[Candidate]
    terms: list[str]  # what was searched for
    widened: bool = False  # the question's time window held nothing, so every date was searched


def retrieve(session: Session, *, team_id: str, question: Question, now: datetime, limit: int = 8,
             context_terms: Sequence[str] = (), vector: Sequence[float] | None = None) -> Retrieved:
    """The best `limit` items and briefs for `question`, best first. `context_terms` (from the earlier turns
    of a conversation, or the alert a question was asked under) widen the search for short follow-ups.
    `vector` (the question's embedding, when an embedding endpoint is configured) adds the items nearest in
    meaning, merged with the word matches by reciprocal rank fusion.

    A time phrase narrows the search to its window; when the window holds nothing ("sales in February" can
    mean reports about February), every date is searched instead, and `widened` says so."""
    terms = search_terms(question)
    for term in context_terms:
        if term not in terms and len(terms) < 10:
            terms.append(term)
    found = _ranked(session, team_id, question, terms, now, limit, vector)
    if found or not (question.since or question.until):
        return Retrieved(_with_lifecycles(session, team_id, found, now), terms)
    found = _ranked(session, team_id, replace(question, since=None, until=None), terms, now, limit, vector)
    return Retrieved(_with_lifecycles(session, team_id, found, now), terms, widened=True)


def _with_lifecycles(session: Session, team_id: str, found: list[Candidate], now: datetime) -> list[Candidate]:
    """A job posting's evidence starts with its lifecycle ("Posting open since 3 Nov 2026 (23 days)."), so how
    long a company's roles stay open can be answered from the stored history."""
    jobs = [c.id for c in found if c.kind == "item" and c.item_kind == "job"]
    lives = lifecycles(session=session, team_id=team_id, item_ids=jobs) if jobs else {}
    return [replace(c, text=with_lifecycle(c.text, lives[c.id], now)) if c.kind == "item" and c.id in lives else c
            for c in found]


def _ranked(session: Session, team_id: str, question: Question, terms: list[str], now: datetime,
            limit: int, vector: Sequence[float] | None) -> list[Candidate]:
    found = search(session=session, team_id=team_id, terms=terms, since=question.since, until=question.until,
                   recent=now - RECENT, now=now)
    scope = question_scope(session, team_id=team_id, question=question)
    if scope is not None:  # a hiring question: the postings of the companies, families and metros it names
        ids = scoped_postings(session, team_id=team_id, scope=scope, since=question.since, until=question.until,
                              limit=POOL)
        jobs = [c.id for c in found if c.kind == "item" and c.item_kind == "job"]
        where = posting_metros(session, team_id=team_id, ids=jobs) if scope.metros else None
        found = scoped(found, scope, items_by_id(session=session, team_id=team_id, scores=dict.fromkeys(ids, 0.0)),
                       where)
    ranked = scored(question, found, now)
    group = focus(terms, ranked)  # the words say whether the question is about one story
    words = above(ranked, MIN_SCORE, keep=group)
    if vector:
        hits = nearest(session=session, team_id=team_id, query=vector, since=question.since, until=question.until)
        close = {item_id: cosine for item_id, cosine in hits if cosine >= hits[0][1] - VECTOR_MARGIN}
        meaning = scored(question, items_by_id(session=session, team_id=team_id, scores=close), now)[:POOL]
        words = fused([words[:POOL], meaning])
    return focused(words, group, limit=limit)
