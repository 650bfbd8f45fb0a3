"""Story clustering benchmark on the UCI headlines, against their human story labels.
`.venv/bin/python -m bench.stories [--threshold 0.12] [--seed 7]`

Prints figures, asserts nothing. Feeds the headlines through `StoryClusterer` (title = headline, no text, outlet =
publisher) and scores the stories against the labels: B-cubed precision/recall/F1, pairwise F1, story count, items/s.
Orders: the whole file by TIMESTAMP, its first and second halves by time, and the whole file shuffled. The shuffle
matters because this file's timestamps are crawl times and each labelled story's headlines arrive in one burst of
seconds, one story after another; a clusterer fed in time order is helped by that, real feeds interleave.
Each row is paired with the trivial baseline (every item its own story) computed on the same items.
Then the two halves of a fixed-seed split of the story labels (`split_labels`): the knobs are chosen on "tune" and
"held" is reported as a figure they were not fitted to, in time and shuffled order. Then the made-up company news
of bench/company_news.py (a company's unrelated news the same day), headlines only and with a shared boilerplate
text: its B-cubed precision says whether a company's lease and its share price stay two stories.

Then a precision check against unrelated news: the ~2,300 distinct item titles of the real feeds in the shared
corpus (BBC, Guardian, TechCrunch, podcasts, blogs, German and Brazilian news; other years) are scattered at random
times over the same hours and fed with the headlines. Printed: the scores on the labelled headlines alone, and how
many distractors ended in a story made mostly of labelled headlines (distractors clustering among themselves, such
as a podcast's episodes, are not counted: they are not labelled).

The metric helpers are imported by tests/test_stories.py."""

from __future__ import annotations

import argparse
import csv
import random
import time
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import feedparser

from bench.company_news import company_news
from bot.core.stories import Assignment, StoryClusterer, StoryInput, StoryParams

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"
CORPUS = SHARED / "news" / "uci-news-aggregator-dev.csv"


def load_headlines(path: Path = CORPUS) -> tuple[list[StoryInput], list[str]]:
    """The labelled headlines in TIMESTAMP order (ties by ID), and their gold story labels."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: (int(r["TIMESTAMP"]), int(r["ID"])))
    items = [
        StoryInput(
            item_id=int(r["ID"]), title=r["TITLE"], text="", outlet=r["PUBLISHER"],
            published_at=datetime.fromtimestamp(int(r["TIMESTAMP"]) / 1000, UTC),
        )
        for r in rows
    ]
    return items, [r["STORY"] for r in rows]


def split_labels(gold: Sequence[str], seed: int = 2026) -> dict[str, list[int]]:
    """Item positions of two halves of the story labels, drawn with a fixed seed: "tune" (every other label of a
    seeded shuffle) and "held"."""
    labels = sorted(set(gold))
    random.Random(seed).shuffle(labels)
    tune = set(labels[::2])
    return {"tune": [i for i, g in enumerate(gold) if g in tune],
            "held": [i for i, g in enumerate(gold) if g not in tune]}


def bcubed(predicted: Sequence[Hashable], gold: Sequence[Hashable]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1: per item, the share of its predicted cluster that shares its gold label
    (precision) and the share of its gold cluster that shares its predicted cluster (recall), averaged over items."""
    if len(predicted) != len(gold) or not gold:
        raise ValueError("need as many predicted labels as gold labels, and at least one")
    by_pred, by_gold = Counter(predicted), Counter(gold)
    both = Counter(zip(predicted, gold, strict=True))
    precision = sum(both[pg] / by_pred[pg[0]] for pg in zip(predicted, gold, strict=True)) / len(gold)
    recall = sum(both[pg] / by_gold[pg[1]] for pg in zip(predicted, gold, strict=True)) / len(gold)
    return precision, recall, _f1(precision, recall)


def pairwise(predicted: Sequence[Hashable], gold: Sequence[Hashable]) -> tuple[float, float, float]:
    """Precision, recall and F1 over the pairs of items put together (predicted) and belonging together (gold)."""
    if len(predicted) != len(gold):
        raise ValueError("need as many predicted labels as gold labels")

    def pairs(counts: Counter[Hashable]) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    together = pairs(Counter(zip(predicted, gold, strict=True)))
    pred_pairs, gold_pairs = pairs(Counter(predicted)), pairs(Counter(gold))
    precision = together / pred_pairs if pred_pairs else 1.0
    recall = together / gold_pairs if gold_pairs else 1.0
    return precision, recall, _f1(precision, recall)


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def cluster(items: Sequence[StoryInput], params: StoryParams) -> tuple[list[int], float]:
    """Final story ids in item order (after any merges), and the seconds spent assigning."""
    clusterer = StoryClusterer(params)
    started = time.perf_counter()
    assignments = [clusterer.assign(item) for item in items]
    seconds = time.perf_counter() - started
    return final_stories(assignments), seconds


