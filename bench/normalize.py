"""Per-entry cost of reading a feed after feedparser: bench/ingest.py's feeds parsed as `sources/feed.parse` does
(feedparser, then the entries read out of its dicts) and normalised by `sources/item.normalise_entry`; no database,
no network.
`.venv/bin/python bench/normalize.py [--feeds 100] [--items 50] [--rounds 3] [--before DIR]`

With --before DIR (a tree holding another `bot/`, e.g. `git archive REV bot | tar -x -C DIR`), the two trees are
measured alternately in child processes, round by round, so both see the same load. Prints figures (µs of
process CPU per entry; the best of each tree's rounds), asserts nothing."""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(n_feeds: int, n_items: int) -> dict[str, float]:
    """µs of CPU per entry for each stage, in this process (its `bot` is whichever PYTHONPATH names)."""
    import feedparser
    from ingest import build_feeds, vocabulary

    from bot.sources import feed
    from bot.sources.base import Document, read_entries
    from bot.sources.item import normalise_entry

    bodies = build_feeds(n_feeds, n_items, vocabulary())
    docs = [
        Document(url=f"http://127.0.0.1/feed/{i}.xml", body=b, content_type="application/rss+xml; charset=utf-8")
        for i, b in enumerate(bodies)
    ]
    now = datetime(2026, 12, 6, tzinfo=UTC)
    c0 = time.process_time()
    entries = sum(len(feedparser.parse(b).entries) for b in bodies)
    reference = time.process_time() - c0
    c0 = time.process_time()
    raw = [feed.parse_feed_bytes(d) for d in docs]
    fp_ours = time.process_time() - c0
    c0 = time.process_time()
    parsed = [
        read_entries(list(r.entries), functools.partial(feed.entry_from, base_url=d.url))[0]
        for d, r in zip(docs, raw, strict=True)
    ]
    read_out = time.process_time() - c0
    c0 = time.process_time()
    for d, r, p in zip(docs, raw, parsed, strict=True):
        title = str(r.feed.get("title") or "")
        for e in p:
            normalise_entry(e, kind="news", default_outlet=title, max_chars=4000, now=now, source_url=d.url)
    norm = time.process_time() - c0
    per = 1e6 / entries
    return {
        "reference": reference * per,
        "feedparser_ours": fp_ours * per,
        "read_out": read_out * per,
        "normalise": norm * per,
        "ours": (fp_ours + read_out + norm) * per,
    }


def child(tree: Path, args: argparse.Namespace) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=f"{tree}{os.pathsep}{ROOT / 'bench'}")
    cmd = [sys.executable, __file__, "--child", "--feeds", str(args.feeds), "--items", str(args.items)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=600).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=100)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--before", type=Path)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.feeds, args.items)))
        return
    trees = {"after": ROOT} if args.before is None else {"before": args.before, "after": ROOT}
    print(
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}; "
        f"{args.feeds} feeds x {args.items} items; µs of CPU per entry, best of {args.rounds} rounds"
    )
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            runs[name].append(child(tree, args))
    stages = ["reference", "feedparser_ours", "read_out", "normalise", "ours"]
    print("stage".ljust(18) + "".join(name.rjust(10) for name in trees) + "  (each round)")
    for stage in stages:
        best = "".join(f"{min(r[stage] for r in runs[name]):10.0f}" for name in trees)
        each = "; ".join(" ".join(f"{r[stage]:.0f}" for r in runs[name]) for name in trees)
        print(stage.ljust(18) + best + f"  ({each})")
    for name in trees:
        ratio = min(r["reference"] for r in runs[name]) / min(r["ours"] for r in runs[name])
        print(f"{name}: reference ÷ (parse + normalise) = {ratio:.2f}")


if __name__ == "__main__":
    main()
