"""Hiring questions about one company, over real postings: do the answer's postings belong to the company and
the job family asked about? `.venv/bin/python bench/hiring_questions.py [--db sqlite|postgresql] [--min 3]`

Prints figures, asserts nothing. History: every posting of ../shared/corpus/jobs (1,288 real new-grad
postings from 585 companies) stored as one workspace's job items, one board per company, with 300 UCI
headlines as news beside them (../shared/corpus/news). Questions, generated mechanically, never by hand:

- family: for every (company, job family) with at least `--min` postings (family from the app's taxonomy over
  the title; a company is its key, so "Wyetech" and "Wyetech LLC" are one), "What has <company> posted in
  <family label>?" ("... in data and machine learning?");
- company: for every company with at least `--min` postings, "Is <company> hiring?";
- lower case: the family set's questions in lower case (a Slack DM's usual spelling);
- company in a metro: for every company with at least `--min` postings in one metro the metro table names and
  some elsewhere (metros: the app's own reading of the corpus's location strings), "Is <company> hiring in
  <metro>?";
- any company: for every job family with at least `--min` postings, "Who is hiring in <family label>?".

Each through `retrieve(..., limit=8)` as bot/ask/service.py calls it. Per set: precision of the job postings
among the eight candidates (the company's, and in the family asked about for the family set), the share of
questions whose candidates hold another company's posting, and recall (relevant postings found / the fewer of
eight and how many there are). Run it from a `git worktree` of another commit with PYTHONPATH at that tree to
compare before and after."""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import platform
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from common import PG_URL, code_version, databases, fresh_db, print_rows
from sqlmodel import Session

import bot
from bot.ask.retrieve import retrieve
from bot.context import build_context
from bot.core.companies import company_key
from bot.core.jobs import family_labels, family_of, job_function, metros_of
from bot.core.locations import parse_places
from bot.core.question import read_question
from bot.settings import Settings
from bot.storage.db import session_scope
from bot.storage.models import Item, Source, Workspace

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
JOBS = CORPUS / "jobs" / "simplify-new-grad-listings-2024-10-25.json"
NEWS = CORPUS / "news" / "uci-news-aggregator-dev.csv"
TEAM = "T_HIRE"
NOW = datetime(2024, 10, 26, tzinfo=UTC)
LIMIT = 8
SHOW = False  # --show: each question whose postings are not all relevant


def store(url: str) -> tuple[dict[int, tuple[str, str]], dict[tuple[str, str], set[int]], dict[str, set[int]],
                            dict[str, str], dict[int, set[str]]]:
    """The history; returns item id → (company key, family), the ids per (company key, family) and per company
    key, the name each company key is asked by (the first its postings give), and each posting's metros."""
    ctx = build_context(Settings(database_url=url, briefbot_log_level="WARNING"))
    postings = json.loads(JOBS.read_text(encoding="utf-8"))
    headlines = list(csv.DictReader(NEWS.open(encoding="utf-8")))[:300]
    labels: dict[int, tuple[str, str]] = {}
    places: dict[int, set[str]] = {}
    with session_scope(ctx.engine) as session:
        session.add(Workspace(team_id=TEAM, name=TEAM, created_at=NOW))
        session.flush()
        boards: dict[str, Source] = {}
        for p in postings:
            company = " ".join(p["company_name"].split())
            if company not in boards:
                boards[company] = Source(team_id=TEAM, kind="greenhouse", spec=f"greenhouse:{len(boards)}",
                                         locator=f"greenhouse:{len(boards)}", title=company, created_at=NOW,
                                         next_due_at=NOW)
        feed = Source(team_id=TEAM, kind="feed", spec="https://news.example/feed", locator="https://news.example/feed",
                      title="News", created_at=NOW, next_due_at=NOW)
        session.add_all([*boards.values(), feed])
        session.flush()
        rows: list[tuple[Item, str, str]] = []
        metros: dict[int, set[str]] = {}  # corpus row → its metros (the app's own reading of its locations)
        shown: dict[str, str] = {}  # a company's key (one company under "Wyetech" and "Wyetech LLC") → a name
        for i, p in enumerate(postings):
            company, title = " ".join(p["company_name"].split()), " ".join(p["title"].split())
            at = datetime.fromtimestamp(int(p.get("date_posted") or p.get("date_updated") or NOW.timestamp()), UTC)
            place = ", ".join(p.get("locations") or [])
            located = [q.as_dict() for raw in p.get("locations") or [] for q in parse_places(raw)]
            metros[i] = set(metros_of(located))
            rows.append((_item(boards[company].id or 0, "job", f"https://jobs.example/{i}", title, company, at,
                               f"{title} at {company}. {place}", job_title=title, locations=located),
                         company_key(company), family_of(job_function(title))))
            shown.setdefault(company_key(company), company)
        for i, h in enumerate(headlines):
            at = datetime.fromtimestamp(int(h["TIMESTAMP"]) / 1000, UTC)
            session.add(_item(feed.id or 0, "news", f"https://news.example/{i}", h["TITLE"], h["PUBLISHER"], at, ""))
        session.add_all([r[0] for r in rows])
        session.flush()
        for i, (row, company, family) in enumerate(rows):
            labels[row.id or 0] = (company, family)
            places[row.id or 0] = metros[i]
    ctx.engine.dispose()
    by_family: dict[tuple[str, str], set[int]] = defaultdict(set)
    by_company: dict[str, set[int]] = defaultdict(set)
    for item_id, (company, family) in labels.items():
        by_family[company, family].add(item_id)
        by_company[company].add(item_id)
    return labels, by_family, by_company, shown, places


