"""Full-text search over one workspace's items and briefs: SQLite FTS5 with BM25 by default, PostgreSQL's
full-text search (GIN indexes on tsvector expressions, ts_rank) when DATABASE_URL points there. Both indexes
are built by migration 0005 (items' with their day: 0012 on PostgreSQL, 0013 on SQLite); this module only
queries them. Every query is bound to one team id."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, bindparam, text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from bot.core.retrieval import Candidate
from bot.storage.types import UTCDateTime

TEXT_CHARS = 700  # of an item's text, for ranking and for the answer's context
ENOUGH = 16  # matches of one query: when at least this many, the wider queries after it are skipped
NEWEST = 1000  # SQLite: matches read per query, newest stored first, and ranked; all of them when too few are kept
DAYS = 31  # SQLite: a window of at most this many days is matched inside the index, by its days' tokens
COMMON = 20_000  # items holding a word (estimated) beyond which it is left out of the any-two query's pairs
SAMPLE = 200  # SQLite: a word's newest matches whose rowid span estimates how many items hold it
_TERM = re.compile(r"[0-9a-z]+")
# PostgreSQL: the stored generated tsvector columns of migration 0005, GIN-indexed (items with their UTC day,
# migration 0012, so a recent window is matched inside the index instead of on every matching row).
_PG_ITEMS = "i.search_tsv"
_PG_BRIEFS = "b.search_tsv"
_PG_DAY = "(COALESCE(i.published_at, i.first_seen_at) AT TIME ZONE 'UTC')::date"
_AT = "COALESCE(i.published_at, i.first_seen_at)"


def search(*, session: Session, team_id: str, terms: list[str], since: datetime | None = None,
           until: datetime | None = None, recent: datetime | None = None, now: datetime | None = None,
           items: int = 60, briefs: int = 30) -> list[Candidate]:
    """Items and briefs of `team_id` matching `terms`, best first within each kind. Items matching every word
    are looked for first (an intersection: fast however common the words); when fewer than ENOUGH do, items
    matching any two of the words; only then items matching any word. `recent` (a time before now): each of
    those looks at the items from `recent` on first, and at the whole window only when they are fewer than
    ENOUGH, so a question about a busy topic ranks its newest matches instead of every match.

    Bounded cost: on PostgreSQL a window that starts at or after `recent` is matched inside the GIN index (the
    item's day is its second column), so only that window's matching rows are read; on SQLite each query ranks
    the NEWEST matches stored last (FTS5 reads its index newest first and stops), and ranks every match only
    when those leave fewer than ENOUGH in the question's window; before that, a window of at most DAYS days
    (ending at `until`, or a day after `now`) is matched with its days' tokens in the index, so only its
    matches are read.
    The any-two query leaves out the pairs of words held by more than COMMON items (when two rarer words make
    a pair): their long posting lists cost the most and narrow the least; the full pairs follow only when
    those find fewer than ENOUGH. Measured in bench/ask.py."""
    words = [w for term in terms for w in _TERM.findall(term.lower()) if len(w) > 1]  # "eBay's" -> ebay, not s
    words = list(dict.fromkeys(words))
    if not words:
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    asked: dict[str, Any] = {"team": team_id, "since": since, "until": until, "day": None, "now": now}
    if recent is not None and since is not None and since >= recent:
        asked["day"] = since.astimezone(UTC).date()  # a recent window: matched in the index
    windows = [asked]
    if recent is not None and (since is None or recent > since) and (until is None or recent < until):
        windows.insert(0, {**asked, "since": recent, "day": recent.astimezone(UTC).date()})  # the newest first
    queries = [_query(words, postgres, "and")] if len(words) > 1 else []
    if len(words) > 2:
        narrow = _query(rare_pairs(words, _common(session, words, postgres)), postgres, "pairs")
        full = _query(words, postgres, "pairs")
        queries += [narrow, full] if narrow != full else [full]
    queries.append(_query(words, postgres, "or"))
    found: list[Candidate] = []
    newest: dict[tuple[str, str], tuple[dict[int, float], bool]] = {}  # SQLite: each query's newest matches, read once
    for q in queries:
        for window in windows:
            every = window is windows[-1]  # the question's own window: rank every match if need be
            rank = full if postgres and len(words) > 2 and q == narrow else q  # PostgreSQL ranks by every pair
            found = _items(session, {**window, "q": q, "rank": rank}, items, postgres, every, newest)
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


def _query(words: list[str] | list[tuple[str, str]], postgres: bool, how: str) -> str:
    """The full-text query: every word (and), any two of them (pairs: of `words`, or these pairs), or any one
    (or)."""
    def quoted(w: str) -> str:
        return w if postgres else f'"{w}"'

    both, either = (" & ", " | ") if postgres else (" AND ", " OR ")
    if how == "pairs":
        pairs = [p for p in words if isinstance(p, tuple)] or list(itertools.combinations(
            [w for w in words if isinstance(w, str)], 2))
        return either.join(f"({quoted(a)}{both}{quoted(b)})" for a, b in pairs)
    plain = [quoted(w) for w in words if isinstance(w, str)]
    return (both if how == "and" else either).join(plain)


def rare_pairs(words: list[str], common: set[str]) -> list[tuple[str, str]]:
    """The pairs of the any-two query: of the words not in `common` when two or more are not; with one, its
    pairs with each common word; with none, every pair."""
    pairs = list(itertools.combinations(words, 2))
    rare = [w for w in words if w not in common]
    if len(rare) >= 2:
        return [(a, b) for a, b in pairs if a not in common and b not in common]
    if rare:
        return [(a, b) for a, b in pairs if a not in common or b not in common]
    return pairs


def _common(session: Session, words: list[str], postgres: bool) -> set[str]:
    """The words held by more than COMMON items, estimated cheaply. PostgreSQL: from ANALYZE's most common
    elements of items' tsvector column (no statistics yet: none). SQLite: from the rowid span of the word's
    SAMPLE newest matches (FTS5 reads them newest first), as a share of the items stored."""
    conn = session.connection()
    if postgres:
        rows = conn.execute(text(
            "SELECT (SELECT reltuples FROM pg_class WHERE oid = 'items'::regclass) AS n, w.word, "
            "tsvector_to_array(to_tsvector('english', w.word)) AS lexemes FROM unnest(CAST(:words AS text[])) AS "
            "w(word)"), {"words": words}).all()
        held = _held(conn, float(rows[0].n)) if rows else {}
        return {row.word for row in rows if any(held.get(lexeme, 0.0) > COMMON for lexeme in row.lexemes or [])}
    top = conn.exec_driver_sql("SELECT max(id) FROM items").scalar() or 0
    if top <= COMMON:
        return set()
    common = set()
    for word in words:
        row = conn.exec_driver_sql(f"SELECT rowid FROM items_fts WHERE items_fts MATCH ? ORDER BY rowid DESC "
                                   f"LIMIT 1 OFFSET {SAMPLE - 1}", (f'"{word}"',)).first()
        if row is not None and SAMPLE * top > COMMON * (top - row[0] + 1):
            common.add(word)
    return common


_HELD: dict[tuple[str, float], dict[str, float]] = {}  # (database, items' reltuples) -> lexeme -> items holding it


def _held(conn: Connection, rows: float) -> dict[str, float]:
    """PostgreSQL: how many items hold each of the most common lexemes of items' tsvector column, by ANALYZE's
    statistics; read once per database until the next ANALYZE changes the table's row estimate (pg_stats costs
    3 to 10 ms a read at a million items)."""
    key = (conn.engine.url.render_as_string(hide_password=True), rows)
    if key not in _HELD:
        found = conn.execute(text(
            "SELECT x.e, x.f FROM pg_stats s, unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) "
            "AS x(e, f) WHERE s.schemaname = current_schema() AND s.tablename = 'items' AND s.attname = 'search_tsv' "
            "AND x.e IS NOT NULL")).all()
        _HELD.clear()  # one database's, the latest
        _HELD[key] = {e: float(f) * rows for e, f in found}
    return _HELD[key]


def day_tokens(since: datetime | None, until: datetime | None, now: datetime | None) -> list[str]:
    """SQLite: the day tokens of migration 0013 ("d20261125") of the UTC days a window touches, when it has an
    end (`until`, else a day after `now`: an item dated a little ahead is kept) and spans at most DAYS days;
    else none (a wide window: the newest matches of every date hold enough of it)."""
    end = until or (now + timedelta(days=1) if now is not None else None)
    if since is None or end is None or end <= since:
        return []
    first: date = since.astimezone(UTC).date()
    last: date = (end - timedelta(microseconds=1)).astimezone(UTC).date()
    if (last - first).days >= DAYS:
        return []
    return [f"d{first + timedelta(days=n):%Y%m%d}" for n in range((last - first).days + 1)]


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
        ranked = "q" if params["rank"] == params["q"] else "to_tsquery('english', :rank)"
        sql = (f"SELECT {columns}, ts_rank({_PG_ITEMS}, {ranked}, 1) AS score FROM items i, "
               f"to_tsquery('english', :q) q WHERE {_PG_ITEMS} @@ q{day} AND {where} ORDER BY score DESC "
               f"LIMIT {limit}")
        return _item_rows(session, sql, params)
    rank = "bm25(items_fts, 3.0, 2.0, 1.0, 0.0)"  # title, outlet (a posting's company), text; not the day
    days = day_tokens(params["since"], params["until"], params["now"])
    return _sqlite_ranked(session, "items", "i", "items_fts", rank, columns, where, params, limit, every, newest,
                          _item_rows, days)


def _sqlite_ranked(session: Session, table: str, alias: str, fts: str, rank: str, columns: str, where: str,
                   params: dict[str, Any], limit: int, every: bool,
                   newest: dict[tuple[str, str], tuple[dict[int, float], bool]],
                   rows: Callable[[Session, str, dict[str, Any]], list[Candidate]],
                   days: list[str] | None = None) -> list[Candidate]:
    """SQLite: the best `limit` rows of `table` (read as `alias` in `columns` and `where`) for the query `q` in
    the window, among the NEWEST matches of `fts` stored last; when that leaves fewer than ENOUGH and `every` is
    set, among the NEWEST matches on the window's `days` (tokens of migration 0013's day column; a narrow
    window), then among every match."""
    scores, complete = _newest(session, fts, rank, params["q"], newest)
    found = _ranked_scores(session, table, alias, columns, where, params, limit, scores, rows)
    if complete or len(found) >= ENOUGH or not every:  # every match seen, or enough of the newest
        return found
    if days:  # "stocks today": its day's matches, read in the index, rather than every match ranked
        q = f"({params['q']}) AND day : ({' OR '.join(days)})"
        scores, complete = _newest(session, fts, rank, q, newest)
        found = _ranked_scores(session, table, alias, columns, where, params, limit, scores, rows)
        if complete or len(found) >= ENOUGH:
            return found
    sql = (f"SELECT {columns}, -{rank} AS score FROM {fts} JOIN {table} {alias} ON {alias}.id = {fts}.rowid "
           f"WHERE {fts} MATCH :q AND {where} ORDER BY {rank} LIMIT {limit}")
    return rows(session, sql, params)


def _ranked_scores(session: Session, table: str, alias: str, columns: str, where: str, params: dict[str, Any],
                   limit: int, scores: dict[int, float],
                   rows: Callable[[Session, str, dict[str, Any]], list[Candidate]]) -> list[Candidate]:
    """SQLite: the best `limit` of the rows scored in `scores` that are in the window, ranked inside SQL."""
    if not scores:
        return []
    sql = (f"SELECT {columns}, s.value AS score FROM json_each(:scores) s JOIN {table} {alias} NOT INDEXED "
           f"ON {alias}.id = CAST(s.key AS INTEGER) WHERE {where} "
           f"ORDER BY s.value DESC, {alias}.id DESC LIMIT {limit}")
    return rows(session, sql, {**params, "scores": json.dumps(scores)})


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
    # SQLite: by primary key, not by scanning the team's index (its planner took that at a million items: 204 ms
    # against 0.3 ms for 40 ids).
    hint = "" if session.get_bind().dialect.name == "postgresql" else " NOT INDEXED"
    sql = (f"SELECT i.id, i.title, substr(i.text, 1, {TEXT_CHARS}) AS body, i.url, i.outlet, i.kind, {at} AS at, "
           f"i.story_id FROM items i{hint} WHERE i.team_id = :team AND i.id IN ({ids})")
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
