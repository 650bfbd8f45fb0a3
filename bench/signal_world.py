"""The world `bench/signals.py` replays when roles close: when each posting leaves its board, the boards polled as
the poller polls them (`core/lifecycle.plan_closing`), planted pullbacks and reposts, and the first look as
`core/open_roles` builds it. Imported as `signal_world` (a benchmark run as a script has bench/ on its path).

- **Closing dates** (`closings`). The Simplify file says, for each posting, whether it was still listed when the
  file was taken (`active`, 141 of 1,288 were) and when it was last changed (`date_updated`). An active posting
  stays open to the end of the replay. An inactive one whose `date_updated` is after its `date_posted` (331)
  closed then: its last change is taken to be its taking down. For the other 816 inactive postings the file
  gives no date, so the time each stayed open is drawn (seeded, one draw per posting) from those 331 known
  times open (median about 25 days, p90 about 260), among the ones that end before the file was taken.
  Planted postings draw from the same 331 times and close only if that falls before the end of the replay.
- **Polls** (`Board`). A board lists a posting from its date until its closing. After each daily poll the
  board's missing postings go through `plan_closing` as `storage/lifecycle.close_unlisted` applies it: closed
  at the poll, a mass disappearance held one poll, an empty board closing only on its second empty poll. A
  posting that opens and closes between two polls is never seen.
- **Pullback plants** (`plant_pullbacks`). Candidates are the boards on which, at some poll of the replay (at
  least a pullback window before its end), one job-function family in one metro has at least
  `PullbackParams.min_open` open postings. A seeded sample of `share` of them each get one plant: at a random
  such poll, one such group at random, and half of its open postings (rounded up) closed at random times over
  the next 0 to 3 days.
- **Repost plants** (`plant_reposts`). Two kinds, each for a seeded `share`: "group", a company not given a
  pullback, whose largest open group at a random time has every open posting taken down and posted again
  (same title and locations, new id) 0 to 3 days later; "surge", a company given a planted surge, whose
  planted group is re-listed the same way 3 to 6 weeks after the surge began.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from bot.core.jobs import family_of
from bot.core.lifecycle import ClosedLink, ClosingParams, OpenLink, PullbackParams, plan_closing
from bot.core.open_roles import OpenRoles, open_roles
from bot.core.signals import Posting

DAY = timedelta(days=1)
PULLBACK_SPREAD = 3 * DAY  # planted closings of one pullback fall within this
REPOST_LAG = (0 * DAY, 3 * DAY)  # a re-listed posting comes back this long after it was taken down
RELIST_AFTER = (21 * DAY, 42 * DAY)  # a planted surge is re-listed this long after it began
NO_PLACE = ""  # open_roles' metro for postings that name no place


class Listed(Protocol):
    """What the world needs of a posting (bench/signals.Listing)."""

    @property
    def item_id(self) -> int: ...
    @property
    def company(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def locations(self) -> tuple[str, ...]: ...
    @property
    def posted(self) -> datetime: ...
    @property
    def function(self) -> str: ...
    @property
    def metros(self) -> tuple[str, ...]: ...


L = TypeVar("L", bound=Listed)


# --- closing dates ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FileState:
    """What the file says of a real posting's closing."""

    active: bool
    updated: datetime


@dataclass(slots=True)
class Closings:
    at: dict[int, datetime]  # item id -> when its board stops listing it (absent: listed to the end)
    known: int = 0  # real postings closed at their file date
    drawn: int = 0  # real postings closed at a drawn date
    active: int = 0  # real postings still listed when the file was taken
    times_open: tuple[float, ...] = ()  # the known times open, in days (what is drawn from)


def closings(real: Sequence[Listed], states: Mapping[int, FileState], *, seed: int, end: datetime) -> Closings:
    """When each real posting closes (module docstring)."""
    known = {i.item_id: states[i.item_id].updated for i in real
             if not states[i.item_id].active and states[i.item_id].updated > i.posted}
    times_open = tuple(sorted((known[i.item_id] - i.posted) / DAY for i in real if i.item_id in known))
    out = Closings(at={}, times_open=times_open)
    for item in real:
        state = states[item.item_id]
        if state.active:
            out.active += 1
        elif item.item_id in known:
            out.at[item.item_id], out.known = known[item.item_id], out.known + 1
        else:
            out.at[item.item_id], out.drawn = draw_close(item, times_open, seed=seed, before=end), out.drawn + 1
    return out


