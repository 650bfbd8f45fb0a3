"""What a company has open now: its open postings by job-function family and metro, with counts, the commonest
titles, and the weekly counts of the last weeks (by when each posting appeared) for a trend. Pure: no I/O, no
clock; the caller gives the postings and `now`.

"Open" is the caller's to say: pass `is_open` (or postings already filtered). Until postings carry their
lifecycle, every stored posting counts as open. A posting that names several metros counts once in the total
and once in each of its metros' groups; one that names none is in the group with metro "" (place not given).
An undated posting from a board's first poll has no time of its own (its first-seen time is only when the board
was followed), so it counts as open but stays out of the weekly counts (`undated`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.jobs import family_labels, family_of, function_label
from bot.core.signal_evidence import WEEKS, sparkline, weekly_counts
from bot.core.signals import Posting, has_time

MAX_TITLES = 3  # commonest titles kept per group
TITLE_MAX = 200  # a title as kept in the summary (boards send longer ones)
NO_PLACE = ""  # the metro of postings that name no place
NO_PLACE_LABEL = "place not given"


@dataclass(frozen=True, slots=True)
class RoleGroup:
    """The open postings of one job-function family in one metro."""

    family: str  # family id (bot.core.jobs.family_of)
    label: str  # the family as people read it ("fulfillment and logistics")
    metro: str  # NO_PLACE when the postings name no place
    count: int
    weekly: tuple[int, ...]  # postings per week, oldest first, the last week ending at the summary's `at`
    titles: tuple[tuple[str, int], ...]  # the commonest titles with their counts, commonest first

    @property
    def place(self) -> str:
        return self.metro or NO_PLACE_LABEL

    def as_dict(self) -> dict[str, Any]:
        return {"family": self.family, "label": self.label, "metro": self.metro, "count": self.count,
                "weekly": list(self.weekly), "sparkline": sparkline(self.weekly),
                "titles": [{"title": t, "count": n} for t, n in self.titles]}


@dataclass(frozen=True, slots=True)
class OpenRoles:
    """A company's open roles at `at`."""

    company: str
    at: datetime
    total: int  # open postings, each once
    groups: tuple[RoleGroup, ...]  # largest first (then by family label and metro)
    families: tuple[tuple[str, int], ...]  # family id and its open postings, largest first
    metros: tuple[tuple[str, int], ...]  # metro and its open postings, largest first (NO_PLACE included)
    weekly: tuple[int, ...]  # every open posting with a time of its own, per week
    undated: int  # open postings left out of the weekly counts (no time of their own)
    hidden_groups: int = 0  # smaller groups not kept (a summary read back from `as_dict(max_groups=…)`)

    @property
    def weeks(self) -> int:
        return len(self.weekly)

    @property
    def metro_count(self) -> int:
        """How many places: metros named (postings with no place are not a metro)."""
        return sum(1 for metro, _ in self.metros if metro != NO_PLACE)

    def as_dict(self, *, max_groups: int | None = None) -> dict[str, Any]:
        """JSON-ready; `max_groups` keeps the largest groups only (`groups_shown` says how many of how many)."""
        shown = self.groups if max_groups is None else self.groups[:max_groups]
        return {"company": self.company, "at": self.at.isoformat(), "total": self.total,
                "weeks": self.weeks, "weekly": list(self.weekly), "sparkline": sparkline(self.weekly),
                "undated": self.undated, "functions": len(self.families), "metros": self.metro_count,
                "families": [{"family": f, "label": label_of(f), "count": n} for f, n in self.families],
                "metro_counts": [{"metro": m, "count": n} for m, n in self.metros],
                "groups": [g.as_dict() for g in shown], "groups_total": len(self.groups) + self.hidden_groups}


def roles_from_dict(data: Any) -> OpenRoles:
    """`OpenRoles.as_dict` read back (a stored delivery's payload); ValueError when it is not that shape."""
    try:
        groups = tuple(RoleGroup(family=str(g["family"]), label=str(g["label"]), metro=str(g["metro"]),
                                 count=int(g["count"]), weekly=tuple(int(c) for c in g["weekly"]),
                                 titles=tuple((str(t["title"]), int(t["count"])) for t in g["titles"]))
                       for g in data["groups"])
        return OpenRoles(company=str(data["company"]), at=datetime.fromisoformat(str(data["at"])),
                         total=int(data["total"]), groups=groups,
                         families=tuple((str(f["family"]), int(f["count"])) for f in data["families"]),
                         metros=tuple((str(m["metro"]), int(m["count"])) for m in data["metro_counts"]),
                         weekly=tuple(int(c) for c in data["weekly"]), undated=int(data["undated"]),
                         hidden_groups=max(0, int(data.get("groups_total", 0)) - len(groups)))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not an open-roles summary: {type(exc).__name__}: {exc}") from exc


