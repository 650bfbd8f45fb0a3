"""Ranking what full-text search found for a question: text relevance, boosted by the names the question
uses, by recency, and by job postings when the question is about hiring. A question about one story (its best
candidate matches it and its story leads the rest) gets that story's reports first, newest first; a broad one
is spread so one story doesn't fill the answer. Pure: candidates and `now` in, an ordered list out."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import datetime

from bot.core.question import JOB_WORDS, Question

ENTITY_BOOST = 0.6  # per name of the question's that a candidate mentions, up to two
JOB_BOOST = 1.0  # a posting or a hiring signal's brief, when the question is about hiring
BRIEF_BOOST = 0.15  # a brief already summarises its story or signal
RECENCY_HALF_LIFE_DAYS = 30.0
RECENCY_WEIGHT = 0.35  # how much of the score age can take away
PER_GROUP = 2  # candidates kept per story or signal when the question is broad, so one story does not fill it
FOCUS = 5  # reports of the story a specific question is about, cited first
MATCHED = 2  # words of the question the best candidate must have for the question to be about its story
DOMINANT = 0.5  # share of the first FOCUS places' score that story must hold (else several stories answer it)
_WORD = re.compile(r"[0-9a-z]+")
_SUFFIXES = ("ings", "ing", "ed", "es", "s", "e")  # "watching" and "watch", "sales" and "sale" meet


@dataclass(frozen=True, slots=True)
class Candidate:
    kind: str  # brief | item
    id: int
    text_score: float  # from full-text search; higher is better, any scale
    title: str
    text: str
    at: datetime
    url: str = ""
    outlet: str = ""
    item_kind: str = ""  # news | job, for items
    entities: tuple[str, ...] = ()
    group: str = ""  # "story:12" / "signal:3": what the candidate is part of
    score: float = 0.0  # set by `rank`


def rank(question: Question, candidates: list[Candidate], now: datetime, *, limit: int = 8) -> list[Candidate]:
    """The best `limit` candidates, best first, each with its final `score`, at most PER_GROUP of any one story."""
    return _best(scored(question, candidates, now), limit)


def scored(question: Question, candidates: list[Candidate], now: datetime) -> list[Candidate]:
    """Every candidate inside the question's window with its final `score`, best first (newer first on ties)."""
    if not candidates:
        return []
    best: dict[str, float] = {}  # items and briefs are scored by different indexes: normalise each on its own
    for c in candidates:
        best[c.kind] = max(best.get(c.kind, 0.0), c.text_score)
    names = [e.lower() for e in question.entities]
    out = []
    for c in candidates:
        if (question.since and c.at < question.since) or (question.until and c.at >= question.until):
            continue
        score = max(c.text_score, 0.0) / (best[c.kind] or 1.0)
        haystack = " ".join((c.title, c.text, c.outlet, *c.entities)).lower()  # a posting's outlet is its company
        mentions = sum(1 for name in names if name in haystack)
        score *= 1 + ENTITY_BOOST * min(mentions, 2)
        if question.about_jobs and (c.item_kind == "job" or c.group.startswith("signal:")):
            score *= 1 + JOB_BOOST
        if c.kind == "brief":
            score *= 1 + BRIEF_BOOST
        age_days = max((now - c.at).total_seconds() / 86400, 0.0)
        score *= 1 - RECENCY_WEIGHT + RECENCY_WEIGHT * math.pow(0.5, age_days / RECENCY_HALF_LIFE_DAYS)
        out.append(replace(c, score=score))
    return sorted(out, key=_order)


def _order(c: Candidate) -> tuple[float, float, str, int]:
    return -c.score, -c.at.timestamp(), c.kind, c.id