def draw_close(item: Listed, times_open: Sequence[float], *, seed: int, before: datetime) -> datetime:
    """A closing date for a posting known to have closed by `before`: a known time open that fits, drawn with a
    generator of its own (so adding postings elsewhere changes no other draw)."""
    rng = random.Random(f"{seed}-close-{item.item_id}")
    room = (before - item.posted) / DAY
    fitting = [d for d in times_open if d < room]
    days = rng.choice(fitting) if fitting else rng.uniform(0, max(room, 0.0))
    return item.posted + timedelta(days=days)


def draw_open_close(item: Listed, times_open: Sequence[float], *, seed: int, end: datetime) -> datetime | None:
    """A planted posting's closing: a known time open, or None when that runs past the end."""
    closed = item.posted + timedelta(days=random.Random(f"{seed}-close-{item.item_id}").choice(times_open))
    return closed if closed < end else None


def is_open(item: Listed, at: datetime, closes: Mapping[int, datetime]) -> bool:
    close = closes.get(item.item_id)
    return item.posted <= at and (close is None or close > at)


# --- boards polled ---------------------------------------------------------------------------------------------

@dataclass(slots=True)
class Board:
    """One board's postings as briefbot tracks them between polls (item_links)."""

    open_links: dict[int, datetime | None] = field(default_factory=dict)  # item id -> missing since (a hold)
    empty_since: datetime | None = None  # the first of a run of empty polls (the poll failed: "empty")
    listed: set[int] = field(default_factory=set)  # what the board lists at this poll

    def poll(self, *, now: datetime, arrived: Iterable[int], left: Iterable[int],
             params: ClosingParams) -> list[tuple[int, datetime]]:
        """The board at `now` (postings that `arrived` and `left` since the last poll); the closings briefbot
        records, as (item id, closed at). New postings are stored first, as the poller does."""
        self.listed.update(arrived)
        self.listed.difference_update(left)
        if not self.listed:
            if not self.open_links:
                return []
            if self.empty_since is None:  # the first empty poll fails; nothing is closed
                self.empty_since = now
                return []
            plan = plan_closing(self._open(), [], set(), now=now, params=params, empty_since=self.empty_since)
        else:
            self.empty_since = None
            for item_id in self.listed:
                self.open_links.setdefault(item_id, None)
            if all(i in self.listed and m is None for i, m in self.open_links.items()):
                return []
            plan = plan_closing(self._open(), list[ClosedLink](), {str(i) for i in self.listed}, now=now,
                                params=params)
        for link_id in plan.relisted:
            self.open_links[link_id] = None
        for link_id in plan.hold:
            self.open_links[link_id] = now
        for link_id, _ in plan.close:
            del self.open_links[link_id]
        if not self.listed:
            self.empty_since = None
        return list(plan.close)

    def _open(self) -> list[OpenLink]:
        return [OpenLink(i, str(i), m) for i, m in sorted(self.open_links.items())]


# --- planted pullbacks -----------------------------------------------------------------------------------------

@dataclass(slots=True)
class PullbackPlant:
    company: str
    family: str
    metro: str
    was_open: int  # the group's open postings when the closings began
    seasoned: int  # of those, how many had been open a whole pullback window by then
    closes: tuple[tuple[int, datetime], ...]  # item id, when the board drops it
    found_at: datetime | None = None

    @property
    def first(self) -> datetime:
        return min(t for _, t in self.closes)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.company, self.family, self.metro)


def groups_open(items: Sequence[L], at: datetime, closes: Mapping[int, datetime]) -> dict[tuple[str, str], list[L]]:
    """A company's open postings at `at` by (family, metro), as a pullback groups them."""
    out: dict[tuple[str, str], list[L]] = defaultdict(list)
    for item in items:
        if is_open(item, at, closes):
            for metro in dict.fromkeys(item.metros):
                out[(family_of(item.function), metro)].append(item)
    return out


