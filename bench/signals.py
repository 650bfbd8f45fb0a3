"""Hiring-signal quality benchmark: real postings replayed board by board over months, with planted surges.
`.venv/bin/python bench/signals.py [--rule both|first-seen|posted] [--seed 1] [--start 2024-06-01] [--share 0.2]`

Prints figures, asserts nothing; no database, no network: the pure core is driven the way the worker drives it.
- **Boards.** Every company in the Simplify listings (`../shared/corpus/jobs/`, 1,288 real postings from 585
  companies, July 2023 to October 2024) is its own board. A posting is on its board from its `date_posted`; the
  file has no closing dates, so nothing closes. Each board is polled daily at 00:00 UTC from `--start`, whose
  poll is the board's first (its backfill: every posting dated before it). A posting is first seen by the first
  poll at or after its date. Postings become `Posting`s as `storage/signals.company_postings` builds them: the
  function from the title (`job_function`), the metros from the locations (each a `PlaceHint` read by
  `sources/item.places_from`, then `metros_of`), `backfill` for the first poll, `posted_at` the board's date.
- **Analysis.** After every poll, as `analysis/signal_update` does: quiet signals close (newest posting a
  window old), then every company with non-backfill postings first seen in the last window is read by
  `detect_signals` with `SignalParams` from the settings' defaults. A finding whose (company, family, metro)
  has no open signal opens one (counted once); otherwise it grows the open one.
- **Plants** (seeded). For `--share` of the companies, k (5 to 15) extra postings of one function family in one
  metro, dated over 0 to 3 days at a random time of the replay (at least a window before its end). Half the
  companies that already hire by then get a surge in their commonest (family, metro) so far ("grow"); the others
  get the company's commonest family in a metro it never names ("new"). Titles are real titles of that family
  from the file, locations real location strings of that metro.
- **Scores.** A plant is found when a finding first holds one of its postings (the alert: a signal opened or
  grown); recall = found / planted. A signal is true when it holds a planted posting, else a false alert;
  precision = true / opened. False alerts are also given per 1,000 real postings replayed (after the backfill).
  Days to alert run from the plant's first posting date to the poll that found it.
- **Rules.** `posted`: the board's dates, as the code now reads them. `first-seen`: every `posted_at` is None,
  so a posting's time is when it was first seen (the code before boards' dates were read). The default runs both.
- **Pullbacks.** `--pullback-share` of the companies with 4+ roles in one family get half of them closed within a
  week. The core has no posting lifecycle yet (a `Posting` carries no closing date, and no finding is a
  "pullback"), so the board's closing is not seen by the core and the recall prints "not implemented yet"; it
  appears once findings with reason "pullback" exist (and `seen_posting` passes the closing on).
- **First look.** After the first poll: per board, open roles grouped by family and metro (one line a group), as
  a first look on follow would list them. The message itself is not built yet; this is its size."""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import code_version, pct

from bot.core.jobs import family_labels, family_of, job_function, metros_of
from bot.core.signals import Posting, SignalFinding, SignalParams, detect_signals, posting_time
from bot.settings import Settings
from bot.sources.base import PlaceHint
from bot.sources.item import places_from

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"
CORPUS = SHARED / "jobs" / "simplify-new-grad-listings-2024-10-25.json"
DAY = timedelta(days=1)
PLANT_IDS = 1_000_000  # planted postings' item ids start here; real ones are 1..N
PULLBACK_REASON = "pullback"  # the reason a pullback finding will carry
NO_PLACE = "(no place)"


@dataclass(frozen=True, slots=True)
class Listing:
    """One posting on a company's board: real (from the file) or planted."""

    item_id: int
    company: str
    title: str
    locations: tuple[str, ...]
    posted: datetime
    function: str
    metros: tuple[str, ...]


@dataclass(slots=True)
class Plant:
    company: str
    kind: str  # grow | new
    family: str
    metro: str
    item_ids: tuple[int, ...]
    first: datetime  # the first planted posting's date
    found_at: datetime | None = None
    found_by: str = ""  # "opened" a signal, or "grew" one already open


@dataclass(frozen=True, slots=True)
class Pullback:
    company: str
    family: str
    closes: tuple[tuple[int, datetime], ...]  # item id, when the board drops it


