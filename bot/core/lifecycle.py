"""Posting lifecycle: when a job posting closed (left its board), whether a new posting is a closed one come back
(a repost), how long a posting has been open, and pullbacks (a sharp fall in a company's open roles). Pure: no
I/O, no clock; storage applies the decisions (`bot/storage/lifecycle`).

- Closing. After a job source's poll that read its whole list, each of its postings the poll no longer lists is
  closed with the poll's time. A board that suddenly lists far fewer postings may be broken rather than
  emptied, so a disappearance of at least `ClosingParams.mass_min` postings that is more than
  `ClosingParams.mass_share` of the source's open postings is held: nothing closes, and the next poll that reads
  the list confirms it (those still missing close with the time they were first found missing) or undoes it.
  A wholly empty board is refused by the poller as an error once; the second empty poll in a row confirms it.
- A posting closes when none of the team's active sources lists it any more; listed again, it reopens.
- Repost: a new posting (new id) of the same company (`company_key`), the same normalised title and the same
  metros as a posting closed within `REPOST_WINDOW` is that posting come back, not new demand. Each closed
  posting is matched once (three new roles after one closed are one repost and two new roles).
- Long open: open more than `LONG_OPEN` (evergreen postings, hard-to-fill roles).
- Pullback (`detect_pullbacks`): a company taking roles down, not filling them. In one company, job-function
  family and metro, at least `PullbackParams.min_open` postings were open `window` ago, at least
  `min_closed_share` of those closed within the window, and at least as many of them closed within `together`
  of each other. Roles being filled close one by one, each when its hire is made, spread over weeks; a
  withdrawal is one decision, and the roles go down together. So a hiring burst whose roles are later filled
  at the usual pace (half of them closing over a week, a day or two apart) is not a pullback, and the same
  roles taken down within two days are. A closing whose posting was reposted is not one, and a closing counts
  only once it is `settle` old: a re-listing takes roles down and puts them back a poll or more later, and until
  the reposts are in it looks exactly like a withdrawal.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.jobs import family_of
from bot.core.signals import MAX_POSTING_AGE, Posting, SignalFinding

REPOST_WINDOW = timedelta(days=60)  # a posting closed longer ago than this that comes back is new demand
LONG_OPEN = timedelta(days=60)  # open longer than this: marked as long open
DAY = timedelta(days=1)
_NOT_WORD = re.compile(r"[\W_]+")


# --- closing ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ClosingParams:
    mass_min: int = 5  # a disappearance of at least this many postings at once ...
    mass_share: float = 0.5  # ... that is more than this share of the source's open postings is held one poll


@dataclass(frozen=True, slots=True)
class OpenLink:
    """One of a source's postings that it listed at its last poll."""

    link_id: int
    external_id: str
    missing_since: datetime | None = None  # a held disappearance: the poll that first found it missing


@dataclass(frozen=True, slots=True)
class ClosedLink:
    """One of a source's postings that it had stopped listing."""

    link_id: int
    external_id: str


@dataclass(frozen=True, slots=True)
class ClosingPlan:
    close: tuple[tuple[int, datetime], ...] = ()  # (link id, closed at)
    hold: tuple[int, ...] = ()  # link ids first found missing in a held disappearance: missing since the poll
    relisted: tuple[int, ...] = ()  # held link ids listed again: the hold is undone
    reopen: tuple[int, ...] = ()  # closed link ids listed again
    note: str | None = None  # for the source's notes (`sources list`)