def plant_pullbacks(listings: Sequence[Listed], closes: dict[int, datetime], *, rng: random.Random, share: float,
                    start: datetime, last_start: datetime, params: PullbackParams) -> tuple[list[PullbackPlant], int]:
    """Pullbacks for a seeded `share` of the boards that ever have a group big enough (module docstring); `closes`
    gets the planted closings. Also returns how many boards could have one."""
    by_company = by_board(listings)
    polls = [start + n * DAY for n in range(1, (last_start - start) // DAY + 1)]
    eligible: dict[str, list[datetime]] = {}
    for company in sorted(by_company):
        times = [t for t in polls if any(len(v) >= params.min_open
                                         for v in groups_open(by_company[company], t, closes).values())]
        if times:
            eligible[company] = times
    chosen = sorted(rng.sample(sorted(eligible), round(share * len(eligible))))
    plants = []
    for company in chosen:
        at = rng.choice(eligible[company])
        groups = groups_open(by_company[company], at, closes)
        (family, metro) = rng.choice(sorted(k for k, v in groups.items() if len(v) >= params.min_open))
        members = sorted(groups[(family, metro)], key=lambda i: i.item_id)
        picked = rng.sample(members, (len(members) + 1) // 2)
        planted = []
        for item in sorted(picked, key=lambda i: i.item_id):
            when = at + timedelta(seconds=rng.uniform(0, PULLBACK_SPREAD.total_seconds()))
            closes[item.item_id] = min(when, closes.get(item.item_id, when))
            planted.append((item.item_id, closes[item.item_id]))
        seasoned = sum(i.posted <= at - params.window for i in members)
        plants.append(PullbackPlant(company, family, metro, len(members), seasoned, tuple(planted)))
    return plants, len(eligible)


# --- planted reposts -------------------------------------------------------------------------------------------

@dataclass(slots=True)
class RepostPlant:
    company: str
    kind: str  # group | surge
    family: str
    metro: str
    originals: tuple[int, ...]  # the postings taken down
    reposts: tuple[int, ...]  # the same postings back under new ids
    taken_down: datetime


def plant_reposts(listings: Sequence[L], closes: dict[int, datetime], *, rng: random.Random, share: float,
                  start: datetime, end: datetime, skip: set[str], surges: Sequence[tuple[str, str, str, datetime]],
                  next_id: int, copy: Callable[[L, int, datetime], L]) -> tuple[list[RepostPlant], list[L]]:
    """Re-listings (module docstring): `closes` gets the originals' closings; returns the plants and the new
    postings. `surges` are the planted surges (company, family, metro, first posting date); `copy` makes a
    posting again under a new id and date."""
    by_company = by_board(listings)
    wanted: list[tuple[str, str, datetime, tuple[str, str] | None]] = []  # company, kind, when, group
    companies = sorted(c for c in by_company if c not in skip)
    for company in sorted(rng.sample(companies, round(share * len(companies)))):
        wanted.append((company, "group", start + DAY + (end - 10 * DAY - start - DAY) * rng.random(), None))
    for company, family, metro, first in sorted(rng.sample(list(surges), round(share * len(surges)))):
        if company not in skip:
            lag = RELIST_AFTER[0] + (RELIST_AFTER[1] - RELIST_AFTER[0]) * rng.random()
            wanted.append((company, "surge", first + lag, (family, metro)))
    plants: list[RepostPlant] = []
    new: list[L] = []
    for company, kind, at, group in wanted:
        if at >= end - 4 * DAY:
            continue
        groups = groups_open(by_company[company], at, closes)
        if group is None and groups:
            group = min(groups, key=lambda k: (-len(groups[k]), k))
        members = sorted(groups.get(group, []) if group else [], key=lambda i: i.item_id)
        if not members or group is None:
            continue
        originals, reposts = [], []
        for item in members:
            down = at + timedelta(seconds=rng.uniform(0, DAY.total_seconds()))
            closes[item.item_id] = min(down, closes.get(item.item_id, down))
            back = closes[item.item_id] + REPOST_LAG[0] + (REPOST_LAG[1] - REPOST_LAG[0]) * rng.random()
            again = copy(item, next_id, back)
            next_id += 1
            originals.append(item.item_id)
            reposts.append(again.item_id)
            new.append(again)
        plants.append(RepostPlant(company, kind, group[0], group[1], tuple(originals), tuple(reposts), at))
    return plants, new


def by_board(listings: Iterable[L]) -> dict[str, list[L]]:
    out: dict[str, list[L]] = defaultdict(list)
    for item in listings:
        out[item.company].append(item)
    return out


# --- first look ------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LookSizes:
    boards: int  # boards followed
    looks: list[OpenRoles]  # one per board with open roles at its first poll


def first_looks(listings: Sequence[Listed], start: datetime, closes: Mapping[int, datetime]) -> LookSizes:
    """Each board's first look as `storage/first_look` builds it: its open postings at the first poll, through
    `open_roles`."""
    boards = by_board(listings)
    looks = []
    for company in sorted(boards):
        postings = [Posting(item_id=i.item_id, company=i.company, title=i.title, function=i.function,
                            metros=i.metros, first_seen_at=start, backfill=True, posted_at=i.posted)
                    for i in boards[company] if is_open(i, start, closes)]
        if postings:
            looks.append(open_roles(postings, now=start))
    return LookSizes(len(boards), looks)