def final_stories(assignments: Iterable[Assignment]) -> list[int]:
    """Each item's story once later merges are followed, as a caller that re-points merged items sees it."""
    into: dict[int, int] = {}
    ids = []
    for assignment in assignments:
        ids.append(assignment.story_id)
        into.update((sid, assignment.story_id) for sid in assignment.merged)

    def final(sid: int) -> int:
        while sid in into:
            sid = into[sid]
        return sid

    return [final(sid) for sid in ids]


def feed_titles(root: Path = SHARED / "feeds") -> list[str]:
    """Distinct entry titles of every feed file under `root` that feedparser reads."""
    titles: set[str] = set()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in {".xml", ".rss", ".atom", ".json"}):
        parsed = feedparser.parse(path.read_bytes())
        titles.update(" ".join(str(e.get("title", "")).split()) for e in parsed.entries)
    titles.discard("")
    return sorted(titles)


def with_distractors(
    items: Sequence[StoryInput], gold: Sequence[str], params: StoryParams, titles: Sequence[str], seed: int
) -> None:
    rng = random.Random(seed)
    start, span = items[0].published_at, items[-1].published_at - items[0].published_at
    extra = [StoryInput(-i, t, "", "feeds", start + span * rng.random()) for i, t in enumerate(titles, start=1)]
    stream = sorted([*items, *extra], key=lambda item: (item.published_at, item.item_id))
    for label, variant in (("params above", params), ("min_shared_terms=1", replace(params, min_shared_terms=1))):
        ids, seconds = cluster(stream, variant)
        labelled = {item.item_id: sid for item, sid in zip(stream, ids, strict=True) if item.item_id > 0}
        p, r, f = bcubed([labelled[item.item_id] for item in items], gold)
        sizes, labelled_sizes = Counter(ids), Counter(labelled.values())
        absorbed = sum(1 for item, sid in zip(stream, ids, strict=True)
                       if item.item_id < 0 and 2 * labelled_sizes[sid] > sizes[sid])
        print(f"{label:<20} labelled B3 P {p:.3f} R {r:.3f} F1 {f:.3f}; "
              f"distractors in mostly-labelled stories {absorbed}/{len(extra)}; {len(stream) / seconds:.0f} items/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=None, help="override StoryParams.threshold")
    parser.add_argument("--seed", type=int, default=7, help="seed of the shuffled order")
    args = parser.parse_args()
    if not CORPUS.exists():
        raise SystemExit(f"the shared corpus is not beside this checkout ({CORPUS} missing)")
    params = StoryParams() if args.threshold is None else replace(StoryParams(), threshold=args.threshold)
    items, gold = load_headlines()
    half = len(items) // 2
    shuffled = list(range(len(items)))
    random.Random(args.seed).shuffle(shuffled)
    orders = {
        "time, full": list(range(len(items))),
        "time, first half": list(range(half)),
        "time, second half": list(range(half, len(items))),
        f"shuffled (seed {args.seed})": shuffled,
    }
    for part, positions in split_labels(gold).items():
        mixed = positions[:]
        random.Random(args.seed).shuffle(mixed)
        orders[f"{part}, time"], orders[f"{part}, shuffled"] = positions, mixed
    print(f"{len(items)} headlines, {len(set(gold))} labelled stories; {params}")
    print(f"{'order':<22} {'method':<10} {'B3 P':>6} {'B3 R':>6} {'B3 F1':>6} {'pair F1':>8} {'stories':>8} "
          f"{'gold':>5} {'items/s':>9}")
    for name, order in orders.items():
        subset, labels = [items[i] for i in order], [gold[i] for i in order]
        predicted, seconds = cluster(subset, params)
        alone: list[int] = [item.item_id for item in subset]
        for method, ids, rate in (("clusterer", predicted, f"{len(subset) / seconds:9.0f}"), ("alone", alone, "")):
            p, r, f = bcubed(ids, labels)
            pair_f1 = pairwise(ids, labels)[2]
            print(f"{name:<22} {method:<10} {p:6.3f} {r:6.3f} {f:6.3f} {pair_f1:8.3f} {len(set(ids)):8d} "
                  f"{len(set(labels)):5d} {rate:>9}")
    for with_text in (False, True):
        news, events = company_news(with_text=with_text)
        ids, _ = cluster(news, params)
        p, r, f = bcubed(ids, events)
        print(f"company news{' with text' if with_text else ''}: B3 P {p:.3f} R {r:.3f} F1 {f:.3f}, "
              f"{len(set(ids))} stories for {len(set(events))} events")
    titles = feed_titles()
    print(f"\nWith {len(titles)} unrelated feed titles interleaved (time order, seed {args.seed}):")
    with_distractors(items, gold, params, titles, args.seed)


if __name__ == "__main__":
    main()
