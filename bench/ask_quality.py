"""Answer quality on real headlines: do the first five citations come from the story asked about?
`.venv/bin/python bench/ask_quality.py [--seed 2026] [--seeds 10] [--stories clusterer|none] [--pg | --no-pg]`

Prints figures, asserts nothing. History: the 2,605 labelled UCI headlines (../shared/corpus/news, 34 stories)
stored as one workspace's news items (one source per publisher host), put into stories by the app's own
clusterer (`update_stories`, as the worker does; `--stories none` leaves every item without a story). Each
database is built by `build_context` (the app's migrations). Then two question sets, each through
`retrieve(session, team_id=..., question=read_question(text, NOW), now=NOW, limit=8)` as bot/ask/service.py
calls it; the first five candidates are the first five citations an answer can carry:

- hand-written: tests/fixtures/questions_uci.json (41 questions phrased as a person asks, each naming its story);
- generated: one question per labelled story with 10 or more reports (33 stories), "What is the latest on
  this: <headline>?", the headline one of the story's own, chosen by `random.Random(seed)`. The question's own
  headline is taken out of the history while it is asked (deleted in the question's transaction, rolled back
  after), so it can neither be found nor counted.

Per set: precision of the first five (reports of the story asked about / 5, five in the denominator however
many were returned), the share of questions with at least one such report in the first five, how many got five
of five, and whether the story's reports among the first five come newest first. `--seeds N` repeats the
generated set with seeds seed..seed+N-1 (a different headline per story each time) and prints their mean, so a
change is not judged on one draw; `--seed 3000` draws sets that were not looked at while tuning. A plain FTS5
BM25 query (an OR of the question's words, top five) over the same history is printed beside them on SQLite:
the baseline of ../shared/docs/performance-notes.md.
`retrieve()` time per question (warm, this small history) is printed too; latency at scale is bench/ask.py's."""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import logging
import os
import platform
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from common import PG_URL, code_version, databases, fresh_db, pct, print_rows
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

import bot
from bot.analysis.story_update import update_stories
from bot.ask.retrieve import retrieve
from bot.context import build_context
from bot.core.question import read_question
from bot.core.stories import StoryParams
from bot.settings import Settings
from bot.storage.db import session_scope
from bot.storage.models import Item, Source, Workspace

ROOT = Path(__file__).resolve().parents[1]
NEWS = ROOT.parent / "shared" / "corpus" / "news" / "uci-news-aggregator-dev.csv"
HAND = ROOT / "tests" / "fixtures" / "questions_uci.json"
TEAM = "T_Q"
NOW = datetime(2014, 3, 14, 12, 0, tzinfo=UTC)  # as the hand-written set's "now": two days after the last report
MIN_REPORTS = 10
FIRST = 5
PHRASE = "What is the latest on this: {}?"


@dataclass(frozen=True)
class Case:
    question: str
    story: str
    own_item: int | None = None  # the item whose headline the question quotes: out of the history while asked


@dataclass
class Scored:
    precision: float  # reports of the story among the first five, over five
    hit: bool
    full: bool  # five of five
    newest_first: bool  # the story's reports among the first five are in newest-first order
    ms: float


def load(engine: Engine) -> tuple[dict[int, str], dict[str, list[tuple[int, str]]]]:
    """Every headline as a news item of TEAM; item id -> STORY label, and label -> [(item id, headline)]."""
    with NEWS.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with session_scope(engine) as session:
        session.add(Workspace(team_id=TEAM, name=TEAM, created_at=NOW))
        session.flush()
        sources = {}
        for host in sorted({r["HOSTNAME"] for r in rows}):
            src = Source(team_id=TEAM, kind="feed", spec=f"https://{host}/feed", locator=f"https://{host}/feed",
                         title=host, created_at=NOW, next_due_at=NOW)
            session.add(src)
            session.flush()
            sources[host] = src.id or 0
        items = []
        for r in rows:
            at = datetime.fromtimestamp(int(r["TIMESTAMP"]) / 1000, tz=UTC)
            url = r["URL"]
            items.append(Item(team_id=TEAM, source_id=sources[r["HOSTNAME"]], kind="news", external_id=url, url=url,
                              url_key=hashlib.sha256(f"{r['ID']}{url}".encode()).hexdigest(), title=r["TITLE"],
                              text="", outlet=r["PUBLISHER"].replace("\\", ""), published_at=at, first_seen_at=at,
                              updated_at=at, content_hash=hashlib.sha256(r["TITLE"].encode()).hexdigest()[:40]))
        session.add_all(items)
        session.flush()
        labels = {i.id or 0: r["STORY"] for i, r in zip(items, rows, strict=True)}
        by_story: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for i, r in zip(items, rows, strict=True):
            by_story[r["STORY"]].append((i.id or 0, r["TITLE"]))
    return labels, by_story


def generated(by_story: dict[str, list[tuple[int, str]]], seed: int) -> list[Case]:
    """One question per story of MIN_REPORTS or more, from a headline drawn with `seed` (stories in label order)."""
    rng = random.Random(seed)
    cases = []
    for label in sorted(by_story):
        reports = by_story[label]
        if len(reports) < MIN_REPORTS:
            continue
        item_id, headline = rng.choice(reports)
        cases.append(Case(PHRASE.format(" ".join(headline.split()).rstrip("?")), label, item_id))
    return cases


def hand_written() -> list[Case]:
    spec = json.loads(HAND.read_text(encoding="utf-8"))
    return [Case(q["q"], q["story"]) for q in spec["questions"]]