@dataclass(slots=True)
class Episode:
    """One signal from when it opens until it closes."""

    key: tuple[str, str, str]
    reason: str
    opened_at: datetime
    last_at: datetime
    item_ids: set[int] = field(default_factory=set)


def listing(item_id: int, company: str, title: str, locations: Sequence[str], posted: datetime) -> Listing:
    places = places_from([PlaceHint(text=loc) for loc in locations])
    return Listing(item_id, company, title, tuple(locations), posted, job_function(title, None),
                   tuple(metros_of([p.as_dict() for p in places])))


def load_corpus(path: Path = CORPUS) -> list[Listing]:
    rows = json.loads(path.read_text("utf-8"))
    rows.sort(key=lambda r: (r["date_posted"], r["id"]))
    return [listing(n, r["company_name"], r["title"], r["locations"], datetime.fromtimestamp(r["date_posted"], UTC))
            for n, r in enumerate(rows, 1)]


def plant_surges(real: list[Listing], *, rng: random.Random, share: float, start: datetime, last_start: datetime,
                 k_range: tuple[int, int]) -> tuple[list[Plant], list[Listing]]:
    """Surges for a random `share` of the companies, and their postings."""
    by_company: dict[str, list[Listing]] = defaultdict(list)
    for item in real:
        by_company[item.company].append(item)
    titles: dict[str, list[str]] = defaultdict(list)  # family -> real titles of it
    places: dict[str, Counter[str]] = defaultdict(Counter)  # metro -> its real location strings
    metro_weight: Counter[str] = Counter()
    for item in real:
        titles[family_of(item.function)].append(item.title)
        for loc in item.locations:
            for metro in listing(0, "", "", [loc], item.posted).metros:
                places[metro][loc] += 1
                if not metro.startswith("Remote"):
                    metro_weight[metro] += 1
    companies = sorted(by_company)
    chosen = sorted(rng.sample(companies, round(share * len(companies))))
    plants: list[Plant] = []
    planted: list[Listing] = []
    next_id = PLANT_IDS
    span = (last_start - start).total_seconds()
    for company in chosen:
        first = start + timedelta(seconds=rng.uniform(0, span))
        own = by_company[company]
        before = Counter((family_of(i.function), m) for i in own if i.posted < first for m in i.metros)
        families = Counter(family_of(i.function) for i in own)
        if before and rng.random() < 0.5:
            kind, (family, metro) = "grow", min(before.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        else:
            kind = "new"
            family = min(families.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            used = {m for i in own for m in i.metros}
            candidates = sorted(m for m in metro_weight if m not in used)
            metro = rng.choices(candidates, weights=[metro_weight[m] for m in candidates])[0]
        location = min(places[metro].items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if kind == "grow":  # the company's own spelling of the place
            location = next(loc for i in own for loc in i.locations if metro in listing(0, "", "", [loc], first).metros)
        spread = timedelta(days=rng.randint(0, 3)).total_seconds()
        items = []
        for _ in range(rng.randint(*k_range)):
            posted = first + timedelta(seconds=rng.uniform(0, spread))
            items.append(listing(next_id, company, rng.choice(titles[family]), [location], posted))
            next_id += 1
        assert all(family_of(i.function) == family and metro in i.metros for i in items), (company, family, metro)
        first_posted = min(i.posted for i in items)
        plants.append(Plant(company, kind, family, metro, tuple(i.item_id for i in items), first_posted))
        planted.extend(items)
    return plants, planted


def plant_pullbacks(real: list[Listing], *, rng: random.Random, share: float, start: datetime,
                    last_start: datetime) -> list[Pullback]:
    """For a random `share` of the companies with 4+ roles in one family by some day, half of them closed within
    a week of it. Kept so the recall appears once the core reads closings."""
    by_company: dict[str, list[Listing]] = defaultdict(list)
    for item in real:
        by_company[item.company].append(item)
    pullbacks = []
    span = (last_start - start).total_seconds()
    for company in sorted(by_company):
        if rng.random() >= share:
            continue
        day = start + timedelta(seconds=rng.uniform(DAY.total_seconds(), span))
        open_by_family: dict[str, list[int]] = defaultdict(list)
        for item in by_company[company]:
            if item.posted < day:
                open_by_family[family_of(item.function)].append(item.item_id)
        families = sorted(f for f, ids in open_by_family.items() if len(ids) >= 4)
        if not families:
            continue
        family = rng.choice(families)
        ids = rng.sample(open_by_family[family], (len(open_by_family[family]) + 1) // 2)
        closes = tuple((i, day + timedelta(seconds=rng.uniform(0, 7 * DAY.total_seconds()))) for i in sorted(ids))
        pullbacks.append(Pullback(company, family, closes))
    return pullbacks


def seen_posting(item: Listing, *, seen: datetime, backfill: bool, rule: str) -> Posting:
    """As `storage/signals.company_postings` builds it from the stored item."""
    return Posting(item_id=item.item_id, company=item.company, title=item.title, function=item.function,
                   metros=item.metros, first_seen_at=seen, backfill=backfill,
                   posted_at=item.posted if rule == "posted" else None)


@dataclass(slots=True)
class Replay:
    episodes: list[Episode]
    plants: list[Plant]
    pullback_findings: list[SignalFinding]
    replayed: int  # real postings first seen after the backfill
    seconds: float


def replay(listings: list[Listing], plants: list[Plant], *, rule: str, params: SignalParams, start: datetime,
           end: datetime) -> Replay:
    """Daily polls of every board from `start` to `end`, each followed by the signal update."""
    began = time.perf_counter()
    plants = [replace(p) for p in plants]
    plant_of = {i: p for p in plants for i in p.item_ids}
    arrivals: dict[int, list[Listing]] = defaultdict(list)  # poll number -> postings it first sees
    for item in listings:
        arrivals[max(0, -((start - item.posted) // DAY))].append(item)  # the first poll at or after its date
    known: dict[str, list[Posting]] = defaultdict(list)
    last_new: dict[str, datetime] = {}  # company -> when its newest non-backfill posting was first seen
    open_: dict[tuple[str, str, str], Episode] = {}
    episodes: list[Episode] = []
    pullback_findings: list[SignalFinding] = []
    replayed = 0
    for poll in range((end - start) // DAY + 1):
        now = start + poll * DAY
        for item in arrivals.get(poll, []):
            known[item.company].append(seen_posting(item, seen=now, backfill=poll == 0, rule=rule))
            if poll:
                last_new[item.company] = now
                replayed += item.item_id < PLANT_IDS
        for key in [k for k, e in open_.items() if e.last_at < now - params.window]:  # close_quiet_signals
            del open_[key]
        hiring = sorted(c for c, t in last_new.items() if t >= now - params.window)  # companies_hiring_since
        for company in hiring:
            postings = known[company]
            when = {p.item_id: posting_time(p) for p in postings}
            for finding in detect_signals(postings, now=now, params=params):
                if finding.reason == PULLBACK_REASON:
                    pullback_findings.append(finding)
                    continue
                last_at = max(when[i] for i in finding.item_ids)
                episode = open_.get(finding.key)
                opened = episode is None
                if episode is None:
                    episode = open_[finding.key] = Episode(finding.key, finding.reason, now, last_at)
                    episodes.append(episode)
                grown = set(finding.item_ids) - episode.item_ids
                episode.item_ids |= grown
                episode.last_at = max(episode.last_at, last_at)
                for item_id in grown:
                    plant = plant_of.get(item_id)
                    if plant is not None and plant.found_at is None:
                        plant.found_at, plant.found_by = now, "opened" if opened else "grew"
    return Replay(episodes, plants, pullback_findings, replayed, time.perf_counter() - began)


@dataclass(frozen=True, slots=True)
class Scores:
    recall: str
    recall_grow: str
    recall_new: str
    found_by_growing: str
    signals: str
    precision: str
    false_alerts: str
    false_per_1000: str
    false_by_reason: str
    days_to_alert: str
    pullback_recall: str
    seconds: str


def score(run: Replay, pullbacks: list[Pullback]) -> Scores:
    planted_ids = {i for p in run.plants for i in p.item_ids}
    true = [e for e in run.episodes if e.item_ids & planted_ids]
    false = [e for e in run.episodes if not e.item_ids & planted_ids]
    found = [p for p in run.plants if p.found_at is not None]

    def share(part: int, whole: int) -> str:
        return f"{part} / {whole} = {part / whole:.2f}" if whole else "no plants"

    def recall_of(kind: str) -> str:
        of_kind = [p for p in run.plants if p.kind == kind]
        return share(sum(p.found_at is not None for p in of_kind), len(of_kind))

    days = [((p.found_at or p.first) - p.first) / DAY for p in found]
    reasons = Counter(e.reason for e in false)
    return Scores(
        recall=share(len(found), len(run.plants)),
        recall_grow=recall_of("grow"), recall_new=recall_of("new"),
        found_by_growing=str(sum(p.found_by == "grew" for p in found)),
        signals=str(len(run.episodes)),
        precision=share(len(true), len(run.episodes)),
        false_alerts=str(len(false)),
        false_per_1000=f"{1000 * len(false) / run.replayed:.1f}" if run.replayed else "-",
        false_by_reason=", ".join(f"{r} {n}" for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
        or "none",
        days_to_alert=(f"{statistics.median(days):.1f} (p90 {pct(days, 90):.1f}, max {max(days):.1f})"
                       if days else "-"),
        pullback_recall=pullback_recall(run, pullbacks),
        seconds=f"{run.seconds:.1f} s",
    )


def pullback_recall(run: Replay, pullbacks: list[Pullback]) -> str:
    if not run.pullback_findings:
        return f"not implemented yet ({len(pullbacks)} planted; the core has no pullback signal)"
    found = sum(any(f.company == p.company and f.family == p.family for f in run.pullback_findings)
                for p in pullbacks)
    return f"{found} / {len(pullbacks)}" if pullbacks else "no plants"


def list_outcomes(rule: str, run: Replay) -> None:
    """The false alerts and the missed plants, to read the figures by."""
    planted_ids = {i for p in run.plants for i in p.item_ids}
    print(f"\n{rule}: false alerts (signal opened, company, family, metro, reason, postings)")
    for e in run.episodes:
        if not e.item_ids & planted_ids:
            company, family, metro = e.key
            print(f"  {e.opened_at:%Y-%m-%d}  {company}, {family}, {metro}: {e.reason}, {len(e.item_ids)}")
    print(f"{rule}: plants missed or found late (first planted date, company, kind, family, metro, postings)")
    for p in run.plants:
        if p.found_at is None or p.found_at - p.first > 3 * DAY:
            late = f"found after {(p.found_at - p.first) / DAY:.1f} days" if p.found_at else "missed"
            print(f"  {p.first:%Y-%m-%d}  {p.company}, {p.kind}, {p.family}, {p.metro}, {len(p.item_ids)}: {late}")


def first_look(listings: list[Listing], start: datetime) -> None:
    """What each board's first poll shows: open roles by family and metro, one line a group."""
    boards: dict[str, dict[tuple[str, str], int]] = defaultdict(Counter)
    roles: Counter[str] = Counter()
    for item in listings:
        if item.posted <= start:
            roles[item.company] += 1
            for metro in item.metros or (NO_PLACE,):
                boards[item.company][(family_of(item.function), metro)] += 1
    companies = {i.company for i in listings}
    lines = [float(len(boards[c])) for c in boards]
    counts = [float(roles[c]) for c in boards]
    print(f"\nFirst look after the first poll ({start:%Y-%m-%d}); the message is not built yet: its size")
    print(f"  boards followed: {len(companies)}; with open roles: {len(boards)}; roles shown: {sum(counts):g}")
    if not boards:
        return
    print(f"  lines (family x metro groups), all boards: {sum(lines):g}")
    print(f"  lines per first look: median {statistics.median(lines):g}, p90 {pct(lines, 90):g}, max {max(lines):g}")
    print(f"  roles per first look: median {statistics.median(counts):g}, p90 {pct(counts, 90):g}, max {max(counts):g}")
    by_family = sum(len({f for f, _ in boards[c]}) for c in boards)
    print(f"  lines if grouped by family only (metros named inline): {by_family}")
    print(f"  one-line first looks: {sum(n == 1 for n in lines)}; over 10 lines: {sum(n > 10 for n in lines)}")
    biggest = max(boards, key=lambda c: (len(boards[c]), roles[c], c))
    labels = family_labels()
    print(f"  the longest, {biggest} ({roles[biggest]} roles, {len(boards[biggest])} lines):")
    for (family, metro), n in sorted(boards[biggest].items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"    {n:>3}  {labels.get(family, family)}, {metro}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rule", choices=["both", "first-seen", "posted"], default="both",
                    help="first-seen: every posted_at None (before boards' dates were read); posted: as now")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", default="2024-06-01", help="the first poll of every board (its backfill), UTC date")
    ap.add_argument("--share", type=float, default=0.2, help="share of companies given a planted surge")
    ap.add_argument("--k", type=int, nargs=2, default=(5, 15), metavar=("MIN", "MAX"), help="postings per surge")
    ap.add_argument("--pullback-share", type=float, default=0.1)
    ap.add_argument("--list", action="store_true", help="list the false alerts and the plants missed or found late")
    args = ap.parse_args()
    began = time.perf_counter()
    params = Settings(_env_file=None).signal_params()  # the defaults, not .env
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; code {code_version()}; seed {args.seed}")
    print(f"params: window {params.window.days} days, min_novel {params.min_novel}, min_surge {params.min_surge}, "
          f"surge_ratio {params.surge_ratio:g}, baseline_windows {params.baseline_windows}")
    real = load_corpus()
    start = datetime.fromisoformat(args.start).replace(tzinfo=UTC)
    end = (max(i.posted for i in real) + DAY).replace(hour=0, minute=0, second=0, microsecond=0)
    last_start = end - params.window  # a plant starts at least a window before the last poll
    plants, planted = plant_surges(real, rng=random.Random(f"{args.seed}-surges"), share=args.share, start=start,
                                   last_start=last_start, k_range=(args.k[0], args.k[1]))
    pullbacks = plant_pullbacks(real, rng=random.Random(f"{args.seed}-pullbacks"), share=args.pullback_share,
                                start=start, last_start=last_start)
    companies = {i.company for i in real}
    backfill = sum(i.posted <= start for i in real)
    print(f"corpus: {len(real)} postings, {len(companies)} companies (boards), dated "
          f"{min(i.posted for i in real):%Y-%m-%d} to {max(i.posted for i in real):%Y-%m-%d}")
    print(f"replay: first poll {start:%Y-%m-%d} (backfill {backfill} postings), daily polls to {end:%Y-%m-%d} "
          f"({(end - start) // DAY} days), {len(real) - backfill} real postings after the backfill")
    kinds = Counter(p.kind for p in plants)
    print(f"plants: {len(plants)} surges ({kinds['grow']} grow, {kinds['new']} new) of "
          f"{args.k[0]}-{args.k[1]} postings, {len(planted)} postings; {len(pullbacks)} pullbacks "
          f"({sum(len(p.closes) for p in pullbacks)} closings)")
    rules = ["first-seen", "posted"] if args.rule == "both" else [args.rule]
    runs = {rule: replay(real + planted, plants, rule=rule, params=params, start=start, end=end) for rule in rules}
    results = {rule: score(run, pullbacks) for rule, run in runs.items()}
    rows = [
        ("surge recall (plants found)", "recall"),
        ("  grow: in the company's commonest family and metro", "recall_grow"),
        ("  new: its commonest family in a new metro", "recall_new"),
        ("  found by growing a signal already open", "found_by_growing"),
        ("signals opened", "signals"), ("precision (signals holding a plant)", "precision"),
        ("false alerts (signals holding no plant)", "false_alerts"),
        ("false alerts per 1,000 real postings replayed", "false_per_1000"),
        ("false alerts by reason", "false_by_reason"),
        ("days from plant to alert: median", "days_to_alert"), ("pullback recall", "pullback_recall"),
        ("replay time", "seconds"),
    ]
    names = {"first-seen": "first-seen only (before)", "posted": "board dates (now)"}
    print()
    print("| figure | " + " | ".join(names[r] for r in rules) + " |")
    print("|---|" + "---|" * len(rules))
    for label, attr in rows:
        print(f"| {label} | " + " | ".join(getattr(results[r], attr) for r in rules) + " |")
    if args.list:
        for rule, run in runs.items():
            list_outcomes(rule, run)
    first_look(real, start)
    print(f"\ntotal {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
