"""Alerts per labelled story on bench/briefs.py's stream: how many story alerts one UCI-labelled story costs a
channel that follows every outlet. `.venv/bin/python -m bench.story_alerts [--days 7] [--seed 1] [--rounds 24]`

The same replay as bench/briefs.py (its stream, fake LLM, pipeline and clock), with the worker's routing after each
analysis pass (the bench channel follows every outlet; a feed's follow alerts on every story). Then it reads the
outbox: each story alert (a `deliveries` row of kind `alert` about a story; a story merged since counts as the one
it joined) is counted against the label most of its story's labelled items carry (items are matched to labels by
headline; singletons carry none). Prints stories, story alerts and story briefs per label. Asserts nothing."""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import tempfile
import time
from collections import Counter, defaultdict
from http.server import ThreadingHTTPServer
from threading import Thread
from types import SimpleNamespace
from typing import Any

from sqlmodel import col, select

from bench.briefs import DAY0, UCI, FakeLLM, Stream, replay
from bot.context import build_context
from bot.demo.server import LocalServer
from bot.settings import Settings
from bot.storage.db import session_scope
from bot.storage.models import Brief, Delivery, Item, Story
from bot.worker.outbox import route_and_schedule


class Routed:
    """The context as replay() uses it, with the worker's routing after each analysis pass."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ctx, name)

    def analyse(self, **kwargs: Any) -> Any:
        report = self.ctx.analyse(**kwargs)
        route_and_schedule(self.ctx)
        return report


def labels_by_title() -> dict[str, str]:
    """Headline → UCI story label (a headline under two labels keeps neither)."""
    seen: dict[str, set[str]] = defaultdict(set)
    with UCI.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            seen[" ".join(row["TITLE"].split())].add(row["STORY"])
    return {title: next(iter(labels)) for title, labels in seen.items() if len(labels) == 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=24, help="polls a day, each followed by analysis (<= 96)")
    args = parser.parse_args()
    if not UCI.exists():
        raise SystemExit(f"the shared corpus is not beside this checkout ({UCI} missing)")
    started, stream, clock = time.perf_counter(), Stream(args.seed), SimpleNamespace(now=DAY0)
    llm = ThreadingHTTPServer(("127.0.0.1", 0), FakeLLM)
    Thread(target=llm.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp, LocalServer() as server:
        ctx = build_context(Settings(
            database_url=f"sqlite:///{tmp}/alerts.db", briefbot_allow_private_urls=True, openai_api_key="bench",
            openai_base_url=f"http://127.0.0.1:{llm.server_address[1]}/v1", briefbot_brief_model="bench-model",
            briefbot_llm_max_retries=0, briefbot_log_level="WARNING", _env_file=None))  # type: ignore[call-arg]
        logging.getLogger("bot").setLevel(logging.WARNING)
        ctx.clock = lambda: clock.now
        routed = Routed(ctx)
        asyncio.run(replay(routed, server, stream, clock, args.days, args.rounds))
        with session_scope(ctx.engine) as session:
            items = [i for i in session.exec(select(Item).where(Item.kind == "news")) if i.story_id is not None]
            alerts = list(session.exec(select(Delivery).where(Delivery.kind == "alert", Delivery.subject == "story")
                                       .order_by(col(Delivery.id))))
            briefs = list(session.exec(select(Brief).where(Brief.subject == "story")))
            merged_into = {s.id: s.merged_into for s in session.exec(select(Story)) if s.merged_into is not None}
    llm.shutdown()
    label_of = labels_by_title()
    members: dict[int, Counter[str]] = defaultdict(Counter)
    for item in items:
        if (label := label_of.get(" ".join(item.title.split()))) is not None and not item.backfill:
            members[item.story_id or 0][label] += 1
    story_label = {sid: counts.most_common(1)[0][0] for sid, counts in members.items()}

    def final(sid: int | None) -> int:
        while sid in merged_into:
            sid = merged_into[sid]
        return sid or 0

    labels = {label for counts in members.values() for label in counts}
    stories_per_label = Counter(story_label.values())
    alerted = Counter(story_label[final(a.subject_id)] for a in alerts if final(a.subject_id) in story_label)
    briefed = Counter(story_label[final(b.subject_id)] for b in briefs if final(b.subject_id) in story_label)
    channels = {a.channel_id for a in alerts}
    n = max(1, len(labels))
    print(f"\n{len(labels)} labelled stories in the stream (new items only), {len(channels)} channel(s); "
          f"run {time.perf_counter() - started:.1f} s")
    print(f"stories per label {sum(stories_per_label.values()) / n:.2f}; story alerts per label "
          f"{sum(alerted.values()) / n:.2f}; story briefs per label {sum(briefed.values()) / n:.2f}")
    print("most split:", ", ".join(f"{label[:8]} {k}" for label, k in stories_per_label.most_common(5)))


if __name__ == "__main__":
    main()
