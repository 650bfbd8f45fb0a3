"""Question retrieval benchmark: `retrieve()` latency over one workspace's history as it grows.
`.venv/bin/python bench/ask.py [--quick] [--sizes 10k,100k,1M] [--pg | --no-pg] [--pg-url URL] [--batch 5000]
[--pg-load copy|insert] [--explain-at N] [--baseline FILE [--baseline-search FILE]] [--keep DIR]`

Prints figures, asserts nothing. Runs on a SQLite file in a temp dir, then on a fresh schema in PostgreSQL when it
is reachable (`--pg` insists on it, `--no-pg` skips it). Each database is built by `build_context` (the app's
migrations: FTS5 tables kept by triggers on SQLite, GIN-indexed tsvectors on PostgreSQL) and grown in steps (10k,
100k, 1M items of the asking workspace by default; `--quick`: 10k and 100k), each step measured.

History: news items built from the real UCI headlines (../shared/corpus/news): a title is a real headline with a
quarter of its lower-case words swapped, a body three headlines of the same UCI story and 8 to 15 words drawn
evenly from those found in three or more stories; items come in stories of 1 to 8 reports from the corpus's
publishers, spread over the year before NOW. The corpus has 34 stories, so a story's words are in about 3% of
the news items (its biggest story, 12%): a workspace that follows a few busy topics, a dense case for an OR.
One item in ten is a job posting (real new-grad postings from ../shared/corpus/jobs, and warehouse and driver
roles). Another workspace gets 10% more items from the same generator (its rows match the same words, so
the cost of scoping shows), and each workspace one brief per 50 items. Rows go in through SQLAlchemy Core in
batches of `--batch`, one transaction each, so the app's triggers and indexes do their usual work (on PostgreSQL
`--pg-load copy` streams the same rows with COPY instead, about 1.4x as fast); PostgreSQL's tables get
VACUUM (ANALYZE) after each step: ANALYZE as the poller does after a big batch, VACUUM as autovacuum soon would.

Questions: 42 of varied shapes (names, topics, hiring, time phrases, long, missing), asked twice through
`retrieve(session, team_id=..., question=read_question(text, NOW), now=NOW, limit=8)`, one session each; the
second (warm) pass is reported, split into the SQL of `bot.storage.search.search` (its items and briefs queries)
and the rest (ranking). The slowest questions are shown with how many items have every word and any word of
their terms, and the plans of the slowest one at the largest size (`--explain-at` changes which size).
`--baseline FILE` (an earlier bot/ask/retrieve.py, e.g. `git show bceaa8e:bot/ask/retrieve.py > /tmp/r.py`;
`--baseline-search FILE`: with the earlier bot/storage/search.py it calls) also times that retrieve() on the
same database, question by question beside the current one (before it on
every other question, after it on the rest, so neither gets the other's warm cache), so a change is compared
with its baseline under the same load (it runs against the current bot/ package).

`--repeat N`: N warm passes, each question's median time reported (and its baseline's), for a shared machine.
`--keep DIR`: each size gets its own database, kept for the next run (a SQLite file in DIR, a PostgreSQL schema
named after DIR and the size) and reused when it holds that size already (a million items take minutes to
build); the app's migrations run on it each time, as on a deployed database."""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import itertools
import json
import logging
import os
import platform
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from common import PG_URL, code_version, databases, fresh_db, pct, print_rows
from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

import bot.ask.retrieve as retrieve_module
import bot.storage.search as search_module
from bot.ask.retrieve import RECENT, retrieve
from bot.context import build_context
from bot.core.locations import parse_places
from bot.core.question import entities_in, read_question
from bot.core.retrieval import search_terms
from bot.settings import Settings
from bot.storage.db import session_scope
from bot.storage.models import Brief, Item, Source, Story, Workspace

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
NEWS = CORPUS / "news" / "uci-news-aggregator-dev.csv"
JOBS = CORPUS / "jobs" / "simplify-new-grad-listings-2024-10-25.json"
TEAM, OTHER = "T_ASK", "T_OTHER"
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday; the history spans the year before it
YEAR_S = 365 * 86400.0
OTHER_SHARE, JOB_SHARE, ITEMS_PER_BRIEF = 0.10, 0.10, 50
MIN_FREE_GB = 10  # a million items take about 2 GB on either database; refuse a step with less room than this
OPS_TITLES = ("Warehouse Associate", "Warehouse Staff - Night Shift", "Fulfillment Center Associate",
              "Forklift Operator", "Delivery Driver", "Warehouse Supervisor", "Inventory Clerk",
              "Logistics Coordinator", "Shift Manager, Distribution Center", "Package Handler")
