"""Hiring-signal quality benchmark: real postings replayed board by board over months, with planted surges, and,
when roles close, planted pullbacks and reposts.
`.venv/bin/python bench/signals.py [--rule both|first-seen|posted] [--closing both|none|file] [--seed 1]
[--start 2024-06-01] [--share 0.2] [--pullback-share 0.5] [--repost-share 0.1] [--list]
[--pullback-min-open 4] [--pullback-closed-share 0.5]`

Prints figures, asserts nothing; no database, no network: the pure core is driven the way the poller and the
worker drive it.
- **Boards.** Every company in the Simplify listings (`../shared/corpus/jobs/`, 1,288 real postings from 585
  companies, July 2023 to October 2024) is its own board. A posting is on its board from its `date_posted`. Each
  board is polled daily at 00:00 UTC from `--start`, whose poll is the board's first (its backfill). A posting is
  first seen by the first poll at or after its date. Postings become `Posting`s as `storage/signals.
  company_postings` builds them: the function from the title (`job_function`), the metros from the locations
  (each a `PlaceHint` read by `sources/item.places_from`, then `metros_of`), `backfill` for the first poll,
  `posted_at` the board's date, `repost` when `mark_reposts` would mark it.
- **Closing** (`--closing`). `none`: nothing ever closes (the bench before posting lifecycles; its figures are
  the old ones). `file`: postings close when the file says (`bench/signal_world`: an inactive posting closes at
  its `date_updated` where that is later than its `date_posted`, else after a time open drawn, seeded, from
  those known times); the backfill is what is open at the first poll; each poll closes what its board stopped
  listing through `core/lifecycle.plan_closing` (held mass disappearances, empty boards), and new postings that
  are recently closed ones come back are reposts (`match_reposts`); when a poll confirms a held (or empty-board)
  disappearance, the postings first seen since that held poll are matched again as of it (the poller's late
  reposts).
- **Analysis.** After every poll, as `analysis/signal_update` does: quiet signals close (newest posting, or for
  a pullback newest closing, a window old), then every company with non-backfill postings first seen, or
  postings closed, in the last window is read by `detect_signals` with `SignalParams` from the settings'
  defaults and, when roles close, by `detect_pullbacks(track(...))` with `PullbackParams()` (or the what-if
  `--pullback-min-open` / `--pullback-closed-share`; the plants stay those of the defaults). A finding whose
  (company, family, metro) has no open signal of its kind (growth or pullback) opens one (counted once);
  otherwise it grows the open one.
- **Plants** (seeded). Surges: for `--share` of the companies, k (5 to 15) extra postings of one function family
  in one metro, dated over 0 to 3 days at a random time of the replay (at least a window before its end). Half
  the companies that already hire by then get a surge in their commonest (family, metro) so far ("grow"); the
  others get the company's commonest family in a metro it never names ("new"). Titles are real titles of that
  family from the file, locations real location strings of that metro. Pullbacks and reposts (`file` only):
  `bench/signal_world` says how.
- **Scores.** A plant is found when a finding first holds one of its postings (the alert: a signal opened or
  grown); recall = found / planted. A growth signal is true when it holds a planted surge posting, else a false
  alert; precision = true / opened. False alerts are also given per 1,000 real postings replayed (first seen
  after the backfill). Days to alert run from the plant's first posting date to the poll that found it. A
  planted pullback is found in time when a pullback finding holds one of its closings within a pullback window
  of its first closing. A pullback signal holding no planted closing is a false pullback ("re-listing" when it
  holds a re-listed posting's closing). A growth signal holding a planted repost counts against reposts.
- **Rules.** `posted`: the board's dates, as the code now reads them. `first-seen`: every `posted_at` is None,
  so a posting's time is when it was first seen (the code before boards' dates were read).
- **First look.** Each board's first look at its first poll, built by `core/open_roles` from its open postings
  and rendered by `slack/blocks/first_look` from the stored payload (12 groups kept, up to 8 shown)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import code_version, pct
from signal_world import (
    Board,
    Closings,
    FileState,
    PullbackPlant,
    RepostPlant,
    closings,
    draw_open_close,
    first_looks,
    plant_pullbacks,
    plant_reposts,
)

from bot.core.companies import builtin_identity
from bot.core.jobs import family_of, job_function, metros_of
from bot.core.lifecycle import (
    ClosedPosting,
    ClosingParams,
    Lifecycle,
    PullbackParams,
    RepostKey,
    detect_pullbacks,
    match_reposts,
    opened_at,
    repost_key,
    track,
)
from bot.core.open_roles import OpenRoles, roles_from_dict
from bot.core.signals import Posting, SignalParams, detect_signals, posting_time
from bot.settings import Settings
from bot.slack.blocks.first_look import FirstLookView, first_look_message
from bot.sources.base import PlaceHint
from bot.sources.item import places_from

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"
CORPUS = SHARED / "jobs" / "simplify-new-grad-listings-2024-10-25.json"
DAY = timedelta(days=1)
PLANT_IDS = 1_000_000  # planted surge postings' item ids start here; real ones are 1..N
REPOST_IDS = 2_000_000  # planted reposts' ids start here
PULLBACK = "pullback"
LOOK_PAYLOAD_GROUPS = 12  # storage/first_look.MAX_GROUPS: the groups a first look's delivery keeps


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


def load_corpus(path: Path = CORPUS) -> tuple[list[Listing], dict[int, FileState]]:
    """The file's postings, oldest first, and what it says of each one's closing."""
    rows = json.loads(path.read_text("utf-8"))
    rows.sort(key=lambda r: (r["date_posted"], r["id"]))
    real = [listing(n, r["company_name"], r["title"], r["locations"], datetime.fromtimestamp(r["date_posted"], UTC))
            for n, r in enumerate(rows, 1)]
    states = {n: FileState(bool(r["active"]), datetime.fromtimestamp(r["date_updated"], UTC))
              for n, r in enumerate(rows, 1)}
    return real, states


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


def seen_posting(item: Listing, *, seen: datetime, backfill: bool, rule: str, repost: bool = False) -> Posting:
    """As `storage/signals.company_postings` builds it from the stored item."""
    return Posting(item_id=item.item_id, company=item.company, title=item.title, function=item.function,
                   metros=item.metros, first_seen_at=seen, backfill=backfill,
                   posted_at=item.posted if rule == "posted" else None, repost=repost)


@dataclass(frozen=True, slots=True)
class World:
    """Roles close: when each posting leaves its board, with the lifecycle's parameters."""

    closes: Mapping[int, datetime]
    dated: frozenset[int] = frozenset()  # real postings closed at the file's date (the others' dates are drawn)
    closing: ClosingParams = field(default_factory=ClosingParams)
    pullback: PullbackParams = field(default_factory=PullbackParams)
    match_reposts: bool = True  # False: the control, new postings are never reposts


