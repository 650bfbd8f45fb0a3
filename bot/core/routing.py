"""Which channels a brief goes to, and in what state. Pure: the storage layer gathers the facts.

A brief goes to every channel that follows one of its sources or watches a term it mentions, once per
channel. A watched company is found under any of its names (the workspace's aliases: a watch on "TikTok" takes
a brief about "ByteDance" when one is an alias of the other). A muted channel (or one that muted the brief's
company, under any of its names) holds it for its digest; a paused channel (the bot was removed, the channel
archived) keeps it until the bot is back."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class ChannelAudience:
    channel_id: str
    source_ids: frozenset[int]
    watch_terms: tuple[str, ...] = ()  # term keys (see storage.channels.term_key)
    muted: bool = False
    muted_companies: frozenset[str] = frozenset()  # company keys through the workspace's aliases
    watch_names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # a term's company's other names
    watch_keys: Mapping[str, str] = field(default_factory=dict)  # a term's company key
    paused: bool = False


@dataclass(frozen=True, slots=True)
class BriefFacts:
    source_ids: frozenset[int]  # every source that carried an item of the brief's story or signal
    text: str  # what the brief says and cites, for watched terms
    companies: frozenset[str]  # keys of the companies it is about (through the workspace's aliases)


@dataclass(frozen=True, slots=True)
class Route:
    channel_id: str
    reason: str  # "follows" or "watches <term>"
    status: str  # pending | held | paused
    held: str | None = None  # muted | company, for held routes


def route(facts: BriefFacts, audiences: list[ChannelAudience]) -> list[Route]:
    routes: list[Route] = []
    for audience in audiences:
        reason = _reason(facts, audience)
        if reason is None:
            continue
        if audience.paused:
            routes.append(Route(audience.channel_id, reason, "paused"))
        elif facts.companies & audience.muted_companies:
            routes.append(Route(audience.channel_id, reason, "held", "company"))
        elif audience.muted:
            routes.append(Route(audience.channel_id, reason, "held", "muted"))
        else:
            routes.append(Route(audience.channel_id, reason, "pending"))
    return routes


def _reason(facts: BriefFacts, audience: ChannelAudience) -> str | None:
    if facts.source_ids & audience.source_ids:
        return "follows"
    for term in audience.watch_terms:
        key = audience.watch_keys.get(term)
        names = (term, *audience.watch_names.get(term, ()))
        if (key is not None and key in facts.companies) or any(mentions(n, facts.text) for n in names):
            return f"watches {term}"
    return None


def mentions(term: str, text: str) -> bool:
    """Whether `text` mentions `term` as whole words, ignoring case and spacing: "kestrel" matches
    "Kestrel Commerce" but not "kestrels"."""
    return bool(term) and _pattern(term).search(text.casefold()) is not None


@lru_cache(maxsize=4096)
def _pattern(term: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in term.casefold().split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")
