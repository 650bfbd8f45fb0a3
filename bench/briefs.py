"""Briefs economy benchmark: a realistic multi-day stream through the real pipeline, counting LLM calls and tokens.
`.venv/bin/python bench/briefs.py [--days 7] [--seed 1] [--rounds 24]`

Prints figures, asserts nothing; every server is ours, on 127.0.0.1. Day 0 is every source's first poll (backfill); on
days 1..N items appear through the day and each source is polled `--rounds` times a day, each poll followed by analysis
as in the worker. Stream: see `Stream.add_day`. Prompt tokens = len(json.dumps(messages, ensure_ascii=False)) / 4, for
the pipeline's requests and for the naive baseline (one brief_story / brief_signal call per new stored item)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import html
import json
import logging
import platform
import random
import re
import sqlite3
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path
from threading import Thread
from types import SimpleNamespace
from typing import Any

import feedparser
from sqlmodel import col, select

import bot.analysis.briefing as briefing
from bot.context import build_context
from bot.core.jobs import family_of, job_function, metros_of
from bot.core.rebrief import needs_brief
from bot.demo.server import LocalServer, Route
from bot.ingest.add import add_by_spec
from bot.llm.brief_writer import PROMPT_FOR, conditions, prompt_values
from bot.llm.prompts import load_all, render
from bot.settings import Settings
from bot.storage.db import session_scope
from bot.storage.models import Brief, Item, Signal, Story

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"
UCI, FEEDS, JOBS = SHARED / "news" / "uci-news-aggregator-dev.csv", SHARED / "feeds", SHARED / "jobs"
TEAM, DAY0 = "T_BENCH", datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
OUTLETS = ["Reuters", "LA Times", "Business Insider", "Daily Mail", "WSJ", "CNET", "The Guardian", "Bloomberg"]
COMPANIES = {"Kestrel Commerce": ["San Francisco, CA", "New York, NY", "Austin, TX"],
             "Fernhill Robotics": ["Boston, MA", "Pittsburgh, PA", "Remote in USA"],
             "Quillpay": ["New York, NY", "Chicago, IL", "Remote in USA"],
             "Orchard Health": ["Nashville, TN", "Denver, CO", "Seattle, WA"]}
SURGE_TITLES = ["Fulfillment Center Associate", "Warehouse Associate", "Forklift Operator", "Inventory Control Lead",
                "Outbound Dock Supervisor", "Picker and Packer", "Shipping and Receiving Clerk"]
SURGE_CITIES = ["Kent, WA", "Auburn, WA", "Tacoma, WA", "Sumner, WA"]
BRIEF = {"summary": "Several reports describe one development; they agree on who is involved and what happened.",
         "why_it_matters": "It may change plans for the companies involved and for their competitors.",
         "entities": ["Example Corp"], "places": ["United States"], "event_type": "expansion"}


PASS_CALLS = Counter[int]()  # analysis passes by how many LLM calls each made


def tokens(value: Any) -> int:
    return round(len(json.dumps(value, ensure_ascii=False)) / 4)


class FakeLLM(BaseHTTPRequestHandler):
    """POST …/chat/completions: records the request, answers a valid brief, with `usage` from the same estimate over
    the messages plus the response_format schema (which a real server counts too)."""

    protocol_version, requests = "HTTP/1.1", list[dict[str, Any]]()

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        FakeLLM.requests.append(body := json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        content = json.dumps({"headline": f"Brief {len(self.requests)}: what the sources say happened", **BRIEF})
        usage = {"prompt_tokens": tokens(body["messages"]) + tokens(body["response_format"]),
                 "completion_tokens": tokens(content)}
        data = json.dumps({"id": "c", "object": "chat.completion", "created": 0, "model": body["model"], "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": usage | {"total_tokens": sum(usage.values())}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def corpus(rng: random.Random) -> tuple[list[list[str]], list[str], list[str]]:
    """Labelled stories' headlines, singleton titles (one per podcast or column) and job titles, read in place;
    generated words, with a note, where the shared corpus is absent."""
    stories: dict[str, list[str]] = defaultdict(list)
    if UCI.exists():
        with UCI.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                stories[row["STORY"]].append(row["TITLE"])
    series: dict[str, str] = {}
    for path in sorted(p for p in FEEDS.rglob("*") if p.suffix in {".xml", ".rss", ".atom"}):
        for title in sorted({" ".join(str(e.get("title", "")).split()) for e in feedparser.parse(path.read_bytes())
                             .entries}):
            if len(title.split()) >= 5 and title.isascii() and "<" not in title:
                series.setdefault(" ".join(title.lower().split()[:2]), title)
    listing = JOBS / "simplify-new-grad-listings-2024-10-25.json"
    titles = sorted({r["title"] for r in json.loads(listing.read_text("utf-8"))}) if listing.exists() else []
    words = [f"{rng.choice('bcdfgklmnprstvz')}{rng.choice('aeiou')}{rng.choice('nrstl')}{n}" for n in range(3000)]
    if not stories or len(series) < 400 or not titles:
        print(f"note: shared corpus incomplete under {SHARED}; missing parts use generated words")
    stories = stories or {str(s): [" ".join(words[3 * s: 3 * s + 3] + rng.sample(words, 5)) for _ in range(60)]
                          for s in range(34)}
    singles = sorted(series.values()) if len(series) >= 400 else [" ".join(rng.sample(words, 8)) for _ in range(900)]
    return list(stories.values()), singles, titles or [f"{w.title()} Engineer" for w in words[:300]]


class Stream:
    """Each day's entries (published through the day) and board postings, generated from the seed; `routes(now)`
    is what every URL serves at `now`."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.stories, self.singles, self.job_titles = corpus(self.rng)
        self.rng.shuffle(self.singles)
        self.news: list[list[dict[str, Any]]] = [[] for _ in OUTLETS]
        self.jobs: dict[str, list[dict[str, Any]]] = {c: [] for c in COMPANIES}
        self.serial = 0  # entries published so far (news, syndicated copies, postings)

    def _at(self, day: int) -> datetime:  # in the 24 h before day `day` ends (its last poll)
        return DAY0 + timedelta(days=day - 1 + self.rng.random()) if day else DAY0 - timedelta(days=self.rng.random())

    def _news(self, outlet: int, day: int, title: str, text: str, link: str = "") -> dict[str, Any]:
        self.serial += 1
        when, slug = self._at(day), re.sub(r"[^a-z0-9]+", "-", " ".join(title.lower().split()[:6])).strip("-")
        link = link or f"https://www.outlet{outlet}.example/{when:%Y/%m/%d}/{slug}-{self.serial}?utm_source=rss"
        self.news[outlet].append(entry := {"guid": f"o{outlet}-{self.serial}", "title": title, "text": text,
                                           "day": day, "at": when, "link": link})
        return entry

    def add_day(self, day: int, surge_day: int) -> None:
        """8 RSS outlets: 12 events a day from the UCI labelled stories, each reported by 1–5 outlets under their real
        headlines; 25 singletons (real feed titles); 3 syndicated copies (same URL in another feed); 2 reposts (same
        guid, edited text). 4 Greenhouse boards post 1–4 roles a day like their 40 open ones (Simplify titles), and
        one opens a fulfillment cluster in a new metro (10, 3, then 2 roles from `surge_day`)."""
        rng, today = self.rng, []
        for _ in range(12 if day else 6):  # events, each reported by 1–5 outlets
            story = rng.choice([s for s in self.stories if len(s) >= 8])
            for outlet in rng.sample(range(len(OUTLETS)), rng.choices(range(1, 6), [35, 25, 18, 12, 10])[0]):
                title = story.pop(rng.randrange(len(story)))
                today.append(self._news(outlet, day, title, ". ".join([title, *rng.sample(story, 3)]) + "."))
        for _ in range(25 if day else 12):
            title = self.singles.pop()
            today.append(self._news(rng.randrange(len(OUTLETS)), day, title, f"{title}. {self.singles.pop()}."))
        for entry in rng.sample(today, 3):  # syndicated: the same URL in another outlet's feed
            self._news(rng.randrange(len(OUTLETS)), day, entry["title"], entry["text"], link=entry["link"])
        yesterday = [e for feed in self.news for e in feed if e["day"] == day - 1]
        for entry in rng.sample(yesterday, min(2, len(yesterday))):  # reposts: same guid, edited text
            entry["text"] += " Updated with comment from the company."
        for c, (company, places) in enumerate(COMPANIES.items()):
            board = self.jobs[company]
            for _ in range(40 if day == 0 else rng.randint(1, 4)):
                model = rng.choice([j for j in board if j["day"] == 0]) if day else None
                board.append(self._job(c, company, day, model["title"] if model else rng.choice(self.job_titles),
                                       model["location"]["name"] if model else rng.choice(places)))
            if c == 0 and 0 <= day - surge_day <= 2:  # the surge: a fulfillment cluster in a new metro
                board += [self._job(c, company, day, rng.choice(SURGE_TITLES), rng.choice(SURGE_CITIES))
                          for _ in range([10, 3, 2][day - surge_day])]
            if day:
                del board[:rng.randint(0, 2)]  # filled roles leave the board

    def _job(self, c: int, company: str, day: int, title: str, place: str) -> dict[str, Any]:
        self.serial += 1
        text = (f"<p><strong>About {company}</strong></p><p>{company} builds products for customers across the US."
                f"</p><p><strong>About the role</strong></p><p>As {title} in {place} you will join a growing team.</p>"
                "<ul><li>Own the metrics of your area.</li><li>Health, dental and a 401(k).</li></ul>")
        at = self._at(day).isoformat()
        return {"id": self.serial, "title": title, "updated_at": at, "first_published": at, "day": day,
                "location": {"name": place}, "company_name": company, "content": html.escape(text),
                "absolute_url": f"https://boards.greenhouse.io/board{c}/jobs/{self.serial}", "metadata": None,
                "departments": [{"id": c, "name": "Operations" if "WA" in place else "Engineering"}]}

    def routes(self, now: datetime) -> dict[str, Route]:
        routes = {}
        for o, feed in enumerate(self.news):  # a feed shows the last two days' entries
            shown = [e for e in feed if now - timedelta(days=2) <= e["at"] <= now]
            items = "".join(
                f"<item><guid isPermaLink='false'>{e['guid']}</guid><link>{e['link']}</link><title>"
                f"{html.escape(e['title'])}</title><pubDate>{format_datetime(e['at'], usegmt=True)}</pubDate>"
                f"<description>{html.escape('<p>' + html.escape(e['text']) + '</p>')}</description></item>"
                for e in shown)
            routes[f"/news/{o}.xml"] = Route(body=(
                f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{OUTLETS[o]}</title>"
                f"<link>https://www.outlet{o}.example/</link>{items}</channel></rss>").encode(),
                content_type="application/rss+xml")
        for c, board in enumerate(self.jobs.values()):
            shown = [j for j in board if j["first_published"] <= now.isoformat()]
            routes[f"/boards/{c}.json"] = Route(body=json.dumps({"jobs": shown, "meta": {"total": len(shown)}})
                                                .encode(), content_type="application/json")
        return routes