@dataclass(slots=True)
class Replay:
    episodes: list[Episode]  # growth signals (novelty and surges)
    pullbacks: list[Episode]  # pullback signals
    plants: list[Plant]
    pullback_plants: list[PullbackPlant]
    replayed: int  # real postings first seen after the backfill
    never_seen: int  # real postings that opened and closed between two polls (or before the first)
    backfill: int  # real postings the first polls stored
    closed: int  # real postings closed by the polls
    reposts_real: int  # real postings marked as reposts
    reposts_matched: set[int]  # planted reposts marked as reposts
    reposts_seen: set[int]  # planted reposts the polls saw
    seconds: float


def poll_of(moment: datetime, start: datetime) -> int:
    """The first daily poll at or after `moment` (0 is the first poll)."""
    return max(0, -((start - moment) // DAY))


def replay(listings: list[Listing], plants: list[Plant], *, rule: str, params: SignalParams, start: datetime,
           end: datetime, world: World | None = None, pullback_plants: Sequence[PullbackPlant] = ()) -> Replay:
    """Daily polls of every board from `start` to `end`, each followed by the signal update."""
    began = time.perf_counter()
    plants = [replace(p) for p in plants]
    pullback_plants = [replace(p) for p in pullback_plants]
    plant_of = {i: p for p in plants for i in p.item_ids}
    pullback_of = {i: p for p in pullback_plants for i, _ in p.closes}
    closes = world.closes if world else {}
    identity = builtin_identity()
    arrivals: dict[int, list[Listing]] = defaultdict(list)  # poll number -> postings it first sees
    departures: dict[int, list[Listing]] = defaultdict(list)  # poll number -> postings it no longer lists
    never_seen = 0
    for item in listings:
        arrive = poll_of(item.posted, start)
        close = closes.get(item.item_id)
        if close is not None and poll_of(close, start) <= arrive:
            never_seen += item.item_id < PLANT_IDS
            continue
        arrivals[arrive].append(item)
        if close is not None:
            departures[poll_of(close, start)].append(item)
    boards: dict[str, Board] = defaultdict(Board)
    known: dict[str, list[Posting]] = defaultdict(list)
    last_new: dict[str, datetime] = {}  # company -> when its newest non-backfill posting was first seen
    last_closed: dict[str, datetime] = {}  # company -> its latest recorded closing
    closed_at: dict[int, datetime] = {}
    repost_of: dict[int, int] = {}
    closed_by_key: dict[RepostKey, list[ClosedPosting]] = defaultdict(list)
    key_of: dict[int, RepostKey | None] = {}
    open_: dict[tuple[tuple[str, str, str], bool], Episode] = {}
    episodes: list[Episode] = []
    pullbacks: list[Episode] = []
    replayed = backfilled = 0
    reposts_seen: set[int] = set()
    for poll in range((end - start) // DAY + 1):
        now = start + poll * DAY
        arrived: dict[str, list[Listing]] = defaultdict(list)
        left: dict[str, list[int]] = defaultdict(list)
        for item in arrivals.get(poll, []):
            arrived[item.company].append(item)
        for item in departures.get(poll, []):
            left[item.company].append(item.item_id)
        pending = {c for c, b in boards.items() if b.empty_since is not None or any(b.open_links.values())}
        new_items: list[Listing] = []
        gone: dict[str, datetime] = {}  # company -> the earliest held (or empty-board) disappearance confirmed now
        for company in sorted(set(arrived) | set(left) | pending):
            new_items += arrived.get(company, [])
            if world is None:
                continue
            found = boards[company].poll(now=now, arrived=[i.item_id for i in arrived.get(company, [])],
                                         left=left.get(company, []), params=world.closing)
            for item_id, at in found:
                closed_at[item_id] = at
                last_closed[company] = max(at, last_closed.get(company, at))
                key = key_of.get(item_id)
                if key is not None:
                    closed_by_key[key].append(ClosedPosting(item_id, key, at))
            if any(at < now for _, at in found):
                gone[company] = min(at for _, at in found if at < now)
        matches: dict[int, int] = {}  # storage/lifecycle.mark_reposts: new item -> the closed one it reposts
        if world is not None:
            for i in new_items:
                key_of[i.item_id] = repost_key(identity.key(i.company), i.title, i.metros)
            keyed = [(i.item_id, key_of[i.item_id]) for i in new_items]
            taken = set(repost_of.values())
            candidates = [c for k in {k for _, k in keyed if k is not None} for c in closed_by_key.get(k, [])
                          if c.item_id not in taken]
            if world.match_reposts and candidates:
                matches = match_reposts(keyed, candidates, at=now)
                repost_of.update(matches)
            for company, gone_at in sorted(gone.items()) if world.match_reposts else ():
                # Mirrors bot/ingest/poller.py::_late_reposts: the held poll stored its new postings (a
                # re-listing's) before anything had closed; once the hold is confirmed, the company's open,
                # non-repost postings first seen at or after it (daily polls: the held poll's and this one's; the
                # product's slack is under a poll interval) are matched as of the held poll.
                late_ids = sorted({p.item_id for p in known[company] if p.first_seen_at >= gone_at}
                                  | {i.item_id for i in arrived.get(company, [])})
                late_keyed = [(i, key_of[i]) for i in late_ids if i not in repost_of and i not in closed_at]
                taken = set(repost_of.values())
                late_candidates = [c for k in {k for _, k in late_keyed if k is not None}
                                   for c in closed_by_key.get(k, []) if c.item_id not in taken]
                late = match_reposts(late_keyed, late_candidates, at=gone_at) if late_candidates else {}
                repost_of.update(late)
                matches.update(late)
                known[company] = [replace(p, repost=True) if p.item_id in late else p for p in known[company]]
        for item in new_items:
            known[item.company].append(seen_posting(item, seen=now, backfill=poll == 0, rule=rule,
                                                    repost=item.item_id in matches))
            if item.item_id >= REPOST_IDS:
                reposts_seen.add(item.item_id)
            if poll:
                last_new[item.company] = now
                replayed += item.item_id < PLANT_IDS
            else:
                backfilled += item.item_id < PLANT_IDS
        for quiet in [k for k, e in open_.items() if e.last_at < now - params.window]:  # close_quiet_signals
            del open_[quiet]
        since = now - params.window
        changed = sorted({c for c, t in last_new.items() if t >= since} | {c for c, t in last_closed.items()
                                                                          if t >= since})
        for company in changed:  # companies_changed_since
            postings = known[company]
            when = {p.item_id: posting_time(p) for p in postings}
            found_now = [(f, max(when[i] for i in f.item_ids))
                         for f in detect_signals(postings, now=now, params=params)]
            if world is not None:
                lives = {p.item_id: Lifecycle(p.item_id, opened_at(p.posted_at, p.first_seen_at),
                                              closed_at.get(p.item_id), repost_of=repost_of.get(p.item_id))
                         for p in postings}
                found_now += [(f, max(closed_at[i] for i in f.item_ids))
                              for f in detect_pullbacks(track(postings, lives), now=now, params=world.pullback)]
            for finding, last_at in found_now:
                is_pullback = finding.reason == PULLBACK
                episode = open_.get((finding.key, is_pullback))
                opened = episode is None
                if episode is None:
                    episode = open_[(finding.key, is_pullback)] = Episode(finding.key, finding.reason, now, last_at)
                    (pullbacks if is_pullback else episodes).append(episode)
                grown = set(finding.item_ids) - episode.item_ids
                episode.item_ids |= grown
                episode.last_at = max(episode.last_at, last_at)
                for item_id in grown:
                    plant = plant_of.get(item_id) if not is_pullback else None
                    if plant is not None and plant.found_at is None:
                        plant.found_at, plant.found_by = now, "opened" if opened else "grew"
                    pulled = pullback_of.get(item_id) if is_pullback else None
                    if pulled is not None and pulled.found_at is None:
                        pulled.found_at = now
    matched = {i for i in repost_of if i >= REPOST_IDS}
    return Replay(episodes, pullbacks, plants, pullback_plants, replayed, never_seen, backfilled,
                  sum(i < PLANT_IDS for i in closed_at),
                  sum(i < PLANT_IDS for i in repost_of), matched, reposts_seen, time.perf_counter() - began)


def share_of(part: int, whole: int) -> str:
    return f"{part} / {whole} = {part / whole:.2f}" if whole else "no plants"


def by_reason(episodes: Sequence[Episode]) -> str:
    reasons = Counter(e.reason for e in episodes)
    return ", ".join(f"{r} {n}" for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"


def per_1000(count: int, run: Replay) -> str:
    return f"{1000 * count / run.replayed:.1f}" if run.replayed else "-"


def score(run: Replay, reposts: Sequence[RepostPlant], world: World | None) -> dict[str, str]:
    """The figures of one replay, by row name (ROWS)."""
    planted_ids = {i for p in run.plants for i in p.item_ids}
    true = [e for e in run.episodes if e.item_ids & planted_ids]
    false = [e for e in run.episodes if not e.item_ids & planted_ids]
    found = [p for p in run.plants if p.found_at is not None]

    def recall_of(kind: str) -> str:
        of_kind = [p for p in run.plants if p.kind == kind]
        return share_of(sum(p.found_at is not None for p in of_kind), len(of_kind))

    days = [((p.found_at or p.first) - p.first) / DAY for p in found]
    figures = {
        "recall": share_of(len(found), len(run.plants)),
        "recall_grow": recall_of("grow"), "recall_new": recall_of("new"),
        "found_by_growing": str(sum(p.found_by == "grew" for p in found)),
        "signals": str(len(run.episodes)),
        "precision": share_of(len(true), len(run.episodes)),
        "false_alerts": str(len(false)),
        "false_per_1000": per_1000(len(false), run),
        "false_surge_per_1000": per_1000(sum(e.reason == "surge" for e in false), run),
        "false_by_reason": by_reason(false),
        "days_to_alert": (f"{statistics.median(days):.1f} (p90 {pct(days, 90):.1f}, max {max(days):.1f})"
                          if days else "-"),
        "postings": (f"{run.backfill} backfill, {run.replayed} after, {run.never_seen} never seen, "
                     f"{run.closed} closed by polls"),
        "seconds": f"{run.seconds:.1f} s",
    }
    if world is None:
        return figures | dict.fromkeys(PULLBACK_ROWS, "- (nothing closes)")
    plants = run.pullback_plants
    in_time = [p for p in plants if p.found_at is not None and p.found_at - p.first <= PullbackParams().window]
    late = [p for p in plants if p.found_at is not None and p not in in_time]
    seasoned = [p for p in plants if p.seasoned >= PullbackParams().min_open]
    pulled = {i for p in plants for i, _ in p.closes}
    relisted = {i for p in reposts for i in p.originals}
    true_pb = [e for e in run.pullbacks if e.item_ids & pulled]
    relist_pb = [e for e in run.pullbacks if not e.item_ids & pulled and e.item_ids & relisted]
    churn_pb = [e for e in run.pullbacks if not e.item_ids & (pulled | relisted)]
    churn_real = [e for e in churn_pb if all(i < PLANT_IDS for i in e.item_ids)]
    churn_dated = [e for e in churn_real if e.item_ids <= world.dated]
    planted_reposts = {i for p in reposts for i in p.reposts}
    repost_signals = [e for e in run.episodes if e.item_ids & planted_reposts]
    pb_days = [((p.found_at or p.first) - p.first) / DAY for p in plants if p.found_at is not None]
    return figures | {
        "pullback_recall": share_of(len(in_time), len(plants)) + (f"; {len(late)} late" if late else ""),
        "pullback_recall_seasoned": share_of(sum(p in in_time for p in seasoned), len(seasoned)),
        "pullback_days": (f"{statistics.median(pb_days):.1f} (max {max(pb_days):.1f})" if pb_days else "-"),
        "pullbacks": f"{len(run.pullbacks)} ({len(true_pb)} planted, {len(relist_pb)} re-listing, "
                     f"{len(churn_pb)} churn)",
        "pullback_false_per_1000": f"{per_1000(len(churn_pb) + len(relist_pb), run)} "
                                   f"(churn {per_1000(len(churn_pb), run)})",
        "pullback_churn": (f"{len(churn_real)} on real postings only ({len(churn_dated)} with every closing at "
                           f"the file's date), {len(churn_pb) - len(churn_real)} on planted surge postings"),
        "reposts": (f"{len(planted_reposts)} planted in {len(reposts)} re-listings, {len(run.reposts_seen)} seen, "
                    f"{len(run.reposts_matched)} marked repost; {run.reposts_real} real postings marked"),
        "repost_signals": f"{len(repost_signals)}" + (f" ({by_reason(repost_signals)})" if repost_signals else ""),
    }


ROWS = [
    ("postings (real)", "postings"),
    ("surge recall (plants found)", "recall"),
    ("  grow: in the company's commonest family and metro", "recall_grow"),
    ("  new: its commonest family in a new metro", "recall_new"),
    ("  found by growing a signal already open", "found_by_growing"),
    ("signals opened", "signals"), ("precision (signals holding a plant)", "precision"),
    ("false alerts (signals holding no plant)", "false_alerts"),
    ("false alerts per 1,000 real postings replayed", "false_per_1000"),
    ("  of which surges, per 1,000", "false_surge_per_1000"),
    ("false alerts by reason", "false_by_reason"),
    ("days from plant to alert: median", "days_to_alert"),
    ("pullback recall (found within a week of the first closing)", "pullback_recall"),
    ("  plants with 4+ roles open a week when closings began", "pullback_recall_seasoned"),
    ("  days from first planted closing to alert: median", "pullback_days"),
    ("pullback signals opened", "pullbacks"),
    ("false pullbacks per 1,000 real postings replayed", "pullback_false_per_1000"),
    ("  churn pullbacks", "pullback_churn"),
    ("reposts", "reposts"),
    ("growth signals holding a planted repost", "repost_signals"),
    ("replay time", "seconds"),
]
PULLBACK_ROWS = ("pullback_recall", "pullback_recall_seasoned", "pullback_days", "pullbacks",
                 "pullback_false_per_1000", "pullback_churn", "reposts", "repost_signals")


def list_outcomes(name: str, run: Replay, reposts: Sequence[RepostPlant]) -> None:
    """The false alerts and the missed plants, to read the figures by."""
    planted_ids = {i for p in run.plants for i in p.item_ids}
    print(f"\n{name}: false alerts (signal opened, company, family, metro, reason, postings)")
    for e in run.episodes:
        if not e.item_ids & planted_ids:
            company, family, metro = e.key
            print(f"  {e.opened_at:%Y-%m-%d}  {company}, {family}, {metro}: {e.reason}, {len(e.item_ids)}")
    print(f"{name}: plants missed or found late (first planted date, company, kind, family, metro, postings)")
    for p in run.plants:
        if p.found_at is None or p.found_at - p.first > 3 * DAY:
            late = f"found after {(p.found_at - p.first) / DAY:.1f} days" if p.found_at else "missed"
            print(f"  {p.first:%Y-%m-%d}  {p.company}, {p.kind}, {p.family}, {p.metro}, {len(p.item_ids)}: {late}")
    if not run.pullback_plants and not run.pullbacks:
        return
    pulled = {i for p in run.pullback_plants for i, _ in p.closes}
    relisted = {i for p in reposts for i in p.originals}
    print(f"{name}: pullback signals holding no planted closing (opened, company, family, metro, closings, cause)")
    for e in run.pullbacks:
        if not e.item_ids & pulled:
            company, family, metro = e.key
            cause = ("re-listing" if e.item_ids & relisted else "churn" if all(i < PLANT_IDS for i in e.item_ids)
                     else "churn of planted surge postings")
            print(f"  {e.opened_at:%Y-%m-%d}  {company}, {family}, {metro}: {len(e.item_ids)}, {cause}")
    print(f"{name}: pullback plants missed or late (first closing, company, family, metro, open, open a week, "
          "closed)")
    for pb in run.pullback_plants:
        if pb.found_at is None or pb.found_at - pb.first > PullbackParams().window:
            late = f"found after {(pb.found_at - pb.first) / DAY:.1f} days" if pb.found_at else "missed"
            print(f"  {pb.first:%Y-%m-%d}  {pb.company}, {pb.family}, {pb.metro}, {pb.was_open}, {pb.seasoned}, "
                  f"{len(pb.closes)}: {late}")
    planted_reposts = {i for p in reposts for i in p.reposts}
    for e in run.episodes:
        if e.item_ids & planted_reposts:
            company, family, metro = e.key
            print(f"{name}: growth signal holding a planted repost: {e.opened_at:%Y-%m-%d} {company}, {family}, "
                  f"{metro}: {e.reason}, {len(e.item_ids)}")


def look_message(roles: OpenRoles) -> tuple[int, int]:
    """The Slack first look as delivered (its payload keeps 12 groups): groups listed, and the blocks' size."""
    stored = roles_from_dict(json.loads(json.dumps(roles.as_dict(max_groups=LOOK_PAYLOAD_GROUPS))))
    message = first_look_message(FirstLookView(spec="greenhouse:board", roles=stored))
    groups = next((b["text"]["text"] for b in message.blocks if b.get("block_id") == "look-groups"), "")
    shown = sum(1 for line in groups.split("\n") if line.startswith("•"))
    return shown, len(json.dumps(message.blocks, ensure_ascii=False))


def print_first_look(name: str, looks: list[OpenRoles], boards: int, start: datetime) -> None:
    """The first looks' sizes: what each board's first poll shows, as core/open_roles groups it."""
    print(f"\nFirst look at the first poll ({start:%Y-%m-%d}), {name}")
    if not looks:
        print(f"  boards followed: {boards}; none with open roles")
        return
    groups = [float(len(r.groups)) for r in looks]
    roles = [float(r.total) for r in looks]
    messages = [look_message(r) for r in looks]
    shown = [float(s) for s, _ in messages]
    size = [float(n) for _, n in messages]
    print(f"  boards followed: {boards}; with open roles: {len(looks)}; roles shown: {sum(roles):g}; "
          f"groups (family x metro): {sum(groups):g}; families: {sum(len(r.families) for r in looks)}")
    print(f"  groups per first look: median {statistics.median(groups):g}, p90 {pct(groups, 90):g}, "
          f"max {max(groups):g}; one group: {sum(g == 1 for g in groups)}; over 8 (Slack lists 8): "
          f"{sum(g > 8 for g in groups)}; over 10: {sum(g > 10 for g in groups)}")
    print(f"  roles per first look: median {statistics.median(roles):g}, p90 {pct(roles, 90):g}, max {max(roles):g}")
    print(f"  Slack message: groups listed max {max(shown):g}; blocks JSON median {statistics.median(size):g} "
          f"chars, max {max(size):g}")
    biggest = max(looks, key=lambda r: (len(r.groups), r.total, r.company))
    print(f"  the longest, {biggest.company} ({biggest.total} roles, {len(biggest.groups)} groups)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rule", choices=["both", "first-seen", "posted"], default="both",
                    help="first-seen: every posted_at None (before boards' dates were read); posted: as now")
    ap.add_argument("--closing", choices=["both", "none", "file"], default="both",
                    help="none: nothing closes (the bench before lifecycles); file: closings from the file")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", default="2024-06-01", help="the first poll of every board (its backfill), UTC date")
    ap.add_argument("--share", type=float, default=0.2, help="share of companies given a planted surge")
    ap.add_argument("--k", type=int, nargs=2, default=(5, 15), metavar=("MIN", "MAX"), help="postings per surge")
    ap.add_argument("--pullback-share", type=float, default=0.5,
                    help="share of the boards that ever have 4+ open roles in a group given a planted pullback")
    ap.add_argument("--repost-share", type=float, default=0.1,
                    help="share of the companies (and of the planted surges) re-listed as reposts")
    ap.add_argument("--pullback-min-open", type=int, default=PullbackParams().min_open,
                    help="what if: detect pullbacks with this min_open (plants stay as for the default)")
    ap.add_argument("--pullback-closed-share", type=float, default=PullbackParams().min_closed_share,
                    help="what if: detect pullbacks with this min_closed_share")
    ap.add_argument("--list", action="store_true", help="list the false alerts and the plants missed or found late")
    args = ap.parse_args()
    began = time.perf_counter()
    params = Settings(_env_file=None).signal_params()  # the defaults, not .env
    pullback_params = PullbackParams(min_open=args.pullback_min_open, min_closed_share=args.pullback_closed_share)
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; code {code_version()}; seed {args.seed}")
    print(f"params: window {params.window.days} days, min_novel {params.min_novel}, min_surge {params.min_surge}, "
          f"surge_ratio {params.surge_ratio:g}, baseline_windows {params.baseline_windows}; pullback: window "
          f"{pullback_params.window.days} days, min_open {pullback_params.min_open}, min_closed_share "
          f"{pullback_params.min_closed_share:g}, together {pullback_params.together.total_seconds() / 3600:g} h, "
          f"settle {pullback_params.settle.total_seconds() / 3600:g} h; closing: {ClosingParams()}")
    real, states = load_corpus()
    start = datetime.fromisoformat(args.start).replace(tzinfo=UTC)
    end = (max(i.posted for i in real) + DAY).replace(hour=0, minute=0, second=0, microsecond=0)
    last_start = end - params.window  # a plant starts at least a window before the last poll
    plants, planted = plant_surges(real, rng=random.Random(f"{args.seed}-surges"), share=args.share, start=start,
                                   last_start=last_start, k_range=(args.k[0], args.k[1]))
    companies = {i.company for i in real}
    print(f"corpus: {len(real)} postings, {len(companies)} companies (boards), dated "
          f"{min(i.posted for i in real):%Y-%m-%d} to {max(i.posted for i in real):%Y-%m-%d}")
    print(f"replay: first poll {start:%Y-%m-%d}, daily polls to {end:%Y-%m-%d} ({(end - start) // DAY} days)")
    kinds = Counter(p.kind for p in plants)
    print(f"surge plants: {len(plants)} ({kinds['grow']} grow, {kinds['new']} new) of {args.k[0]}-{args.k[1]} "
          f"postings, {len(planted)} postings")
    closing_modes = ["none", "file"] if args.closing == "both" else [args.closing]
    rules = ["first-seen", "posted"] if args.rule == "both" else [args.rule]
    world: World | None = None
    pullbacks: list[PullbackPlant] = []
    reposts: list[RepostPlant] = []
    relisted: list[Listing] = []
    if "file" in closing_modes:
        world, pullbacks, reposts, relisted = closing_world(args, real, states, plants, planted, start=start,
                                                            end=end, params=PullbackParams())
        world = replace(world, pullback=pullback_params)
    runs: dict[str, Replay] = {}
    scores: dict[str, dict[str, str]] = {}
    for closing in closing_modes:
        for rule in rules:
            name = f"{rule}, {'nothing closes' if closing == 'none' else 'roles close'}"
            if closing == "none":
                runs[name] = replay(real + planted, plants, rule=rule, params=params, start=start, end=end)
            else:
                runs[name] = replay(real + planted + relisted, plants, rule=rule, params=params, start=start,
                                    end=end, world=world, pullback_plants=pullbacks)
            scores[name] = score(runs[name], reposts, world if closing == "file" else None)
    print()
    print("| figure | " + " | ".join(scores) + " |")
    print("|---|" + "---|" * len(scores))
    for label, attr in ROWS:
        print(f"| {label} | " + " | ".join(s[attr] for s in scores.values()) + " |")
    if world is not None and "posted" in rules:  # the control: would the planted reposts have alerted?
        control = replay(real + planted + relisted, plants, rule="posted", params=params, start=start, end=end,
                         world=replace(world, match_reposts=False), pullback_plants=pullbacks)
        figures = score(control, reposts, world)
        print(f"\ncontrol (posted, roles close, reposts never matched): growth signals holding a planted repost: "
              f"{figures['repost_signals']}; pullbacks {figures['pullbacks']}")
    if args.list:
        for name, run in runs.items():
            list_outcomes(name, run, reposts)
    for closing in closing_modes:
        closes = world.closes if closing == "file" and world is not None else {}
        sizes = first_looks(real, start, closes)
        print_first_look("nothing closes" if closing == "none" else "roles close", sizes.looks, sizes.boards, start)
    print(f"\ntotal {time.perf_counter() - began:.1f} s")


def closing_world(args: argparse.Namespace, real: list[Listing], states: dict[int, FileState], plants: list[Plant],
                  planted: list[Listing], *, start: datetime, end: datetime,
                  params: PullbackParams) -> tuple[World, list[PullbackPlant], list[RepostPlant], list[Listing]]:
    """When each posting closes, with the pullbacks and re-listings planted on top."""
    found: Closings = closings(real, states, seed=args.seed, end=end)
    closes = dict(found.at)
    for item in planted:
        close = draw_open_close(item, found.times_open, seed=args.seed, end=end)
        if close is not None:
            closes[item.item_id] = close
    known_days = list(found.times_open)
    print(f"closings: {found.known} at the file's date_updated, {found.drawn} inactive with no date (drawn from "
          f"the {len(known_days)} known times open: median {statistics.median(known_days):.1f} days, p90 "
          f"{pct(known_days, 90):.0f}), {found.active} active (open to the end); planted surge postings draw too")
    pullbacks, eligible = plant_pullbacks(real + planted, closes, rng=random.Random(f"{args.seed}-pullbacks"),
                                          share=args.pullback_share, start=start, last_start=end - 2 * params.window,
                                          params=params)
    seasoned = sum(p.seasoned >= params.min_open for p in pullbacks)
    print(f"pullback plants: {len(pullbacks)} of {eligible} boards that ever have {params.min_open}+ open roles in "
          f"a group ({sum(len(p.closes) for p in pullbacks)} closings; {seasoned} with {params.min_open}+ of the "
          f"group's roles open a week when the closings began)")

    def copy(item: Listing, item_id: int, posted: datetime) -> Listing:
        return replace(item, item_id=item_id, posted=posted)

    surges = [(p.company, p.family, p.metro, p.first) for p in plants]
    reposts, relisted = plant_reposts(real + planted, closes, rng=random.Random(f"{args.seed}-reposts"),
                                      share=args.repost_share, start=start, end=end,
                                      skip={p.company for p in pullbacks}, surges=surges, next_id=REPOST_IDS,
                                      copy=copy)
    for item in relisted:
        close = draw_open_close(item, found.times_open, seed=args.seed, end=end)
        if close is not None:
            closes[item.item_id] = close
    sizes = Counter(len(p.reposts) for p in reposts)
    print(f"repost plants: {len(reposts)} re-listings ({Counter(p.kind for p in reposts)['group']} group, "
          f"{Counter(p.kind for p in reposts)['surge']} surge), {len(relisted)} reposts; re-listing sizes "
          + ", ".join(f"{n}: {c}" for n, c in sorted(sizes.items())))
    dated = frozenset(i.item_id for i in real if i.item_id in found.at and closes[i.item_id] == found.at[i.item_id]
                      and states[i.item_id].updated == found.at[i.item_id])
    return World(closes, dated), pullbacks, reposts, relisted


if __name__ == "__main__":
    main()