def plan_closing(open_links: Sequence[OpenLink], closed_links: Sequence[ClosedLink], listed: Collection[str], *,
                 now: datetime, params: ClosingParams, empty_since: datetime | None = None) -> ClosingPlan:
    """What one poll that read the source's whole list (`listed`: the external ids it lists) closes and reopens.
    `empty_since`: the poll is the second empty one in a row, and the first was then; every open posting closes
    with that time."""
    reopen = tuple(c.link_id for c in closed_links if c.external_id in listed)
    relisted = tuple(o.link_id for o in open_links if o.external_id in listed and o.missing_since is not None)
    missing = [o for o in open_links if o.external_id not in listed]
    if empty_since is not None:
        close = tuple((o.link_id, o.missing_since or empty_since) for o in missing)
        note = f"the board listed nothing for a second poll running: its {len(close)} open postings are closed"
        return ClosingPlan(close=close, relisted=relisted, reopen=reopen, note=note if close else None)
    confirmed = [(o.link_id, o.missing_since) for o in missing if o.missing_since is not None]
    fresh = [o for o in missing if o.missing_since is None]
    if len(fresh) >= params.mass_min and len(fresh) > params.mass_share * len(open_links):
        note = (f"{len(fresh)} of {len(open_links)} open postings left the board at once; they are closed only if "
                "the next poll finds them gone too")
        return ClosingPlan(close=tuple(confirmed), hold=tuple(o.link_id for o in fresh), relisted=relisted,
                           reopen=reopen, note=note)
    close = (*confirmed, *((o.link_id, now) for o in fresh))
    held = f"{len(confirmed)} postings found gone by the last poll are closed" if confirmed else None
    return ClosingPlan(close=close, relisted=relisted, reopen=reopen, note=held)


@dataclass(frozen=True, slots=True)
class LinkListing:
    """Where a posting stands on one of the team's sources: when that source stopped listing it (None: it lists
    it), and whether the source is still followed (enabled, not removed)."""

    delisted_at: datetime | None
    active: bool


def posting_closed_at(links: Sequence[LinkListing]) -> datetime | None:
    """When a posting closed: when the last of the active sources that had listed it stopped; None while one
    of them lists it (or none is active, which says nothing)."""
    active = [link for link in links if link.active]
    if not active or any(link.delisted_at is None for link in active):
        return None
    return max(link.delisted_at for link in active if link.delisted_at is not None)


# --- reposts ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RepostKey:
    """What makes two postings the same role: company key, normalised title, metros."""

    company: str
    title: str
    metros: tuple[str, ...]


def title_key(title: str) -> str:
    """A title compared for reposts: NFKC, case-folded, punctuation read as space ("Warehouse Associate – Nights"
    is "warehouse associate nights")."""
    return " ".join(_NOT_WORD.sub(" ", unicodedata.normalize("NFKC", title).casefold()).split())[:300]


def repost_key(company: str | None, title: str, metros: Sequence[str]) -> RepostKey | None:
    """`company` is the company's key (`company_key`); None (no name to key) or an empty title matches nothing."""
    key = title_key(title)
    if not company or not key:
        return None
    return RepostKey(company, key, tuple(sorted(set(metros))))


@dataclass(frozen=True, slots=True)
class ClosedPosting:
    item_id: int
    key: RepostKey | None
    closed_at: datetime


def is_repost(new: RepostKey | None, old: ClosedPosting, *, at: datetime, window: timedelta = REPOST_WINDOW) -> bool:
    """Whether a posting first seen `at` with key `new` is `old` come back: same key, and `old` closed at or
    before `at` and within `window` of it."""
    return new is not None and new == old.key and at - window <= old.closed_at <= at


def match_reposts(new: Sequence[tuple[int, RepostKey | None]], closed: Sequence[ClosedPosting], *, at: datetime,
                  window: timedelta = REPOST_WINDOW) -> dict[int, int]:
    """New item id → the closed item it reposts. The most recently closed match wins; each closed posting is
    matched once."""
    taken: set[int] = set()
    out: dict[int, int] = {}
    latest_first = sorted(closed, key=lambda c: (c.closed_at, c.item_id), reverse=True)
    for item_id, key in new:
        match = next((c for c in latest_first if c.item_id not in taken and c.item_id != item_id
                      and is_repost(key, c, at=at, window=window)), None)
        if match is not None:
            taken.add(match.item_id)
            out[item_id] = match.item_id
    return out


# --- how long open ---------------------------------------------------------------------------------------------

def opened_at(posted_at: datetime | None, first_seen_at: datetime) -> datetime:
    """When a posting opened: its board's date when plausible (not after we first saw it, not absurdly old), else
    when we first saw it (as `core.signals.posting_time`)."""
    if posted_at is not None and first_seen_at - MAX_POSTING_AGE <= posted_at <= first_seen_at:
        return posted_at
    return first_seen_at