def open_roles(postings: Sequence[Posting], *, now: datetime, company: str | None = None,
               is_open: Callable[[Posting], bool] | None = None, weeks: int = WEEKS,
               max_titles: int = MAX_TITLES) -> OpenRoles:
    """The summary of `postings` that are open (`is_open`; all of them when None) as of `now`. `company`
    names it; by default the name the postings give most often."""
    chosen = [p for p in postings if is_open is None or is_open(p)]
    name = company if company is not None else _commonest([p.company for p in chosen])
    groups: dict[tuple[str, str], list[Posting]] = {}
    metros: Counter[str] = Counter()
    for posting in chosen:
        family = family_of(posting.function)
        for metro in dict.fromkeys(posting.metros or (NO_PLACE,)):
            groups.setdefault((family, metro), []).append(posting)
            metros[metro] += 1
    families = Counter(family_of(p.function) for p in chosen)
    built = [RoleGroup(family=family, label=label_of(family), metro=metro, count=len(members),
                       weekly=weekly_counts([p for p in members if has_time(p)], end=now, weeks=weeks),
                       titles=_titles(members, max_titles))
             for (family, metro), members in groups.items()]
    built.sort(key=lambda g: (-g.count, g.label.casefold(), g.metro == NO_PLACE, g.metro.casefold()))
    timed = [p for p in chosen if has_time(p)]
    return OpenRoles(company=name, at=now, total=len(chosen), groups=tuple(built),
                     families=_largest(families), metros=_largest(metros),
                     weekly=weekly_counts(timed, end=now, weeks=weeks), undated=len(chosen) - len(timed))


def label_of(family: str, labels: Mapping[str, str] | None = None) -> str:
    """A family as people read it; an id the taxonomy does not know reads "other roles"."""
    return (labels if labels is not None else family_labels()).get(family) or function_label(family)


def trend_text(weekly: Sequence[int]) -> str:
    """'▁▁▃█ (0 0 1 4 a week)': the sparkline and the counts behind it, oldest week first."""
    return f"{sparkline(weekly)} ({' '.join(str(c) for c in weekly)} a week)"


def group_line(group: RoleGroup) -> str:
    """'fulfillment and logistics · Seattle: 8 open ▁▁▃█ (…) e.g. Warehouse Associate (5), Picker (2)' as plain,
    unescaped text (Slack escapes it; the terminal prints it)."""
    titles = ", ".join(f"{t} ({n})" if n > 1 else t for t, n in group.titles)
    line = f"{group.label} · {group.place}: {group.count} open, {trend_text(group.weekly)}"
    return f"{line}; e.g. {titles}" if titles else line


def summary_lines(roles: OpenRoles, *, max_groups: int = 10) -> list[str]:
    """The summary as lines of plain text: the totals, the trend, then the largest groups."""
    if roles.total == 0:
        return [f"{roles.company} lists no open roles"]
    lines = [f"{roles.company}: {roles.total} open {'role' if roles.total == 1 else 'roles'} in "
             f"{_count(len(roles.families), 'function')} and {_count(roles.metro_count, 'metro')}",
             f"posted per week, last {roles.weeks} weeks: {trend_text(roles.weekly)}"
             + (f"; {roles.undated} undated (from the board's first poll, not in the trend)" if roles.undated else "")]
    lines += [group_line(g) for g in roles.groups[:max_groups]]
    hidden = len(roles.groups) - min(max_groups, len(roles.groups)) + roles.hidden_groups
    if hidden:
        lines.append(f"…and {_count(hidden, 'smaller group')}")
    return lines


def _titles(members: Sequence[Posting], limit: int) -> tuple[tuple[str, int], ...]:
    counted = Counter(" ".join(p.title.split())[:TITLE_MAX] for p in members if p.title.strip())
    return tuple(sorted(counted.items(), key=lambda tn: (-tn[1], tn[0].casefold(), tn[0]))[:limit])


def _largest(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] == NO_PLACE, kv[0].casefold(), kv[0])))


def _commonest(names: Sequence[str]) -> str:
    counted = Counter(n for n in names if n.strip())
    return min(counted, key=lambda n: (-counted[n], n)) if counted else ""


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