def score(found: list[tuple[int, datetime]], labels: dict[int, str], story: str, ms: float) -> Scored:
    first = [(i, at) for i, at in found[:FIRST]]
    ours = [at for i, at in first if labels.get(i) == story]
    return Scored(len(ours) / FIRST, bool(ours), len(ours) == FIRST,
                  all(a >= b for a, b in itertools.pairwise(ours)), ms)


def ask(engine: Engine, cases: list[Case], labels: dict[int, str]) -> list[Scored]:
    out = []
    for case in cases:
        with Session(engine) as session:
            if case.own_item is not None:
                session.execute(text("DELETE FROM items WHERE id = :id"), {"id": case.own_item})
            started = time.perf_counter()
            got = retrieve(session, team_id=TEAM, question=read_question(case.question, NOW), now=NOW, limit=8)
            ms = (time.perf_counter() - started) * 1000
            session.rollback()
        found = [(c.id, c.at) for c in got.candidates if c.kind == "item"]
        out.append(score(found, labels, case.story, ms))
    return out


def plain_bm25(engine: Engine, cases: list[Case], labels: dict[int, str]) -> list[Scored]:
    """FTS5 BM25 over an OR of the question's words, top five, nothing else (SQLite only)."""
    out = []
    with engine.connect() as conn:
        for case in cases:
            words = [w for t in read_question(case.question, NOW).terms for w in re.findall(r"[0-9a-z]+", t)
                     if len(w) > 1]
            q = " OR ".join(f'"{w}"' for w in dict.fromkeys(words))
            rows = conn.execute(text(
                "SELECT i.id, i.published_at FROM items_fts JOIN items i ON i.id = items_fts.rowid "
                "WHERE items_fts MATCH :q AND i.id != :own ORDER BY bm25(items_fts) LIMIT 5"),
                {"q": q, "own": case.own_item or 0}).all() if q else []
            out.append(score([(r[0], r[1]) for r in rows], labels, case.story, 0.0))
    return out


def summary(scored: list[Scored]) -> str:
    n = len(scored)
    ms = [s.ms for s in scored]
    return (f"precision@5 {sum(s.precision for s in scored) / n:.2f}, hits {sum(s.hit for s in scored) / n:.2f} "
            f"({sum(s.hit for s in scored)}/{n}), 5 of 5 {sum(s.full for s in scored)}/{n}, newest first "
            f"{sum(s.newest_first for s in scored)}/{n}"
            + (f"; retrieve() p50 {pct(ms, 50):.1f} ms, p95 {pct(ms, 95):.1f} ms" if any(ms) else ""))


def run(db: str, url: str, args: argparse.Namespace) -> None:
    settings = Settings(database_url=url, briefbot_log_level="WARNING", _env_file=None)  # type: ignore[call-arg]
    ctx = build_context(settings)
    engine = ctx.engine
    try:
        labels, by_story = load(engine)
        if args.stories == "clusterer":
            started = time.perf_counter()
            report = update_stories(engine=engine, clock=lambda: NOW, params=StoryParams(), team_id=TEAM)
            with engine.connect() as conn:
                stories = conn.execute(text("SELECT count(DISTINCT story_id) FROM items WHERE team_id = :t"),
                                       {"t": TEAM}).scalar_one()
            clustered = (f"{report.items:,} items into {stories:,} stories by the app's clusterer in "
                         f"{time.perf_counter() - started:.1f} s")
        else:
            clustered = "no story ids"
        hand = hand_written()
        ask(engine, hand, labels)  # warm up
        rows = [("history", f"{len(labels):,} headlines, {len(by_story)} labelled stories; {clustered}"),
                ("hand-written", summary(ask(engine, hand, labels)))]
        means = []
        for n in range(args.seeds):
            cases = generated(by_story, args.seed + n)
            scored = ask(engine, cases, labels)
            means.append(scored)
            if n == 0:
                rows.append((f"generated (seed {args.seed})", summary(scored)))
                if db == "sqlite":
                    rows.append(("  plain FTS5 BM25, same", summary(plain_bm25(engine, cases, labels))))
        if args.seeds > 1:
            flat = [s for scored in means for s in scored]
            per_seed = ", ".join(f"{sum(s.precision for s in m) / len(m):.2f}/{sum(s.hit for s in m) / len(m):.2f}"
                                 for m in means)
            rows.append((f"generated, {args.seeds} seeds", f"{summary(flat)}; per seed precision/hits {per_seed}"))
        print(f"\n== {db}")
        print_rows(rows)
    finally:
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2026, help="the generated set's draw of headlines")
    ap.add_argument("--seeds", type=int, default=10, help="generated sets drawn (seed, seed+1, ...); mean printed")
    ap.add_argument("--stories", choices=["clusterer", "none"], default="clusterer")
    pg = ap.add_mutually_exclusive_group()
    pg.add_argument("--pg", action="store_true", help="run on PostgreSQL too, and fail if it is not reachable")
    pg.add_argument("--no-pg", action="store_true", help="SQLite only")
    ap.add_argument("--pg-url", default=PG_URL)
    args = ap.parse_args()
    if not NEWS.exists():
        raise SystemExit(f"{NEWS} not found: the history and the questions are its headlines")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    here = Path(bot.__file__).resolve().parents[1]
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; code: "
          f"{code_version() if here == ROOT else f'bot/ from {here}'}; command: {' '.join(sys.argv)}")
    with tempfile.TemporaryDirectory(prefix="bench-ask-quality-") as tmp:
        for db in databases(args.pg_url, insist=args.pg, skip=args.no_pg):
            with fresh_db(db, args.pg_url, tmp, "ask-quality") as url:
                run(db, url, args)


if __name__ == "__main__":
    main()