def open_days(opened: datetime, closed_at: datetime | None, now: datetime) -> int:
    """Whole days a posting has been (or was) open: from `opened` to `closed_at`, or to `now` while open."""
    return max(0, ((closed_at or now) - opened) // DAY)


def is_long_open(opened: datetime, closed_at: datetime | None, now: datetime, *, limit: timedelta = LONG_OPEN) -> bool:
    """Open (still, or until it closed) for longer than `limit`."""
    return (closed_at or now) - opened > limit


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """A posting's lifecycle as storage reads it."""

    item_id: int
    opened_at: datetime
    closed_at: datetime | None = None
    closed_before_tracking: bool = False  # found gone when briefbot began tracking its board: date unknown
    repost_of: int | None = None


def lifecycle_line(life: Lifecycle, now: datetime) -> str:
    """For people and for answers: "open since 3 Nov 2026 (23 days)", "closed 20 Nov 2026 after 18 days", with
    "; open a long time" and "; repost of an earlier posting" where they apply."""
    days = open_days(life.opened_at, life.closed_at, now)
    span = "under a day" if days == 0 else "1 day" if days == 1 else f"{days} days"
    if life.closed_at is None:
        line = f"open since {_day(life.opened_at)} ({span})"
    elif days == 0 and not life.closed_before_tracking:
        line = f"closed {_day(life.closed_at)}, the day it opened"
    elif life.closed_before_tracking:
        line = f"closed by {_day(life.closed_at)} (open at least since {_day(life.opened_at)})"
    else:
        line = f"closed {_day(life.closed_at)} after {span}"
    if is_long_open(life.opened_at, life.closed_at, now) and not life.closed_before_tracking:
        line += "; open a long time"
    if life.repost_of is not None:
        line += "; repost of an earlier posting"
    return line


def lifecycle_short(life: Lifecycle, now: datetime) -> str:
    """For a table cell: "open 23d", "open 75d long", "closed 18d", with " repost"."""
    days = open_days(life.opened_at, life.closed_at, now)
    text = f"{'open' if life.closed_at is None else 'closed'} {days}d"
    if is_long_open(life.opened_at, life.closed_at, now) and not life.closed_before_tracking:
        text += " long"
    return text + (" repost" if life.repost_of is not None else "")


EVIDENCE_START, EVIDENCE_END = "Posting ", ". "


def with_lifecycle(text: str, life: Lifecycle, now: datetime) -> str:
    """A job posting's evidence for answers, its lifecycle first: "Posting open since 3 Nov 2026 (23 days). …"."""
    return f"{EVIDENCE_START}{lifecycle_line(life, now)}{EVIDENCE_END}{text}".strip()


def lifecycle_of(evidence: str) -> str | None:
    """The lifecycle line `with_lifecycle` put at the start of `evidence`, if it did."""
    if not evidence.startswith(EVIDENCE_START) or EVIDENCE_END.strip() not in evidence:
        return None
    line = evidence[len(EVIDENCE_START):].split(EVIDENCE_END, 1)[0].removesuffix(".")
    return line if line.startswith(("open since", "closed ")) else None


def _day(moment: datetime) -> str:
    return f"{moment:%-d %b %Y}"


# --- pullbacks -------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PullbackParams:
    window: timedelta = timedelta(days=7)
    min_open: int = 4  # postings open in the group when the window began
    min_closed_share: float = 0.5  # of those, at least this share closed within the window ...
    together: timedelta = timedelta(days=2)  # ... and at least that many within this span of each other
    settle: timedelta = timedelta(days=1)  # a closing counts once this old: a re-listing's reposts come back first


@dataclass(frozen=True, slots=True)
class TrackedPosting:
    """A posting (as signal detection reads it) with its lifecycle."""

    posting: Posting
    closed_at: datetime | None = None
    closed_before_tracking: bool = False
    repost_of: int | None = None


def track(postings: Sequence[Posting], lifecycles: Mapping[int, Lifecycle]) -> list[TrackedPosting]:
    """Postings joined with what storage knows of their lifecycles (`storage.lifecycle.lifecycles`)."""
    out = []
    for p in postings:
        life = lifecycles.get(p.item_id)
        out.append(TrackedPosting(p, life.closed_at, life.closed_before_tracking, life.repost_of) if life
                   else TrackedPosting(p))
    return out


@dataclass(frozen=True, slots=True)
class GroupWindow:
    """One group's roles over a pullback window, as `detect_pullbacks` reads them."""

    was_open: tuple[TrackedPosting, ...]  # open when the window began
    closed: tuple[TrackedPosting, ...]  # of those, closed within it (not reposted), oldest closing first
    opened: tuple[TrackedPosting, ...]  # opened within it (not reposts) and still open: for the explanation
    together: tuple[TrackedPosting, ...]  # the most of `closed` that closed within `together` of each other

    def is_pullback(self, params: PullbackParams) -> bool:
        """At least `min_open` open when the window began; of those, `min_closed_share` closed, and as many
        closed within `together` of each other."""
        wanted = params.min_closed_share * len(self.was_open)
        return len(self.was_open) >= params.min_open and bool(self.closed) and len(self.together) >= wanted


def group_window(group: Sequence[TrackedPosting], *, now: datetime, params: PullbackParams,
               reposted: Collection[int]) -> GroupWindow:
    """`group`: one company, family and metro's postings (closed before tracking or first seen after `now`
    left out); `reposted`: item ids that a later posting reposts."""
    start = now - params.window
    was_open, opened = [], []
    for t in group:
        began = opened_at(t.posting.posted_at, t.posting.first_seen_at)
        if began <= start and (t.closed_at is None or t.closed_at > start):
            was_open.append(t)
        elif began > start and (t.closed_at is None or t.closed_at > now) and t.repost_of is None:
            opened.append(t)
    closed = sorted((t for t in was_open if t.closed_at is not None and t.closed_at <= now - params.settle
                     and t.posting.item_id not in reposted), key=lambda t: (t.closed_at, t.posting.item_id))
    times = [t.closed_at or now for t in closed]
    best, first = (0, 0), 0  # the longest run of closings within `together` of its first, the earliest such run
    for last, at in enumerate(times):  # one pass (times are sorted): a board with thousands of roles stays cheap
        while at - times[first] > params.together:
            first += 1
        if last + 1 - first > best[1] - best[0]:
            best = (first, last + 1)
    together = closed[best[0]:best[1]]
    return GroupWindow(tuple(was_open), tuple(closed), tuple(sorted(opened, key=lambda t: t.posting.item_id)),
                     tuple(together))


def detect_pullbacks(postings: Sequence[TrackedPosting], *, now: datetime,
                     params: PullbackParams | None = None) -> list[SignalFinding]:
    """Every pullback as of `now`: one finding (reason "pullback") per company, job-function family and metro
    whose open roles fell sharply within the window. `item_ids` are the postings that closed, oldest closing
    first; `baseline` is how many were open when the window began. Postings closed before briefbot tracked their
    board (date unknown) count neither way; a closed posting that was reposted did not really close."""
    params = params or PullbackParams()
    start = now - params.window
    reposted = {t.repost_of for t in postings if t.repost_of is not None}
    groups: dict[tuple[str, str, str], list[TrackedPosting]] = defaultdict(list)
    for t in postings:
        p = t.posting
        if t.closed_before_tracking or p.first_seen_at > now or (t.closed_at is not None and t.closed_at <= start):
            continue
        for metro in p.metros:
            groups[(p.company, family_of(p.function), metro)].append(t)
    findings = []
    for (company, family, metro), group in sorted(groups.items()):
        window = group_window(group, now=now, params=params, reposted=reposted)
        if not window.is_pullback(params):
            continue
        closed = window.closed
        functions = Counter(t.posting.function for t in closed).most_common()
        findings.append(SignalFinding(
            company=company, family=family, metro=metro, reason="pullback",
            item_ids=tuple(t.posting.item_id for t in closed), baseline=float(len(window.was_open)),
            functions=tuple(functions), titles=tuple(t.posting.title for t in closed)))
    return findings