OPS_PLACES = ("Seattle, WA", "Kent, WA", "Tacoma, WA", "Renton, WA", "Portland, OR", "Reno, NV", "Dallas, TX",
              "Columbus, OH", "Atlanta, GA", "Newark, NJ", "Chicago, IL", "Ontario, CA")

# (shape, question): written against the UCI stories and the postings, so that most of them hit.
QUESTIONS = [
    ("name", "What is Carl Icahn doing with eBay's board?"),
    ("name", "Should eBay spin off PayPal?"),
    ("name", "What do reviewers say about Titanfall?"),
    ("name", "What did Edward Snowden say at SXSW?"),
    ("name", "Game of Thrones trailer"),
    ("name", "Who did Juan Pablo pick in the Bachelor finale?"),
    ("name", "Is Google releasing an Android SDK for wearables?"),
    ("name", "Why did Lena Dunham apologise?"),
    ("name", "How much did Taylor Swift earn?"),
    ("name", "What is SAC Capital renaming itself to?"),
    ("name", "Is Bill Gross giving up control at Pimco?"),
    ("name", "What is happening to Fannie Mae and Freddie Mac?"),
    ("topic", "how are fast food sales holding up in the snow?"),
    ("topic", "public transit ridership numbers"),
    ("topic", "why did stocks slip on china data?"),
    ("topic", "oil tanker seized from a rebel port"),
    ("topic", "which retailers are looking for a new chief executive?"),
    ("topic", "what is the central bank doing about euro strength?"),
    ("topic", "climate change and ancient conquests"),
    ("topic", "parents using smartphones at mealtime"),
    ("hiring", "Who is hiring warehouse staff in Seattle?"),
    ("hiring", "Is Palantir hiring software engineers?"),
    ("hiring", "Which companies are hiring data scientists in NYC?"),
    ("hiring", "any forklift operator openings in Kent?"),
    ("hiring", "Who posted new grad software engineer roles in London?"),
    ("hiring", "Are there remote data analyst jobs?"),
    ("hiring", "Is NVIDIA hiring?"),
    ("time", "What happened with McDonald's sales this week?"),
    ("time", "Titanfall news this month"),
    ("time", "Google wearables news since March"),
    ("time", "What did the ECB say in 2025?"),
    ("time", "eBay board fight in March"),
    ("time", "Snowden news last week"),
    ("time", "Who is hiring warehouse staff in Seattle since March?"),
    ("time", "Which companies posted jobs in the past 30 days?"),
    ("time", "anything about Honda and Acura in 2024?"),  # nothing in 2024: widened, so searched twice
    ("time", "stocks today"),
    ("time", "Dick's Sporting Goods earnings last month"),
    ("long", "What are analysts saying about JC Penney equity, the Bon-Ton CEO resigning and American Eagle's "
             "CEO search?"),
    ("long", "Libya North Korea tanker oil rebels navy port prime minister sacked"),
    ("miss", "Kestrel Commerce fulfillment centre"),
    ("miss", "Zac Efron High School Musical reunion"),
]


# ---- setup ----------------------------------------------------------------------------------------------------------


def size(value: str) -> int:
    """A count written as "10k", "1M" or "250000"."""
    value = value.strip().lower().replace("_", "").replace(",", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(value[-1:], 1)
    return int(float(value.rstrip("km")) * scale)


# ---- the history ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    stories: list[list[str]]  # UCI headlines grouped by STORY label
    picks: list[int]  # a story index per headline: drawing from it weights stories by their size
    common: list[str]  # words found in 3+ stories, each once: filler that is not about any one story
    publishers: list[str]  # once per headline
    postings: list[tuple[str, str, str]]  # (company, title, location) of real postings
    companies: list[str]


def vocabulary() -> Vocabulary:
    if not NEWS.exists():
        raise SystemExit(f"{NEWS} not found: the history and the questions are built from those headlines")
    with NEWS.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_story: dict[str, list[str]] = defaultdict(list)
    seen_in: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        title = " ".join(row["TITLE"].split())
        by_story[row["STORY"]].append(title)
        for word in re.findall(r"[A-Za-z][A-Za-z'\-]*", title):
            seen_in[word.lower()].add(row["STORY"])
    labels = list(by_story)
    common = sorted(w for w, found_in in seen_in.items() if len(found_in) >= 3)
    postings: list[tuple[str, str, str]] = []
    if JOBS.exists():
        for job in json.loads(JOBS.read_text(encoding="utf-8")):
            for place in job.get("locations") or ["Remote in USA"]:
                postings.append((job["company_name"], " ".join(job["title"].split()), place))
    else:
        print(f"note: {JOBS} not found; postings are warehouse and driver roles only")
    companies = sorted({c for c, _, _ in postings}) or ["Kestrel Commerce", "Osprey Freight", "Harbor Logistics"]
    return Vocabulary(stories=[by_story[s] for s in labels], picks=[labels.index(r["STORY"]) for r in rows],
                      common=common, publishers=[r["PUBLISHER"].replace("\\", "") for r in rows],
                      postings=postings, companies=companies)


@cache
def places(raw: str) -> list[dict[str, Any]]:
    return [p.as_dict() for p in parse_places(raw)]


def slug(value: str, n: int = 48) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:n] or "x"


