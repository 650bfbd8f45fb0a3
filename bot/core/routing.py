"""Which channels a brief goes to, and in what state. Pure: the storage layer gathers the facts.

A brief goes to every channel that follows one of its sources or watches a term it mentions, once per
channel. A watched company is found under any of its names (the workspace's aliases: a watch on "TikTok" takes
a brief about "ByteDance" when one is an alias of the other). A muted channel (or one that muted the brief's
company, under any of its names) holds it for its digest; a paused channel (the bot was removed, the channel
archived) keeps it until the bot is back.

Each follow has an alert policy: `every` (each new story from the source is an alert, even one outlet's,
updated in its thread as other outlets join), `stories` (only stories at least `min_outlets` outlets carry) or
`digest` (held for the channel's digest). A follow without one takes its source kind's default: a news search
(`news:`) is broad, so `stories`; a feed or a job board followed on purpose, `every`. Watches keep the
two-outlet rule. A channel that follows a brief's story through several sources gets the best its policies
give: an alert, else a digest entry."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

EVERY, STORIES, DIGEST = "every", "stories", "digest"
ALERT_POLICIES = (EVERY, STORIES, DIGEST)  # most eager first
BROAD_KINDS = frozenset({"news"})  # searches: one outlet's item is not news enough on its own


def default_alert(kind: str) -> str:
    """The policy of a follow that chose none."""
    return STORIES if kind in BROAD_KINDS else EVERY


def alert_policy(chosen: str | None, kind: str) -> str:
    return chosen if chosen in ALERT_POLICIES else default_alert(kind)


@dataclass(frozen=True, slots=True)
class ChannelAudience:
    channel_id: str
    source_ids: frozenset[int]
    watch_terms: tuple[str, ...] = ()  # term keys (see storage.channels.term_key)
    muted: bool = False
    muted_companies: frozenset[str] = frozenset()  # company keys through the workspace's aliases
    watch_names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # a term's company's other names
    watch_keys: Mapping[str, str] = field(default_factory=dict)  # a term's company key
    policies: Mapping[int, str] = field(default_factory=dict)  # source id → its follow's policy (default: every)
    paused: bool = False


@dataclass(frozen=True, slots=True)
class BriefFacts:
    source_ids: frozenset[int]  # every source that carried an item of the brief's story or signal
    text: str  # what the brief says and cites, for watched terms
    companies: frozenset[str]  # keys of the companies it is about (through the workspace's aliases)
    subject: str = "story"  # story | signal
    outlets: int = 0  # how many outlets carried a story when it was briefed


@dataclass(frozen=True, slots=True)
class Route:
    channel_id: str
    reason: str  # "follows" or "watches <term>"
    status: str  # pending | held | paused
    held: str | None = None  # muted | company | digest | flood, for held routes
    source_id: int | None = None  # the followed source that brought it (for flood limits)


def route(facts: BriefFacts, audiences: list[ChannelAudience], *, min_outlets: int = 2) -> list[Route]:
    routes: list[Route] = []
    for audience in audiences:
        found = _reason(facts, audience, min_outlets)
        if found is None:
            continue
        reason, policy, source_id = found
        if audience.paused:
            routes.append(Route(audience.channel_id, reason, "paused", source_id=source_id))
        elif facts.companies & audience.muted_companies:
            routes.append(Route(audience.channel_id, reason, "held", "company", source_id))
        elif audience.muted:
            routes.append(Route(audience.channel_id, reason, "held", "muted", source_id))
        elif policy == DIGEST:
            routes.append(Route(audience.channel_id, reason, "held", "digest", source_id))
        else:
            routes.append(Route(audience.channel_id, reason, "pending", source_id=source_id))
    return routes


def _reason(facts: BriefFacts, audience: ChannelAudience, min_outlets: int) -> tuple[str, str, int | None] | None:
    """(why the channel gets the brief, the policy that applies, the followed source), or None."""
    widely = facts.subject != "story" or facts.outlets >= min_outlets
    followed = sorted(facts.source_ids & audience.source_ids)
    # Each followed source's policy gives an alert, a digest entry or nothing for this brief; the best wins.
    outcomes = {s: _outcome(audience.policies.get(s, EVERY), widely) for s in followed}
    for wanted in (EVERY, DIGEST):
        source = next((s for s in followed if outcomes[s] == wanted), None)
        if source is not None:
            return "follows", wanted, source
    if not widely:
        return None  # a watch keeps the two-outlet rule
    for term in audience.watch_terms:
        key = audience.watch_keys.get(term)
        names = (term, *audience.watch_names.get(term, ()))
        if (key is not None and key in facts.companies) or any(mentions(n, facts.text) for n in names):
            return f"watches {term}", EVERY, None
    return None


def _outcome(policy: str, widely: bool) -> str | None:
    """What a follow's policy makes of a brief: an alert (EVERY), a digest entry (DIGEST) or nothing (None)."""
    if policy == DIGEST:
        return DIGEST
    return EVERY if policy == EVERY or widely else None


def mentions(term: str, text: str) -> bool:
    """Whether `text` mentions `term` as whole words, ignoring case and spacing: "kestrel" matches
    "Kestrel Commerce" but not "kestrels"."""
    return bool(term) and _pattern(term).search(text.casefold()) is not None


@lru_cache(maxsize=4096)
def _pattern(term: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in term.casefold().split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")
