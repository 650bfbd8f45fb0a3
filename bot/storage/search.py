"""Full-text search over one workspace's items and briefs: SQLite FTS5 with BM25 by default, PostgreSQL's
full-text search (GIN indexes on tsvector expressions, ts_rank) when DATABASE_URL points there. Both indexes
are built by migration 0005; this module only queries them. Every query is bound to one team id."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, bindparam, text
from sqlmodel import Session

from bot.core.retrieval import Candidate
from bot.storage.types import UTCDateTime

TEXT_CHARS = 700  # of an item's text, for ranking and for the answer's context
ENOUGH = 16  # matches of one query: when at least this many, the wider queries after it are skipped
NEWEST = 1000  # SQLite: matches read per query, newest stored first, and ranked; all of them when too few are kept
_TERM = re.compile(r"[0-9a-z]+")
# PostgreSQL: the stored generated tsvector columns of migration 0005, GIN-indexed (items with their UTC day,
# migration 0012, so a recent window is matched inside the index instead of on every matching row).
_PG_ITEMS = "i.search_tsv"
_PG_BRIEFS = "b.search_tsv"
_PG_DAY = "(COALESCE(i.published_at, i.first_seen_at) AT TIME ZONE 'UTC')::date"
_AT = "COALESCE(i.published_at, i.first_seen_at)"


def search(*, session: Session, team_id: str, terms: list[str], since: datetime | None = None,
           until: datetime | None = None, recent: datetime | None = None, items: int = 60,
           briefs: int = 30) -> list[Candidate]:
    """Items and briefs of `team_id` matching `terms`, best first within each kind. Items matching every word
    are looked for first (an intersection: fast however common the words); when fewer than ENOUGH do, items
    matching any two of the words; only then items matching any word. `recent` (a time before now): each of
    those looks at the items from `recent` on first, and at the whole window only when they are fewer than
    ENOUGH, so a question about a busy topic ranks its newest matches instead of every match.

    Bounded cost: on PostgreSQL a window that starts at or after `recent` is matched inside the GIN index (the
    item's day is its second column), so only that window's matching rows are read; on SQLite each query ranks
    the NEWEST matches stored last (FTS5 reads its index newest first and stops), and ranks every match only
    when those leave fewer than ENOUGH in the question's window. Measured in bench/ask.py."""
    words = [w for term in terms for w in _TERM.findall(term.lower()) if len(w) > 1]  # "eBay's" -> ebay, not s
    words = list(dict.fromkeys(words))
    if not words:
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    asked: dict[str, Any] = {"team": team_id, "since": since, "until": until, "day": None}
    if recent is not None and since is not None and since >= recent:
        asked["day"] = since.astimezone(UTC).date()  # a recent window: matched in the index
    windows = [asked]
    if recent is not None and (since is None or recent > since) and (until is None or recent < until):
        windows.insert(0, {**asked, "since": recent, "day": recent.astimezone(UTC).date()})  # the newest first
    stages = (["and", "pairs"] if len(words) > 2 else ["and"] if len(words) == 2 else []) + ["or"]
    found: list[Candidate] = []
    newest: dict[tuple[str, str], tuple[dict[int, float], bool]] = {}  # SQLite: each query's newest matches, read once
    for how in stages:
        for window in windows:
            every = window is windows[-1]  # the question's own window: rank every match if need be
            found = _items(session, {**window, "q": _query(words, postgres, how)}, items, postgres, every, newest)
            if len(found) >= ENOUGH:
                break
        if len(found) >= ENOUGH:
            break
    kept: list[Candidate] = []
    for window in windows:
        kept = _briefs(session, {**window, "q": _query(words, postgres, "or")}, briefs, postgres,
                       window is windows[-1], newest)
        if len(kept) >= ENOUGH:
            break
    return found + kept


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


def _items(session: Session, params: dict[str, Any], limit: int, postgres: bool, every: bool,
           newest: dict[tuple[str, str], tuple[dict[int, float], bool]]) -> list[Candidate]:
    """The team's best `limit` items for the query `q` in the window. SQLite: among the NEWEST matches stored
    last; among every match when that leaves fewer than ENOUGH and `every` is set."""
    columns = (f"i.id, i.title, substr(i.text, 1, {TEXT_CHARS}) AS body, i.url, i.outlet, i.kind, {_AT} AS at, "
               "i.story_id")
    where = f"i.team_id = :team{_window(_AT, params)}"
    if postgres:
        day = f" AND {_PG_DAY} >= :day" if params["day"] is not None else ""
        sql = (f"SELECT {columns}, ts_rank({_PG_ITEMS}, q, 1) AS score FROM items i, to_tsquery('english', :q) q "
               f"WHERE {_PG_ITEMS} @@ q{day} AND {where} ORDER BY score DESC LIMIT {limit}")
        return _item_rows(session, sql, params)
    rank = "bm25(items_fts, 3.0, 2.0, 1.0)"  # title, outlet (a posting's company), text
    return _sqlite_ranked(session, "items", "i", "items_fts", rank, columns, where, params, limit, every, newest,
                          _item_rows)


def _sqlite_ranked(session: Session, table: str, alias: str, fts: str, rank: str, columns: str, where: str,
                   params: dict[str, Any], limit: int, every: bool,
                   newest: dict[tuple[str, str], tuple[dict[int, float], bool]],
                   rows: Callable[[Session, str, dict[str, Any]], list[Candidate]]) -> list[Candidate]:
    """SQLite: the best `limit` rows of `table` (read as `alias` in `columns` and `where`) for the query `q` in
    the window, among the NEWEST matches of `fts` stored last; among every match when that leaves fewer than
    ENOUGH and `every` is set."""
    scores, complete = _newest(session, fts, rank, params["q"], newest)
    found: list[Candidate] = []
    if scores:
        sql = (f"SELECT {columns}, s.value AS score FROM json_each(:scores) s JOIN {table} {alias} NOT INDEXED "
               f"ON {alias}.id = CAST(s.key AS INTEGER) WHERE {where} "
               f"ORDER BY s.value DESC, {alias}.id DESC LIMIT {limit}")
        found = rows(session, sql, {**params, "scores": json.dumps(scores)})
    if complete or len(found) >= ENOUGH or not every:  # every match seen, or enough of the newest
        return found
    sql = (f"SELECT {columns}, -{rank} AS score FROM {fts} JOIN {table} {alias} ON {alias}.id = {fts}.rowid "
           f"WHERE {fts} MATCH :q AND {where} ORDER BY {rank} LIMIT {limit}")
    return rows(session, sql, params)


def _newest(session: Session, fts: str, rank: str, q: str,
            memo: dict[tuple[str, str], tuple[dict[int, float], bool]]) -> tuple[dict[int, float], bool]:
    """SQLite: the NEWEST matches of `q` in the FTS5 table `fts` stored last (it reads its index newest first and
    stops), as {rowid: score (the negated `rank`)}, and whether they are every match. Kept in `memo`: the
    recent window and the question's window rank the same matches."""
    if (fts, q) not in memo:
        rows = session.connection().exec_driver_sql(
            f"SELECT rowid, -{rank} FROM {fts} WHERE {fts} MATCH ? ORDER BY rowid DESC LIMIT {NEWEST}", (q,)).fetchall()
        memo[fts, q] = dict(rows), len(rows) < NEWEST
    return memo[fts, q]


def _item_rows(session: Session, sql: str, params: dict[str, Any]) -> list[Candidate]:
    """Candidates from an items query's rows, scored by its `score` column."""
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


def _briefs(session: Session, params: dict[str, Any], limit: int, postgres: bool, every: bool,
            newest: dict[tuple[str, str], tuple[dict[int, float], bool]]) -> list[Candidate]:
    columns = ("b.id, b.headline, b.summary, b.why_it_matters, b.entities, b.sources, b.created_at AS at, b.subject, "
               "b.subject_id")
    where = "b.team_id = :team" + _window("b.created_at", params)
    if postgres:
        sql = (f"SELECT {columns}, ts_rank({_PG_BRIEFS}, q, 1) AS score FROM briefs b, to_tsquery('english', :q) q "
               f"WHERE {_PG_BRIEFS} @@ q AND {where} ORDER BY score DESC LIMIT {limit}")
        return _brief_rows(session, sql, params)
    rank = "bm25(briefs_fts, 3.0, 1.0, 1.0, 2.0)"  # headline, summary, why it matters, entities
    return _sqlite_ranked(session, "briefs", "b", "briefs_fts", rank, columns, where, params, limit, every, newest,
                          _brief_rows)


def _brief_rows(session: Session, sql: str, params: dict[str, Any]) -> list[Candidate]:
    """Candidates from a briefs query's rows, scored by its `score` column."""
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