@dataclass
class History:
    """One workspace's rows, generated batch by batch; deterministic for a seed."""

    vocab: Vocabulary
    team: str
    feeds: dict[str, int]  # publisher -> source id
    boards: dict[str, int]  # company -> source id
    story_ids: Iterator[int]  # shared by the workspaces of one database: story ids are set here
    rng: random.Random
    seq: int = 0
    brief_credit: float = 0.0

    def batch(self, n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """`n` items, the stories they belong to, and a brief per 50 items (on the story that crosses the mark)."""
        stories: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        briefs: list[dict[str, Any]] = []
        while len(items) < n:
            if self.rng.random() < JOB_SHARE:
                items.append(self._posting())
                continue
            k = min(self.rng.choice((1, 1, 1, 2, 2, 3, 4, 5, 6, 8)), n - len(items))
            story, news = self._story(k)
            stories.append(story)
            items += news
            self.brief_credit += k / ITEMS_PER_BRIEF
            if self.brief_credit >= 1:
                self.brief_credit -= 1
                briefs.append(self._brief(story, news))
        return stories, items, briefs

    def _row(self, *, kind: str, title: str, body: str, outlet: str, source_id: int, at: datetime,
             **job: Any) -> dict[str, Any]:
        self.seq += 1
        url = f"https://{slug(outlet, 24)}.example/{at:%Y/%m}/{slug(title)}-{self.seq}"
        return {"team_id": self.team, "source_id": source_id, "kind": kind, "external_id": url, "url": url,
                "url_key": hashlib.sha256(url.encode()).hexdigest(), "title": title, "text": body,
                "outlet": outlet, "author": "", "published_at": at, "first_seen_at": at, "updated_at": at,
                "content_hash": hashlib.sha256(f"{title}{body}".encode()).hexdigest()[:40], "backfill": False,
                "story_id": job.pop("story_id", None), "job_title": None, "department": None,
                "employment_type": None, "remote": None, "locations": [], **job}

    def _words(self, lo: int, hi: int) -> str:
        return " ".join(self.rng.choices(self.vocab.common, k=self.rng.randint(lo, hi)))

    def _headline(self, headlines: list[str]) -> str:
        """A real headline, a quarter of its lower-case words swapped for common ones (names stay)."""
        return " ".join(self.rng.choice(self.vocab.common) if w[:1].islower() and self.rng.random() < 0.25 else w
                        for w in self.rng.choice(headlines).split())

    def _story(self, k: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        headlines = self.vocab.stories[self.rng.choice(self.vocab.picks)]
        story_id = next(self.story_ids)
        start = NOW - timedelta(seconds=self.rng.random() * YEAR_S)
        news = []
        for _ in range(k):
            at = min(start + timedelta(minutes=self.rng.randint(0, 36 * 60)), NOW)
            outlet = self.rng.choice(self.vocab.publishers)
            body = ". ".join(self.rng.choices(headlines, k=3)) + f". {self._words(8, 15).capitalize()}."
            news.append(self._row(kind="news", title=self._headline(headlines), body=body, outlet=outlet,
                                  source_id=self.feeds[outlet], at=at, story_id=story_id))
        times = [r["published_at"] for r in news]
        story = {"id": story_id, "team_id": self.team, "headline": news[0]["title"], "item_count": k,
                 "outlets": sorted({r["outlet"] for r in news}), "first_at": min(times), "last_at": max(times),
                 "state": {}, "version": 1, "merged_into": None, "created_at": min(times),
                 "updated_at": max(times)}
        return story, news

    def _posting(self) -> dict[str, Any]:
        if self.vocab.postings and self.rng.random() < 0.75:
            company, title, place = self.rng.choice(self.vocab.postings)
        else:
            company, title, place = (self.rng.choice(self.vocab.companies), self.rng.choice(OPS_TITLES),
                                     self.rng.choice(OPS_PLACES))
        at = NOW - timedelta(seconds=self.rng.random() * YEAR_S)
        body = (f"{company} is looking for a {title} to join the team in {place}. {self._words(10, 20).capitalize()}."
                f" Apply on our careers page.")
        located = places(place)
        return self._row(kind="job", title=title, body=body, outlet=company, source_id=self.boards[company], at=at,
                         job_title=title, employment_type="Full-time", locations=located,
                         remote=any(p["remote"] for p in located) or None)

    def _brief(self, story: dict[str, Any], news: list[dict[str, Any]]) -> dict[str, Any]:
        at = min(story["last_at"] + timedelta(hours=1), NOW)
        sources = [{"title": r["title"], "url": r["url"], "outlet": r["outlet"],
                    "published_at": r["published_at"].isoformat()} for r in news[:3]]
        return {"team_id": self.team, "subject": "story", "subject_id": story["id"], "subject_version": 1,
                "item_count": len(news), "outlet_count": len(story["outlets"]), "headline": story["headline"],
                "summary": f"{news[0]['text'].split('. ')[0]}. {self._words(12, 20).capitalize()}.",
                "why_it_matters": f"{self._words(10, 16).capitalize()}.",
                "entities": entities_in(story["headline"])[:4], "places": [], "event_type": "other",
                "sources": sources, "writer": "llm", "writer_note": None, "prompt_name": "brief",
                "prompt_version": "1", "model": "bench-model", "prompt_tokens": 900, "completion_tokens": 160,
                "input_hash": hashlib.sha256(f"{self.team}-{story['id']}".encode()).hexdigest(), "created_at": at,
                "routed_at": at}


def histories(engine: Engine, vocab: Vocabulary) -> list[History]:
    """The two workspaces, their feeds (one per publisher) and job boards (one per company)."""
    story_ids = itertools.count(1)
    out = []
    for n, team in enumerate((TEAM, OTHER)):
        with session_scope(engine) as session:
            session.add(Workspace(team_id=team, name=team, created_at=NOW))
            session.flush()
            feeds = {p: Source(team_id=team, kind="feed", spec=f"https://{slug(p, 24)}-{i}.example/feed",
                               locator=f"https://{slug(p, 24)}-{i}.example/feed", title=p, created_at=NOW,
                               next_due_at=NOW) for i, p in enumerate(sorted(set(vocab.publishers)))}
            boards = {c: Source(team_id=team, kind="greenhouse", spec=f"greenhouse:{slug(c)}-{i}",
                                locator=f"greenhouse:{slug(c)}-{i}", title=c, created_at=NOW, next_due_at=NOW)
                      for i, c in enumerate(vocab.companies)}
            session.add_all([*feeds.values(), *boards.values()])
            session.flush()
            out.append(History(vocab, team, {k: s.id or 0 for k, s in feeds.items()},
                               {k: s.id or 0 for k, s in boards.items()}, story_ids, random.Random(2026 + n)))
    return out


# ---- loading --------------------------------------------------------------------------------------------------------


TABLES = ((Story.__table__, "stories"), (Item.__table__, "items"), (Brief.__table__, "briefs"))
JSON_COLUMNS = {"outlets", "state", "locations", "entities", "places", "sources"}


def insert_rows(conn: Connection, rows: tuple[list[dict[str, Any]], ...], copy: bool) -> None:
    """Stories, items, briefs, in that order (items point at stories). `copy`: PostgreSQL's COPY FROM STDIN with
    the same rows; the GIN indexes and constraints take them as they would take INSERTs."""
    for (table, name), batch in zip(TABLES, rows, strict=True):
        if not batch:
            continue
        if not copy:
            conn.execute(insert(table), batch)
            continue
        columns = list(batch[0])
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as out:
            for row in batch:
                out.write_row([json.dumps(row[c]) if c in JSON_COLUMNS else row[c] for c in columns])


def load(engine: Engine, teams: list[History], n: int, batch: int, copy: bool) -> dict[str, float]:
    """Add `n` items to the asking workspace and 10% of n to the other, in interleaved batches."""
    postgres = engine.dialect.name == "postgresql"
    made = stored = 0.0
    rows = Counter[str]()
    done = 0
    while done < n:
        k = min(batch, n - done)
        for history, count in ((teams[0], k), (teams[1], round(k * OTHER_SHARE))):
            if not count:
                continue
            started = time.perf_counter()
            generated = history.batch(count)
            made += time.perf_counter() - started
            started = time.perf_counter()
            with engine.begin() as conn:
                insert_rows(conn, generated, copy)
            stored += time.perf_counter() - started
            for (_, name), part in zip(TABLES, generated, strict=True):
                rows[name] += len(part)
        done += k
    started = time.perf_counter()
    if postgres:
        with engine.begin() as conn:  # the story ids were set here: move the sequence on
            conn.execute(text("SELECT setval(pg_get_serial_sequence('stories', 'id'), (SELECT max(id) FROM stories))"))
        # ANALYZE as the poller does after a big batch; VACUUM too, as autovacuum soon would on a table that grew
        # this much (it also empties the GIN pending lists), so the figures don't depend on whether it is running.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for _, name in TABLES:
                conn.execute(text(f"VACUUM (ANALYZE) {name}"))
    return {"generate_s": made, "insert_s": stored, "analyze_s": time.perf_counter() - started, **rows}


def database_mb(engine: Engine, path: Path | None) -> float:
    if path is not None:
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6  # with the WAL
    with engine.connect() as conn:
        return float(conn.execute(text(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r'")).scalar_one() or 0) / 1e6


# ---- measuring ------------------------------------------------------------------------------------------------------


@dataclass
class Asked:
    shape: str
    text: str
    terms: list[str]
    total: float  # seconds in retrieve()
    parts: dict[str, float]  # seconds in search() and in its items and briefs queries; "... calls": how many
    found: int  # candidates search() returned, before ranking
    returned: int
    widened: bool
    baseline: float = 0.0  # seconds in the baseline's retrieve(), when --baseline is given


@contextmanager
def timed_search() -> Iterator[Counter[str]]:
    """Wrap search() as retrieve() calls it, and its two queries, to time them; undone on exit."""
    spent: Counter[str] = Counter()
    originals = (retrieve_module.search, search_module._items, search_module._briefs)

    def timed(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                result = fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started
                spent[f"{name} calls"] += 1
            if name == "search":
                spent["found"] += len(result)
            return result
        return wrapper

    retrieve_module.search = timed(originals[0], "search")  # type: ignore[assignment]
    search_module._items = timed(originals[1], "items")  # type: ignore[assignment]
    search_module._briefs = timed(originals[2], "briefs")  # type: ignore[assignment]
    try:
        yield spent
    finally:
        retrieve_module.search, search_module._items, search_module._briefs = originals


def load_module(name: str, path: str) -> Any:
    """An earlier version of one of bot/'s modules, imported under its own name."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def load_baseline(path: str | None, search_path: str | None = None) -> Callable[..., Any] | None:
    """retrieve() from an earlier bot/ask/retrieve.py, calling the search() and items_by_id() of an earlier
    bot/storage/search.py when `search_path` is given (else the current ones)."""
    if not path:
        return None
    module = load_module("baseline_retrieve", path)
    if search_path:
        search = load_module("baseline_search", search_path)
        module.search, module.items_by_id = search.search, search.items_by_id
    return module.retrieve  # type: ignore[no-any-return]


def timed_retrieve(engine: Engine, fn: Callable[..., Any], question: Any) -> float:
    with Session(engine) as session:
        started = time.perf_counter()
        fn(session, team_id=TEAM, question=question, now=NOW, limit=8)
        return time.perf_counter() - started


def ask_all(engine: Engine, baseline: Callable[..., Any] | None = None) -> list[Asked]:
    out = []
    with timed_search() as spent:
        for n, (shape, question_text) in enumerate(QUESTIONS):
            question = read_question(question_text, NOW)
            base = timed_retrieve(engine, baseline, question) if baseline is not None and n % 2 else 0.0
            spent.clear()  # the baseline goes through the same wrappers: first on odd questions, after on even ones
            with Session(engine) as session:
                started = time.perf_counter()
                got = retrieve(session, team_id=TEAM, question=question, now=NOW, limit=8)
                total = time.perf_counter() - started
            out.append(Asked(shape, question_text, got.terms, total,
                             {k: spent[k] for k in ("search", "items", "briefs", "search calls", "items calls")},
                             int(spent["found"]),
                             len(got.candidates), got.widened))
            if baseline is not None:
                out[-1].baseline = base or timed_retrieve(engine, baseline, question)
    return out


def median_of(passes: list[list[Asked]]) -> list[Asked]:
    """Each question's median pass (`--repeat`): its median time, and its baseline's median time, so one slow
    moment of a shared machine does not decide a percentile of 42 questions."""
    out = []
    for timings in zip(*passes, strict=True):
        middle = sorted(timings, key=lambda a: a.total)[len(timings) // 2]
        out.append(replace(middle, baseline=sorted(a.baseline for a in timings)[len(timings) // 2]))
    return out


def fts_query(terms: list[str], postgres: bool, how: str = "or") -> str:
    """A match expression for `terms`: their words (two letters or more) joined by OR or by AND."""
    words = list(dict.fromkeys(w for t in terms for w in re.findall(r"[0-9a-z]+", t.lower()) if len(w) > 1))
    if postgres:
        return (" | " if how == "or" else " & ").join(words)
    return (" OR " if how == "or" else " AND ").join(f'"{w}"' for w in words)


def matches(engine: Engine, terms: list[str], how: str) -> tuple[int, int]:
    """Items whose text has any (`how="or"`) or every word of `terms`: (the asking workspace's, both's)."""
    postgres = engine.dialect.name == "postgresql"
    q = fts_query(terms, postgres, how)
    if not q:
        return 0, 0
    if postgres:
        sql = (f"SELECT count(*) FILTER (WHERE i.team_id = :team), count(*) FROM items i "
               f"WHERE {search_module._PG_ITEMS} @@ to_tsquery('english', :q)")
    else:
        sql = ("SELECT coalesce(sum(i.team_id = :team), 0), count(*) FROM items_fts JOIN items i "
               "ON i.id = items_fts.rowid WHERE items_fts MATCH :q")
    with engine.connect() as conn:
        ours, every = conn.execute(text(sql), {"team": TEAM, "q": q}).one()
    return int(ours), int(every)


def plans(engine: Engine, question_text: str) -> list[str]:
    """The items and briefs queries of one question as search() sends them, explained (with ANALYZE and BUFFERS on
    PostgreSQL)."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    question = read_question(question_text, NOW)
    event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as session:
            search_module.search(session=session, team_id=TEAM, terms=search_terms(question), since=question.since,
                                 until=question.until, recent=NOW - RECENT)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    postgres = engine.dialect.name == "postgresql"
    lines = []
    for statement, parameters in sent:
        if not statement.lstrip().upper().startswith("SELECT"):
            continue
        q = parameters.get("q") if isinstance(parameters, dict) else next(
            (p for p in parameters if isinstance(p, str) and p.startswith('"')), "")
        lines.append(f"{'briefs' if 'briefs' in statement else 'items'} query, q = {q!r}:")
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(("EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN ")
                                        + statement, parameters).all()
        lines += [f"  {r[0]}" if postgres else f"  {'  ' * (1 if r[1] else 0)}{r[3]}" for r in rows]
    return lines or ["(no query was sent)"]


def report(asked: list[Asked], cold: list[Asked]) -> list[tuple[str, str]]:
    ms = [a.total * 1000 for a in asked]
    sql = [a.parts["search"] * 1000 for a in asked]
    items_sql = [a.parts["items"] * 1000 for a in asked]
    briefs_sql = [a.parts["briefs"] * 1000 for a in asked]
    rest = [(a.total - a.parts["search"]) * 1000 for a in asked]
    cold_ms = [a.total * 1000 for a in cold]
    rows = [
        ("retrieve()", f"p50 {pct(ms, 50):.1f} ms, p95 {pct(ms, 95):.1f} ms, max {max(ms):.1f} ms over "
                       f"{len(asked)} questions (2nd pass; 1st pass p50 {pct(cold_ms, 50):.1f}, p95 "
                       f"{pct(cold_ms, 95):.1f}, max {max(cold_ms):.1f} ms)"),
        ("  search() SQL", f"p50 {pct(sql, 50):.1f} ms, p95 {pct(sql, 95):.1f} ms, max {max(sql):.1f} ms; "
                           f"{100 * sum(sql) / sum(ms):.0f}% of all retrieve() time (items queries p50 "
                           f"{pct(items_sql, 50):.1f} / p95 {pct(items_sql, 95):.1f} ms, briefs query p50 "
                           f"{pct(briefs_sql, 50):.1f} / p95 {pct(briefs_sql, 95):.1f} ms)"),
        ("  items queries", f"{sum(a.parts['items calls'] for a in asked):.0f} for {len(asked)} questions: "
                            f"{sum(a.parts['items calls'] > a.parts['search calls'] for a in asked)} questions "
                            f"queried items more than once per search() call (every word, then any word)"),
        ("  ranking, rest", f"p50 {pct(rest, 50):.2f} ms, p95 {pct(rest, 95):.2f} ms, max {max(rest):.2f} ms"),
        ("  candidates", f"search() found {sum(a.found for a in asked) / len(asked):.1f} on average (at most 60 "
                         f"items + 30 briefs), retrieve() returned {sum(a.returned for a in asked) / len(asked):.1f}"
                         f"; {sum(not a.returned for a in asked)} questions got none, "
                         f"{sum(a.widened for a in asked)} were widened (searched twice)"),
    ]
    if any(a.baseline for a in asked):
        base = [a.baseline * 1000 for a in asked]
        rows.insert(1, ("  baseline", f"p50 {pct(base, 50):.1f} ms, p95 {pct(base, 95):.1f} ms, max "
                                      f"{max(base):.1f} ms: --baseline's retrieve(), each question beside the "
                                      f"current one"))
    by_shape: dict[str, list[float]] = defaultdict(list)
    for a in asked:
        by_shape[a.shape].append(a.total * 1000)
    rows.append(("  by shape", ", ".join(f"{s} ({len(v)}) p50 {pct(v, 50):.0f} / max {max(v):.0f} ms"
                                         for s, v in by_shape.items())))
    return rows


# ---- one database ---------------------------------------------------------------------------------------------------


def free_gb(path: str) -> float:
    return shutil.disk_usage(path).free / 1e9


def first_token(tmp: str) -> list[tuple[str, str]]:
    """The time from a question to its first streamed token, apart from the LLM (bench/first_token.py)."""
    from first_token import measure  # bench/ is on sys.path when this script runs

    return measure(tmp)


def kept_url(db: str, pg_url: str, keep: str, target: int) -> str:
    """The kept database of one size (`--keep`): a SQLite file in `keep`, or a PostgreSQL schema named after it."""
    name = f"bench_ask_{slug(Path(keep).name, 20).replace('-', '_')}_{target}"
    if db == "sqlite":
        Path(keep).mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{Path(keep).resolve() / f'{name}.db'}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{name}"'))
    admin.dispose()
    return f"{pg_url}{'&' if '?' in pg_url else '?'}options=-csearch_path%3D{name}"


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM items WHERE team_id = :t"), {"t": TEAM}).scalar_one())


def run_kept(db: str, args: argparse.Namespace, vocab: Vocabulary) -> None:
    """`--keep`: each size on its own kept database, built when it is empty, reused when it holds that size."""
    for target in args.sizes:
        url = kept_url(db, args.pg_url, args.keep, target)
        run(db, url, argparse.Namespace(**{**vars(args), "sizes": [target]}), args.keep, vocab)


def run(db: str, url: str, args: argparse.Namespace, tmp: str, vocab: Vocabulary) -> None:
    baseline = load_baseline(args.baseline, args.baseline_search)
    settings = Settings(database_url=url, briefbot_log_level="WARNING", _env_file=None)  # type: ignore[call-arg]
    ctx = build_context(settings)  # migrates: FTS5 tables and their triggers, or the GIN-indexed tsvectors
    engine, path = ctx.engine, settings.sqlite_path()
    copy = db == "postgresql" and args.pg_load == "copy"
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SELECT sqlite_version()" if db == "sqlite" else "SHOW server_version"))
            print(f"\n== {db} {version.scalar_one()}; rows in by "
                  f"{'COPY' if copy else 'SQLAlchemy Core executemany'}, batches of {args.batch}")
        have = stored(engine)
        if have and (len(args.sizes) != 1 or have != args.sizes[0]):
            raise SystemExit(f"{url}: holds {have:,} items of {TEAM}, not {args.sizes}")
        teams = [] if have else histories(engine, vocab)
        for target in args.sizes:
            if target >= 1_000_000 or target - have >= 500_000:
                room = free_gb(tmp if db == "sqlite" else "/")
                print(f"free disk before {target:,}: {room:.0f} GB")
                if room < MIN_FREE_GB:
                    print(f"skipped {target:,} and larger: under {MIN_FREE_GB} GB free")
                    break
            if have == target:
                rows = [("load", "none: the kept database holds these items already (--keep)")]
            else:
                loaded = load(engine, teams, target - have, args.batch, copy)
                total_rows = loaded["items"] + loaded["stories"] + loaded["briefs"]
                rows = [("load", f"+{loaded['items']:,} items, {loaded['stories']:,} stories, {loaded['briefs']:,} "
                                 f"briefs (both workspaces) stored in {loaded['insert_s']:.1f} s = "
                                 f"{loaded['items'] / loaded['insert_s']:,.0f} items/s ({total_rows:,} rows); "
                                 f"generating them took {loaded['generate_s']:.1f} s"
                                 + (f", VACUUM (ANALYZE) {loaded['analyze_s']:.1f} s" if db == "postgresql" else ""))]
            have = target
            rows.append(("  database size", f"{database_mb(engine, path):,.0f} MB"))
            cold = ask_all(engine, baseline)  # the first pass after loading; the second, warm, is the one reported
            asked = median_of([ask_all(engine, baseline) for _ in range(args.repeat)])
            rows += report(asked, cold)
            slowest = sorted(asked, key=lambda a: -a.total)[:5]
            for a in slowest:
                (all_here, all_both), (any_here, any_both) = matches(engine, a.terms, "and"), matches(
                    engine, a.terms, "or")
                rows.append((f"  slow: {a.total * 1000:.0f} ms", f"[{a.shape}] {a.text!r}: terms {a.terms}; items "
                             f"here with every word {all_here:,}, with any {any_here:,} (in both workspaces "
                             f"{all_both:,} and {any_both:,}){'; widened' if a.widened else ''}"))
            print(f"\n{db}, {target:,} items in the asking workspace (+{round(target * OTHER_SHARE):,} in another)")
            print_rows(rows)
            if target == (args.explain_at or args.sizes[-1]):
                print(f"plans for the slowest question, {slowest[0].text!r}:")
                for line in plans(engine, slowest[0].text):
                    print(f"    {line}")
    finally:
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10k and 100k items only")
    ap.add_argument("--sizes", help="comma-separated sizes of the asking workspace, e.g. 10k,100k,1M")
    pg = ap.add_mutually_exclusive_group()
    pg.add_argument("--pg", action="store_true", help="run on PostgreSQL too, and fail if it is not reachable")
    pg.add_argument("--no-pg", action="store_true", help="SQLite only")
    ap.add_argument("--no-sqlite", action="store_true", help="skip SQLite (with --pg: PostgreSQL only)")
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--pg-load", choices=["insert", "copy"], default="insert",
                    help="how rows go into PostgreSQL: Core executemany as on SQLite (default), or COPY")
    ap.add_argument("--batch", type=int, default=5000, help="rows per transaction")
    ap.add_argument("--explain-at", type=size, help="the size at which to explain the slowest question")
    ap.add_argument("--baseline", help="an earlier bot/ask/retrieve.py to time beside the current one")
    ap.add_argument("--baseline-search", help="with --baseline: the earlier bot/storage/search.py it calls")
    ap.add_argument("--keep", help="a directory: each size's database is kept there (PostgreSQL: a schema named "
                                   "after it) and reused by the next run with --keep")
    ap.add_argument("--no-first-token", action="store_true", help="skip bench/first_token.py at the end")
    ap.add_argument("--repeat", type=int, default=1, help="warm passes; each question's median is reported")
    args = ap.parse_args()
    args.sizes = sorted({size(s) for s in args.sizes.split(",")}) if args.sizes else (
        [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    load0 = os.getloadavg()[0]

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; code: {code_version()}; sizes "
          f"{', '.join(f'{s:,}' for s in args.sizes)} items (+{OTHER_SHARE:.0%} in another workspace, one brief per "
          f"{ITEMS_PER_BRIEF} items); {len(QUESTIONS)} questions at {NOW:%Y-%m-%d %H:%M} UTC")
    vocab = vocabulary()
    print(f"history from {len(vocab.stories)} UCI stories, {len(set(vocab.common)):,} common words, "
          f"{len(vocab.postings):,} postings of {len(vocab.companies)} companies")
    dbs = [d for d in databases(args.pg_url, insist=args.pg, skip=args.no_pg) if not (args.no_sqlite and d == "sqlite")]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-ask-") as tmp:
        for db in dbs:
            if args.keep:
                run_kept(db, args, vocab)
                continue
            with fresh_db(db, args.pg_url, tmp, "bench-ask") as url:
                run(db, url, args, tmp, vocab)
        if not args.no_first_token:
            print()
            print_rows(first_token(tmp))
    print(f"\nload average (1 min) {load0:.2f} at start, {os.getloadavg()[0]:.2f} at end; "
          f"run {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