def focus(terms: list[str], ranked: list[Candidate]) -> str:
    """The story or signal a question is about (its group, "story:12"), or "" when the question is broad.
    It is the best candidate's when that candidate has at least MATCHED of the question's words (`terms`, as
    searched; one rare word matched is luck, and a one-word question is broad) and its group holds at least
    DOMINANT of the score of the first FOCUS candidates (not so when several stories answer about as well).
    `ranked`: best first, as `scored` returns them."""
    if not ranked or not ranked[0].group:
        return ""
    best = ranked[0]
    asked = {_stem(w) for t in terms for w in _WORD.findall(t.lower()) if len(w) > 1}
    has = {_stem(w) for w in _WORD.findall(f"{best.title} {best.text} {best.outlet}".lower())}
    if len(asked & has) < MATCHED:
        return ""
    first = ranked[:FOCUS]
    held = sum(c.score for c in first if c.group == best.group)
    return best.group if held >= DOMINANT * sum(c.score for c in first) else ""


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def above(ranked: list[Candidate], share: float, *, keep: str = "") -> list[Candidate]:
    """The candidates scoring at least `share` of the best (weaker ones are noise), and every one of the group
    `keep` (the story the question is about: its weak matches are still its reports). `ranked`: best first."""
    return [c for c in ranked if c.score >= share * ranked[0].score or (keep and c.group == keep)]


def focused(ranked: list[Candidate], group: str, *, limit: int) -> list[Candidate]:
    """The answer's order: for a question about one story (`group`, from `focus`), its best brief, then its
    FOCUS best-matching reports newest first, then the rest by score at most PER_GROUP per group. For a broad
    question (`group` ""), the best by score, at most PER_GROUP per group. `ranked`: best first.
    (Topping the story's reports up with its unmatched ones, pulled by story id, measured no better in
    bench/ask_quality.py and cost a hand-written question where the clusterer had merged two events.)"""
    if not group:
        return _best(ranked, limit)
    ours = [c for c in ranked if c.group == group]
    items = [c for c in ours if c.kind == "item"][:FOCUS]
    first = [c for c in ours if c.kind == "brief"][:1] + sorted(items, key=lambda c: (-c.at.timestamp(), -c.id))
    return (first + _best([c for c in ranked if c.group != group], limit - len(first)))[:limit]


def _best(candidates: list[Candidate], limit: int) -> list[Candidate]:
    """The first `limit` by score (newer first on ties), at most PER_GROUP of any one story or signal."""
    kept: list[Candidate] = []
    per_group: dict[str, int] = {}
    if limit <= 0:
        return kept
    for c in sorted(candidates, key=_order):
        if c.group:
            if per_group.get(c.group, 0) >= PER_GROUP:
                continue
            per_group[c.group] = per_group.get(c.group, 0) + 1
        kept.append(c)
        if len(kept) == limit:
            break
    return kept


def search_terms(question: Question, *, limit: int = 8) -> list[str]:
    """The words to search for: the question's terms, names first, at most `limit` (a long OR is slow).
    Hiring words ("hiring", "roles") pick postings through the ranking, not the search: postings rarely say them."""
    named = [w for e in question.entities for w in e.lower().split()]
    terms = [t for t in question.terms if not (question.about_jobs and t in JOB_WORDS)] or list(question.terms)
    ordered = [t for t in named if t in terms] + [t for t in terms if t not in named]
    return list(dict.fromkeys(ordered))[:limit]  # a word in two names ("… CEO", "… CEO") counts once


RRF_K = 60  # reciprocal rank fusion's constant: how much the first places outweigh the rest


def fuse(rankings: list[list[Candidate]], *, limit: int) -> list[Candidate]:
    """Merge best-first lists (words, meaning) by reciprocal rank fusion: each candidate scores the sum of
    1 / (RRF_K + its place) over the lists it is in; one story still fills at most PER_GROUP places."""
    return _best(fused(rankings), limit)


def fused(rankings: list[list[Candidate]]) -> list[Candidate]:
    """Every candidate of best-first lists, scored by reciprocal rank fusion, best first (as `fuse`, uncapped)."""
    scores: dict[tuple[str, int], float] = {}
    first: dict[tuple[str, int], Candidate] = {}
    for ranking in rankings:
        for place, c in enumerate(ranking, start=1):
            key = (c.kind, c.id)
            scores[key] = scores.get(key, 0.0) + 1.0 / (RRF_K + place)
            first.setdefault(key, c)
    return sorted((replace(c, score=scores[key]) for key, c in first.items()), key=_order)