def naive_call_tokens(ctx: Any, item: Item, prompts: dict[str, Any] | None = None) -> int:
    """One brief for this item alone, built by the pipeline's own input builders and prompts (or `prompts`)."""
    if item.kind == "job":
        function = job_function(item.job_title or item.title, item.department)
        subject = SimpleNamespace(id=0, version=1, item_count=1, functions=[[function, 1]], company=item.outlet,
                                  family=family_of(function), metro=(metros_of(item.locations) or [""])[0],
                                  reason="", baseline=0.0, first_at=item.first_seen_at, last_at=item.first_seen_at)
        inp = briefing.signal_input(subject, [item])  # type: ignore[arg-type]
    else:
        when = item.published_at or item.first_seen_at
        story = SimpleNamespace(id=0, version=1, item_count=1, outlets=[item.outlet], first_at=when, last_at=when)
        inp = briefing.story_input(story, [item])  # type: ignore[arg-type]
    return tokens(render((prompts or ctx.prompts)[PROMPT_FOR[inp.subject]], conditions(inp), **prompt_values(inp)))


async def replay(ctx: Any, server: LocalServer, stream: Stream, clock: SimpleNamespace, days: int, rounds: int) -> None:
    fetcher, log = ctx.fetcher(), FakeLLM.requests
    print("day polls   new updated linked stories signals briefs calls prompt~t  secs")  # prompt~t: the estimate
    try:
        for day in range(days + 1):
            stream.add_day(day, surge_day=max(1, days // 2))
            n, calls, started = Counter[str](), len(log), time.perf_counter()
            for r in range(rounds if day else 1):
                clock.now = DAY0 + timedelta(days=day - 1 + (r + 1) / rounds) if day else DAY0
                for path, route in stream.routes(clock.now).items():
                    server.route(path, route)
                for path in [] if day else sorted(server.routes):
                    await add_by_spec(spec=server.url(path), kind="greenhouse" if "boards" in path else "feed",
                                      team_id=TEAM, channel_id="C_BENCH", settings=ctx.settings, engine=ctx.engine,
                                      fetcher=fetcher, clock=ctx.clock)
                polled, before = await ctx.poller(fetcher).poll(due_only=True), len(log)
                report = ctx.analyse(team_id=TEAM)
                PASS_CALLS[len(log) - before] += 1
                n.update(new=polled.items_new, updated=polled.items_updated, linked=polled.items_linked,
                         stories=len(report.stories_created), signals=len(report.signals_created),
                         briefs=len(report.briefs))
            print(f"{day:>3} {rounds if day else 1:>5} {n['new']:>5} " + " ".join(f"{n[k]:>{len(k)}}" for k in (
                  "updated", "linked", "stories", "signals", "briefs")) + f" {len(log) - calls:>5} "
                  f"{sum(tokens(r['messages']) for r in log[calls:]):>8} {time.perf_counter() - started:5.2f}")
        # The end of the stream: what waited for its re-brief interval is written now, and counted.
        clock.now += timedelta(minutes=ctx.settings.briefbot_rebrief_minutes)
        calls, report = len(log), ctx.analyse(team_id=TEAM)
        print(f"end {1:>5} {0:>5} " + " ".join(f"{0:>{len(k)}}" for k in ("updated", "linked", "stories", "signals"))
              + f" {len(report.briefs):>6} {len(log) - calls:>5} {sum(tokens(r['messages']) for r in log[calls:]):>8}")
    finally:
        await fetcher.aclose()


def where_tokens(briefs: list[Brief], rebrief_ids: set[int]) -> None:
    """Each request's estimate split into its parts, for first briefs and re-briefs (a brief's headline names the
    request that wrote it: "Brief 7: …")."""
    parts = ("system message", "user: template and facts", "user: item headers", "user: item texts",
             "user: related lines and earlier brief")
    sums: dict[bool, list[int]] = {False: [0] * len(parts), True: [0] * len(parts)}
    calls = Counter[bool]()
    for brief in briefs:
        number = re.match(r"Brief (\d+):", brief.headline)
        if number is None or briefing.carried(brief.writer_note):  # a sources update: its text's request
            continue
        messages = FakeLLM.requests[int(number.group(1)) - 1]["messages"]
        lines = str(messages[1]["content"]).splitlines()
        headers = sum(len(line) for line in lines if re.match(r"\[\d+\] outlet:", line))
        texts = sum(len(line) for line in lines if line.startswith("text: "))
        related = sum(len(line) for line in lines if line.startswith("- "))
        user = tokens(messages[1:])
        split = [tokens(messages[0]), user - round((headers + texts + related) / 4), round(headers / 4),
                 round(texts / 4), round(related / 4)]
        again = id(brief) in rebrief_ids
        calls[again] += 1
        sums[again] = [a + b for a, b in zip(sums[again], split, strict=True)]
    print(f"\nwhere the prompt tokens go (estimate per call): {'first briefs':>14}{'re-briefs':>12}")
    print(f"{'calls':<40}{calls[False]:>14}{calls[True]:>12}")
    for n, name in enumerate(parts):
        print(f"{name:<40}" + "".join(f"{sums[again][n] / max(1, calls[again]):>{w}.0f}" for again, w in
                                         ((False, 14), (True, 12))))
    print(f"{'all':<40}" + "".join(f"{sum(sums[again]) / max(1, calls[again]):>{w}.0f}" for again, w in
                                   ((False, 14), (True, 12))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=24, help="polls a day, each followed by analysis (<= 96)")
    parser.add_argument("--llm-single-reports", action="store_true",
                        help="BRIEFBOT_LLM_SINGLE_REPORTS: the LLM briefs one-outlet stories too")
    parser.add_argument("--rebrief-minutes", type=int, default=None,
                        help="BRIEFBOT_REBRIEF_MINUTES (default: the setting's default)")
    parser.add_argument("--rewrite-growth-percent", type=int, default=None,
                        help="BRIEFBOT_REWRITE_GROWTH_PERCENT (default: the setting's default)")
    parser.add_argument("--naive-prompts", type=Path, metavar="DIR",
                        help="also price the naive baseline with the prompt files in DIR (a fixed yardstick)")
    parser.add_argument("--dump", type=Path, help="write every LLM request's messages to this file (JSON lines)")
    args = parser.parse_args()
    started, stream, clock = time.perf_counter(), Stream(args.seed), SimpleNamespace(now=DAY0)
    llm = ThreadingHTTPServer(("127.0.0.1", 0), FakeLLM)
    Thread(target=llm.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp, LocalServer() as server:
        single: dict[str, Any] = {"briefbot_llm_single_reports": True} if args.llm_single_reports else {}
        if args.rebrief_minutes is not None:
            single["briefbot_rebrief_minutes"] = args.rebrief_minutes
        if args.rewrite_growth_percent is not None:
            single["briefbot_rewrite_growth_percent"] = args.rewrite_growth_percent
        ctx = build_context(Settings(
            database_url=f"sqlite:///{tmp}/briefs.db", briefbot_allow_private_urls=True, openai_api_key="bench",
            openai_base_url=f"http://127.0.0.1:{llm.server_address[1]}/v1", briefbot_brief_model="bench-model",
            briefbot_llm_max_retries=0, briefbot_log_level="WARNING", _env_file=None, **single))
        logging.getLogger("bot").setLevel(logging.WARNING)
        ctx.clock = lambda: clock.now
        print(f"{platform.system()} {platform.machine()}, Python {platform.python_version()}, SQLite "
              f"{sqlite3.sqlite_version}; --days {args.days} --seed {args.seed} --rounds {args.rounds}, "
              f"re-brief interval {ctx.settings.briefbot_rebrief_minutes} minutes, rewrite growth "
              f"{ctx.settings.briefbot_rewrite_growth_percent}%")
        asyncio.run(replay(ctx, server, stream, clock, args.days, args.rounds))
        with session_scope(ctx.engine) as session:
            items, briefs = list(session.exec(select(Item))), list(session.exec(select(Brief).order_by(col(Brief.id))))
            stories, signals = list(session.exec(select(Story))), list(session.exec(select(Signal)))
            fresh = [i for i in items if not i.backfill]
            naive = [naive_call_tokens(ctx, i) for i in fresh]
            yardstick = load_all(args.naive_prompts) if args.naive_prompts else None
            naive_fixed = [naive_call_tokens(ctx, i, yardstick) for i in fresh] if yardstick else []
    llm.shutdown()
    if args.dump:
        args.dump.write_text("".join(json.dumps(r["messages"], ensure_ascii=False) + "\n" for r in FakeLLM.requests),
                             encoding="utf-8")
    calls, est = len(FakeLLM.requests), sum(tokens(r["messages"]) for r in FakeLLM.requests)
    versions = {("story", s.id): s.version for s in stories} | {("signal", s.id): s.version for s in signals}
    reasons, live = {s.id: s.reason for s in signals}, [s for s in stories if s.merged_into is None]
    signal_briefs = Counter(reasons[b.subject_id] for b in briefs if b.subject == "signal")
    by_subject: dict[tuple[str, int], list[Brief]] = defaultdict(list)
    for b in briefs:
        by_subject[b.subject, b.subject_id].append(b)
    rebriefs = [(a, b) for bs in by_subject.values() for a, b in pairwise(bs)]
    outlet_only = sum(1 for a, b in rebriefs if not needs_brief(briefed_items=a.item_count,
                      briefed_outlets=b.outlet_count, items=b.item_count, outlets=b.outlet_count))
    # A subject gains at most one version per analysis pass, and every pass judges it: so these were declined.
    declined = sum(versions[k] - bs[0].subject_version + 1 - len(bs) for k, bs in by_subject.items())
    usage, kinds = sum(b.prompt_tokens for b in briefs), Counter((i.kind, i.backfill) for i in items)
    print(f"\nentries published {stream.serial}; items stored {len(items)}: news {kinds['news', False]} + "
          f"{kinds['news', True]} backfill, jobs {kinds['job', False]} + {kinds['job', True]} backfill")
    print(f"stories {len(live)} ({sum(1 for s in live if len(s.outlets) > 1)} with 2+ outlets); signals by reason "
          f"{dict(Counter(reasons.values()))}, their briefs {dict(signal_briefs)}")
    print(f"briefs {len(briefs)} {dict(Counter(b.subject for b in briefs))} on {len(by_subject)} subjects, writers "
          f"{dict(Counter(b.writer for b in briefs))}, the built-in's notes "
          f"{dict(Counter((b.writer_note or '')[:30] for b in briefs if b.writer == 'builtin'))}; re-briefs "
          f"{len(rebriefs)} ({outlet_only} on a new outlet alone)"
          f" with {sum(b.prompt_tokens for _, b in rebriefs)} of {usage} usage prompt tokens")
    llm_after = [(a, b) for a, b in rebriefs if b.writer == "llm" and not briefing.carried(b.writer_note)]
    takeovers = [(a, b) for a, b in llm_after if a.writer == "builtin"]
    gaps = sorted((b.created_at - a.created_at).total_seconds() / 3600 for a, b in llm_after if a.writer == "llm")
    print(f"LLM briefs after an earlier brief: {len(takeovers)} after a single report's built-in brief, "
          f"{len(gaps)} after the LLM's own" + (f" (hours since it: min {gaps[0]:.1f}, median "
                                                 f"{gaps[len(gaps) // 2]:.1f}, max {gaps[-1]:.1f})" if gaps else "")
          + f"; sources updates under the LLM's text (no call) "
            f"{sum(1 for b in briefs if briefing.carried(b.writer_note))}")
    print(f"versions declined by the material-change rule {declined}; briefs reused by input hash "
          f"{sum(1 for b in briefs if (b.writer_note or '').startswith('reused'))}")
    print(f"LLM calls {calls}; prompt tokens: estimate {est} (messages), server usage {usage} (messages + schema); "
          f"completion tokens {sum(b.completion_tokens for b in briefs)}")
    busy = {n: k for n, k in sorted(PASS_CALLS.items()) if n}
    print(f"analysis passes {sum(PASS_CALLS.values())}, by LLM calls made (calls: passes) {busy}; one call per pass "
          f"for all its subjects would make {sum(busy.values())} calls")
    where_tokens(briefs, {id(b) for _, b in rebriefs})
    k = 1000 / max(1, len(fresh))
    print(f"\nper 1,000 new (non-backfill) stored items ({len(fresh)}); prompt tokens = chars/4 of the messages:")
    print(f"{'':<24}{'LLM calls':>10}{'prompt tokens':>15}{'tokens/call':>12}")
    for name, n, total in (("pipeline", calls, est), ("naive, 1 call per item", len(naive), sum(naive))):
        print(f"{name:<24}{n * k:>10.1f}{total * k:>15,.0f}{total / max(1, n):>12,.0f}")
    if naive_fixed:
        print(f"{'naive, prompts of DIR':<24}{len(naive_fixed) * k:>10.1f}{sum(naive_fixed) * k:>15,.0f}"
              f"{sum(naive_fixed) / max(1, len(naive_fixed)):>12,.0f}   (--naive-prompts {args.naive_prompts})")
        print(f"pipeline / naive with the prompts of DIR: prompt tokens {est / max(1, sum(naive_fixed)):.3f}")
    print(f"pipeline / naive: calls {calls / max(1, len(naive)):.3f}, prompt tokens {est / max(1, sum(naive)):.3f}; "
          f"run {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
