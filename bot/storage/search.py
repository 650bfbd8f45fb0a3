"""Full-text search over one workspace's items and briefs: SQLite FTS5 with BM25 by default, PostgreSQL's
full-text search (GIN indexes on tsvector expressions, ts_rank) when DATABASE_URL points there. Both indexes
are built by migration 0005; this module only queries them. Every query is bound to one team id."""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, bindparam, text
from sqlmodel import Session

from bot.core.retrieval import Candidate
from bot.storage.types import UTCDateTime

TEXT_CHARS = 700  # of an item's text, for ranking and for the answer's context
ENOUGH = 16  # items matching every word: when at least this many do, the slower any-word search is skipped
_TERM = re.compile(r"[0-9a-z]+")
# PostgreSQL: the stored generated tsvector columns of migration 0005 (GIN-indexed).
_PG_ITEMS = "i.search_tsv"
_PG_BRIEFS = "b.search_tsv"


def search(*, session: Session, team_id: str, terms: list[str], since: datetime | None = None,
           until: datetime | None = None, items: int = 60, briefs: int = 30) -> list[Candidate]:
    """Items and briefs of `team_id` matching `terms`, best first within each kind. Items matching every word
    are looked for first (an intersection: fast however common the words); when fewer than ENOUGH do, items
    matching any two of the words; only then items matching any word, which ranks every match (slow when the
    words are common). Measured in bench/ask.py."""
    words = [w for term in terms for w in _TERM.findall(term.lower()) if len(w) > 1]  # "eBay's" -> ebay, not s
    words = list(dict.fromkeys(words))
    if not words:
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    params: dict[str, Any] = {"team": team_id, "since": since, "until": until, "q": _query(words, postgres, "or")}
    found: list[Candidate] = []
    narrower = ["and", "pairs"] if len(words) > 2 else ["and"] if len(words) == 2 else []
    for how in narrower:
        found = _items(session, {**params, "q": _query(words, postgres, how)}, items, postgres)
        if len(found) >= ENOUGH:
            break
    if len(found) < ENOUGH:
        found = _items(session, params, items, postgres)
    return found + _briefs(session, params, briefs, postgres)


def _query(words: list[str], postgres: bool, how: str) -> str:
    """The full-text query: every word (and), any two of them (pairs), or any one (or)."""
    quoted = words if postgres else [f'"{w}"' for w in words]
    both, either = (" & ", " | ") if postgres else (" AND ", " OR ")
    if how == "and":
        return both.join(quoted)
    if how == "pairs":
        return either.join(f"({a}{both}{b})" for a, b in itertools.combinations(quoted, 2))
    return either.join(quoted)


def _window(column: str, params: dict[str, Any]) -> str:
    clause = ""
    if params["since"] is not None:
        clause += f" AND {column} >= :since"
    if params["until"] is not None:
        clause += f" AND {column} < :until"
    return clause


def _items(session: Session, params: dict[str, Any], limit: int, postgres: bool) -> list[Candidate]:
    at = "COALESCE(i.published_at, i.first_seen_at)"
    columns = f"i.id, i.title, substr(i.text, 1, {TEXT_CHARS}) AS body, i.url, i.outlet, i.kind, {at} AS at, i.story_id"
    where = f"i.team_id = :team{_window(at, params)}"
    if postgres:
        sql = (f"SELECT {columns}, ts_rank({_PG_ITEMS}, q, 1) AS score FROM items i, to_tsquery('english', :q) q "
               f"WHERE {_PG_ITEMS} @@ q AND {where} ORDER BY score DESC LIMIT {limit}")
    else:
        rank = "bm25(items_fts, 3.0, 2.0, 1.0)"  # title, outlet (a posting's company), text
        sql = (f"SELECT {columns}, -{rank} AS score FROM items_fts JOIN items i ON i.id = items_fts.rowid "
               f"WHERE items_fts MATCH :q AND {where} ORDER BY {rank} LIMIT {limit}")
    rows = session.connection().execute(_statement(sql), _used(sql, params)).all()
    return [Candidate(kind="item", id=row.id, text_score=float(row.score), title=row.title, text=row.body or "",
                      at=row.at, url=row.url, outlet=row.outlet, item_kind=row.kind,
                      group=f"story:{row.story_id}" if row.story_id else "") for row in rows]


def items_by_id(*, session: Session, team_id: str, scores: dict[int, float]) -> list[Candidate]:
    """The team's items with these ids as candidates, each with its given score (a vector match's cosine)."""
    if not scores:
        return []
    at = "COALESCE(i.published_at, i.first_seen_at)"
    ids = ", ".join(str(int(i)) for i in scores)
    sql = (f"SELECT i.id, i.title, substr(i.text, 1, {TEXT_CHARS}) AS body, i.url, i.outlet, i.kind, {at} AS at, "
           f"i.story_id FROM items i WHERE i.team_id = :team AND i.id IN ({ids})")
    rows = session.connection().execute(_statement(sql), {"team": team_id}).all()
    return [Candidate(kind="item", id=row.id, text_score=scores[row.id], title=row.title, text=row.body or "",
                      at=row.at, url=row.url, outlet=row.outlet, item_kind=row.kind,
                      group=f"story:{row.story_id}" if row.story_id else "") for row in rows]


def _briefs(session: Session, params: dict[str, Any], limit: int, postgres: bool) -> list[Candidate]:
    if postgres:
        sql = ("SELECT b.id, ts_rank(" + _PG_BRIEFS + ", q, 1) AS score, b.headline, b.summary, b.why_it_matters, "
               "b.entities, b.sources, b.created_at AS at, b.subject, b.subject_id FROM briefs b, "
               "to_tsquery('english', :q) q WHERE " + _PG_BRIEFS + " @@ q AND b.team_id = :team"
               + _window("b.created_at", params) + f" ORDER BY score DESC LIMIT {limit}")
    else:
        sql = ("SELECT b.id, -bm25(briefs_fts, 3.0, 1.0, 1.0, 2.0) AS score, b.headline, b.summary, "
               "b.why_it_matters, b.entities, b.sources, b.created_at AS at, b.subject, b.subject_id FROM briefs_fts "
               "JOIN briefs b ON b.id = briefs_fts.rowid WHERE briefs_fts MATCH :q AND b.team_id = :team"
               + _window("b.created_at", params) + f" ORDER BY bm25(briefs_fts, 3.0, 1.0, 1.0, 2.0) LIMIT {limit}")
    rows = session.connection().execute(_statement(sql, sources=JSON(), entities=JSON()), _used(sql, params)).all()
    found = []
    for row in rows:
        sources = row.sources or []
        first = sources[0] if sources and isinstance(sources[0], dict) else {}
        found.append(Candidate(
            kind="brief", id=row.id, text_score=float(row.score), title=row.headline,
            text=f"{row.summary} {row.why_it_matters}".strip(), at=row.at, url=str(first.get("url") or ""),
            outlet=str(first.get("outlet") or ""), entities=tuple(str(e) for e in row.entities or []),
            group=f"{row.subject}:{row.subject_id}"))
    return found


def _statement(sql: str, **types: Any) -> Any:
    """The query with its time bounds and its `at` column typed as UTCDateTime (aware UTC in and out), and any
    other result columns typed as given."""
    statement = text(sql)
    binds = [bindparam(name, type_=UTCDateTime()) for name in ("since", "until") if f":{name}" in sql]
    return (statement.bindparams(*binds) if binds else statement).columns(at=UTCDateTime(), **types)


def _used(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if f":{k}" in sql}