def named_metros() -> set[str]:
    """Metros whose own name is one of their cities ("Seattle"; not "San Francisco Bay Area"), from the app's
    table (read here, so the bench runs against trees that predate bot.core.jobs.metro_named)."""
    data = json.loads(resources.files("bot.data").joinpath("metros.json").read_text("utf-8"))
    return {metro for metro, spec in data["metros"].items() if metro in spec["cities"]}


def _item(source_id: int, kind: str, url: str, title: str, outlet: str, at: datetime, text: str,
          **extra: str) -> Item:
    return Item(team_id=TEAM, source_id=source_id, kind=kind, external_id=url, url=url,
                url_key=hashlib.sha256(url.encode()).hexdigest(), title=title, text=text, outlet=outlet,
                published_at=at, first_seen_at=at, updated_at=at,
                content_hash=hashlib.sha256(f"{title}{text}".encode()).hexdigest()[:40], **extra)


def measure(url: str, questions: list[tuple[str, set[int]]], labels: dict[int, tuple[str, str]],
            company_of: dict[str, str]) -> dict[str, float]:
    ctx = build_context(Settings(database_url=url, briefbot_log_level="WARNING"), migrate=False)
    precision, recall, foreign, seconds = [], [], 0, []
    with Session(ctx.engine) as session:
        for text, _ in questions[:3]:  # warm: the first question of a process compiles the taxonomy and statements
            retrieve(session, team_id=TEAM, question=read_question(text, NOW), now=NOW, limit=LIMIT)
        for text, relevant in questions:
            started = time.perf_counter()
            found = retrieve(session, team_id=TEAM, question=read_question(text, NOW), now=NOW, limit=LIMIT)
            seconds.append(time.perf_counter() - started)
            jobs = [c.id for c in found.candidates if c.kind == "item" and c.id in labels]
            company = company_of[text]
            good = [i for i in jobs if i in relevant]
            precision.append(len(good) / len(jobs) if jobs else 0.0)
            recall.append(len(good) / min(LIMIT, len(relevant)))
            foreign += bool(company) and any(labels[i][0] != company for i in jobs)
            if SHOW and (len(good) < len(jobs) or not jobs):
                wrong = [labels[i] for i in jobs if i not in relevant][:3]
                print(f"  miss: {text!r}: {wrong} ({len(good)}/{len(jobs)})")
    ctx.engine.dispose()
    n = len(questions) or 1
    return {"questions": len(questions), "precision": sum(precision) / n, "recall": sum(recall) / n,
            "foreign": foreign / n, "ms": 1000 * sum(seconds) / n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--min", type=int, default=3, help="postings a company (and family) needs for a question")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--show", action="store_true", help="print each question with an irrelevant posting")
    args = parser.parse_args()
    global SHOW
    SHOW = args.show
    if not JOBS.exists():
        sys.exit(f"needs {JOBS} (../shared beside the checkout)")
    logging.disable(logging.WARNING)
    print(f"# bench/hiring_questions.py · code {code_version()} from {Path(bot.__file__).parent.parent} · "
          f"{platform.platform()} · Python {platform.python_version()}")
    wanted = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for db in databases(args.pg_url, insist=args.db != "sqlite", skip=args.db == "sqlite"):
        if db not in wanted:
            continue
        with tempfile.TemporaryDirectory() as tmp, fresh_db(db, args.pg_url, tmp, prefix="hiring") as url:
            if True:
                labels, by_family, by_company, shown, places = store(url)
                names = family_labels()
                sets: dict[str, list[tuple[str, set[int]]]] = {"family": [], "company": [], "lower case": []}
                company_of: dict[str, str] = {}
                for (company, family), ids in sorted(by_family.items()):
                    if family == "other" or len(ids) < args.min:
                        continue
                    text = f"What has {shown[company]} posted in {names.get(family, family)}?"
                    sets["family"].append((text, ids))
                    sets["lower case"].append((text.lower(), ids))
                    company_of[text] = company_of[text.lower()] = company
                for company, ids in sorted(by_company.items()):
                    if len(ids) >= args.min:
                        text = f"Is {shown[company]} hiring?"
                        sets["company"].append((text, ids))
                        company_of[text] = company
                for company, ids in sorted(by_company.items()):  # the company's postings in one named metro
                    counted: dict[str, set[int]] = defaultdict(set)
                    for item_id in ids:
                        for metro in places[item_id]:
                            if metro in named_metros():  # a metro a question can name by itself
                                counted[metro].add(item_id)
                    for metro, in_metro in sorted(counted.items()):
                        if len(in_metro) >= args.min and len(in_metro) < len(ids):
                            text = f"Is {shown[company]} hiring in {metro}?"
                            sets.setdefault("company in a metro", []).append((text, in_metro))
                            company_of[text] = company
                families: dict[str, set[int]] = defaultdict(set)
                for (_, family), ids in by_family.items():
                    families[family] |= ids
                for family, ids in sorted(families.items()):
                    if family != "other" and len(ids) >= args.min:
                        text = f"Who is hiring in {names.get(family, family)}?"
                        sets.setdefault("any company", []).append((text, ids))
                        company_of[text] = ""
                print(f"\n## {db}: {len(labels)} postings of {len(by_company)} companies, 300 headlines")
                rows = []
                for name, questions in sets.items():
                    got = measure(url, questions, labels, company_of)
                    rows.append((f"{name} ({got['questions']:.0f} questions)",
                                 f"precision {got['precision']:.3f} · recall {got['recall']:.3f} · "
                                 f"another company's posting in {got['foreign']:.0%} · {got['ms']:.1f} ms"))
                print_rows(rows)


if __name__ == "__main__":
    main()
