"""Pure online story clustering: reports of one event from many outlets join one story as they arrive.

Each item becomes a bag of normalised terms (the title weighs more than the text) and a MinHash of its title's
character shingles and its text's word pairs. It joins the active story (last report within the window) it
resembles most, if close enough, else starts one:
- a near-duplicate of one of a story's recent items (estimated shingle Jaccard) joins at once;
- otherwise the score is the cosine between the item's terms and the story's bounded term centroid, both weighted
  by how rarely a term is spread over the active stories, mixed with the embedding cosine when both have one.
An item that scores high against several stories merges them: online, a story's first reports can start apart.
Term rarity is learnt online from the active stories themselves (how many carry the term), not from items: a
story of 300 reports names its subject 300 times, and item-level document frequency would teach the clusterer
that its own subject is a common word. Everything it knows lives in the stories' states, so `load(states)` after
a restart rebuilds exactly what was there. No I/O, no clock: times come in the items.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import itertools
import json
import math
import operator
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

STATE_VERSION = 1

# English function words; headline-generic words ("says", "new", "report") are left to the learnt rarity.
STOPWORDS = frozenset(
    {
        "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
        "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did",
        "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have",
        "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its",
        "itself", "just", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only",
        "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than",
        "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too",
        "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom",
        "why", "will", "with", "would", "you", "your",
    }
)
_WORD = re.compile(r"[a-z0-9]+")
_POSSESSIVE = re.compile(r"['’]s\b")
_MERSENNE = (1 << 61) - 1
_NEAR_DUPLICATE_CANDIDATES = 5


@dataclass(frozen=True)
class StoryInput:
    """One news item as the clusterer sees it; `published_at` is timezone-aware UTC."""

    item_id: int
    title: str
    text: str
    outlet: str
    published_at: datetime
    embedding: tuple[float, ...] | None = None


@dataclass(frozen=True)
class StoryParams:
    """Knobs. `threshold` and `merge_threshold` were chosen on the labelled UCI headlines (bench/stories.py);
    that data has no text and no embeddings, so the text and embedding knobs are reasoned guesses, not tuned."""

    threshold: float = 0.15  # score needed to join a story (weighted cosine, mixed with embeddings if any)
    window: timedelta = timedelta(days=3)  # a story takes reports until this long after its last one
    signature_size: int = 32  # terms kept per story (it may grow to twice this between prunes)
    text_share: float = 0.5  # length of an item's text part relative to its title part (0 ignores the text)
    text_words: int = 120  # words of text read: the lead says what the story is; the rest adds noise
    near_duplicate: float = 0.6  # estimated shingle Jaccard with a recent item that joins regardless of the score
    minhash_size: int = 32
    fingerprints: int = 8  # MinHashes of the most recent items kept per story
    embedding_weight: float = 0.5  # share of the embedding similarity in the score when both sides have one
    embedding_floor: float = 0.5  # embedding cosine at or below this means unrelated; above, rescaled to 0..1
    embedding_alone: float = 0.85  # cosine that joins a story without the shared headline terms
    max_outlets: int = 200
    merge_threshold: float = 0.5  # an item this close to two stories merges them
    min_shared_terms: int = 2  # one shared name (a company) is not one event; costs recall on broad labels
    probe_limit: int = 100  # a term carried by more active stories than this does not look up candidates


@dataclass(frozen=True)
class Assignment:
    """Where an item went."""

    story_id: int
    is_new: bool
    score: float  # the similarity that decided; 0.0 for a new story
    reason: str  # "new", "near_duplicate" or "similar"
    merged: tuple[int, ...] = ()  # stories found to be this one: move their items here; they are gone


@dataclass(frozen=True)
class StoryState:
    """What a story persists between runs: plain data, stored as JSON."""

    story_id: int
    item_count: int
    first_at: datetime
    last_at: datetime
    # (term, summed weight over the story's items) in the order first seen: a reload then sums in the same order,
    # so a restarted clusterer decides bit for bit as one that kept running.
    terms: tuple[tuple[str, float], ...]
    outlets: tuple[str, ...]
    fingerprints: tuple[tuple[int, ...], ...]  # MinHashes of recent items
    centroid: tuple[float, ...] | None = None  # mean embedding of the items that had one
    embedded_count: int = 0

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "v": STATE_VERSION, "story_id": self.story_id, "item_count": self.item_count,
            "first_at": self.first_at.isoformat(), "last_at": self.last_at.isoformat(),
            "terms": [[t, w] for t, w in self.terms], "outlets": list(self.outlets),
            "fingerprints": [list(f) for f in self.fingerprints],
            "centroid": list(self.centroid) if self.centroid is not None else None,
            "embedded_count": self.embedded_count,
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> StoryState:
        data = json.loads(text)
        if data.get("v") != STATE_VERSION:
            raise ValueError(f"story state version {data.get('v')!r}, expected {STATE_VERSION}")
        centroid = data["centroid"]
        return cls(
            story_id=int(data["story_id"]), item_count=int(data["item_count"]),
            first_at=datetime.fromisoformat(data["first_at"]), last_at=datetime.fromisoformat(data["last_at"]),
            terms=tuple((str(t), float(w)) for t, w in data["terms"]),
            outlets=tuple(str(o) for o in data["outlets"]),
            fingerprints=tuple(tuple(int(h) for h in f) for f in data["fingerprints"]),
            centroid=tuple(float(x) for x in centroid) if centroid is not None else None,
            embedded_count=int(data["embedded_count"]),
        )


def normalise_words(text: str) -> list[str]:
    """Lower-case ASCII words without accents or possessives (scripts other than Latin are dropped)."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return _WORD.findall(_POSSESSIVE.sub("", folded))


def _stem(word: str) -> str:
    # Plurals only (Harman's S-stemmer): cheap and seldom wrong ("news" does become "new").
    if len(word) > 4 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("us", "ss", "is")):
        return word[:-1]
    return word


def content_terms(words: Iterable[str]) -> list[str]:
    """Content terms: stop words and single characters dropped, plurals folded; order kept."""
    return [_stem(w) for w in words if len(w) > 1 and w not in STOPWORDS]


# Capitalised words ("Kestrel", not the acronym "MH370") in a row.
_NAME_RUN = re.compile(r"\b[A-Z][a-z][\w'’&.-]*(?:\s+[A-Z][a-z][\w'’&.-]*)+")


def join_names(text: str) -> str:
    """Capitalised runs of words ("Kestrel Commerce", "Federal Reserve") as one word, so that sharing a name
    counts once, not once per word: two reports about one company are not thereby about one event. In Title
    Case text capitals say nothing about names, so it is left as it is."""
    words = [w for w in text.split()[1:] if len(w) > 3]
    if words and sum(w[0].isupper() for w in words) >= 0.75 * len(words):
        return text

    def joined(match: re.Match[str]) -> str:
        parts = match.group(0).split()
        while len(parts) > 1 and parts[0].lower() in STOPWORDS:  # "In Kent", "The Harbor Ledger"
            parts = parts[1:]
        lead = match.group(0)[: match.group(0).index(parts[0])]
        return lead + "".join(parts)

    return _NAME_RUN.sub(joined, text)


def _outlet_terms(outlet: str) -> set[str]:
    # An outlet's own name ("… appeared first on The Harbor Ledger") says nothing about the event.
    return set(content_terms(normalise_words(outlet))) | set(content_terms(normalise_words(join_names(outlet))))


def title_terms(item: StoryInput) -> list[str]:
    outlet = _outlet_terms(item.outlet)
    return [t for t in content_terms(normalise_words(join_names(item.title))) if t not in outlet]


def item_vector(item: StoryInput, params: StoryParams) -> dict[str, float]:
    """Term -> weight: each title term 1; the text's terms (sub-linear counts) scaled so that the text part is
    `text_share` as long as the title part, whatever the text's length, and added on top."""
    outlet = _outlet_terms(item.outlet)
    vec = dict.fromkeys(title_terms(item), 1.0)
    counts: dict[str, int] = {}
    for term in content_terms(normalise_words(join_names(item.text))[: params.text_words]):
        if term in outlet:
            continue
        counts[term] = counts.get(term, 0) + 1
    if counts and params.text_share > 0:
        text = {term: 1.0 + math.log(count) for term, count in counts.items()}
        scale = params.text_share * math.sqrt(len(vec)) if vec else 1.0
        scale /= math.sqrt(sum(v * v for v in text.values()))
        for term, v in text.items():
            vec[term] = vec.get(term, 0.0) + scale * v
    return vec


@functools.cache
def _permutations(size: int) -> tuple[tuple[int, int], ...]:
    # Fixed affine hash permutations derived from their index, so every process and every restart agrees.
    out = []
    for i in range(size):
        digest = hashlib.blake2b(f"briefbot-minhash-{i}".encode(), digest_size=16).digest()
        out.append((int.from_bytes(digest[:8], "big") % (_MERSENNE - 1) + 1, int.from_bytes(digest[8:], "big")))
    return tuple(out)


def shingles(title: str, text: str = "", text_words: int = 120) -> set[str]:
    """Character 4-grams of the title (spelling variants such as -ise/-ize stay close) and word pairs of the text's
    lead: a syndicated copy under a new headline still shares most of them, two outlets' own texts do not."""
    joined = " ".join(normalise_words(title))
    grams = {joined[i : i + 4] for i in range(len(joined) - 3)} or ({joined} if joined else set())
    words = normalise_words(text)[:text_words]
    grams.update(f"|{a} {b}" for a, b in itertools.pairwise(words))
    return grams


def minhash(grams: Iterable[str], size: int) -> tuple[int, ...]:
    """MinHash of a shingle set; empty for an empty set (which resembles nothing)."""
    base = [int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "big") for g in sorted(grams)]
    if not base:
        return ()
    # 32 bits of each minimum are plenty to compare and keep the stored state small.
    return tuple(min((a * x + b) % _MERSENNE for x in base) & 0xFFFFFFFF for a, b in _permutations(size))


def _resemblance(a: Sequence[int], b: Sequence[int]) -> float:
    return sum(map(operator.eq, a, b)) / len(a) if a and len(a) == len(b) else 0.0


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) != len(b):
        return 0.0
    dot = sum(map(operator.mul, a, b))
    norm = math.sqrt(sum(map(operator.mul, a, a)) * sum(map(operator.mul, b, b)))
    return dot / norm if norm else 0.0


@dataclass
class _Story:
    story_id: int
    item_count: int
    first_at: datetime
    last_at: datetime
    terms: dict[str, float]
    outlets: list[str]
    fingerprints: list[tuple[int, ...]]
    centroid: list[float] | None = None
    embedded_count: int = 0

    def snapshot(self) -> StoryState:
        return StoryState(
            story_id=self.story_id, item_count=self.item_count, first_at=self.first_at, last_at=self.last_at,
            terms=tuple(self.terms.items()), outlets=tuple(self.outlets), fingerprints=tuple(self.fingerprints),
            centroid=tuple(self.centroid) if self.centroid is not None else None,
            embedded_count=self.embedded_count,
        )


@dataclass
class StoryClusterer:
    """The active stories and their term index. Feed items in publication order with `assign`; store the states
    from `take_changed()`; when an assignment names `merged` stories, move their items to its story and retire
    them. After a restart, `load` the states of the stories whose last report is within the window."""

    params: StoryParams = field(default_factory=StoryParams)
    new_id: Callable[[], int] | None = None  # the database's id source; a local counter if none
    _stories: dict[int, _Story] = field(default_factory=dict, init=False)
    _postings: dict[str, set[int]] = field(default_factory=dict, init=False)
    _expiry: list[tuple[datetime, int]] = field(default_factory=list, init=False)  # heap, lazily pruned
    _dirty: set[int] = field(default_factory=set, init=False)
    _retired: dict[int, StoryState] = field(default_factory=dict, init=False)  # changed, then expired
    _horizon: datetime | None = field(default=None, init=False)  # latest publication time seen

    def __post_init__(self) -> None:
        if self.new_id is None:
            self.new_id = itertools.count(1).__next__

    def load(self, states: Iterable[StoryState]) -> None:
        """Make stored stories active again (after a restart); a loaded state replaces an active story with
        its id, and neither counts as changed."""
        for state in states:
            self._drop(state.story_id)
            self._retired.pop(state.story_id, None)
            story = _Story(
                story_id=state.story_id, item_count=state.item_count, first_at=state.first_at,
                last_at=state.last_at, terms=dict(state.terms), outlets=list(state.outlets),
                fingerprints=list(state.fingerprints),
                centroid=list(state.centroid) if state.centroid is not None else None,
                embedded_count=state.embedded_count,
            )
            self._stories[story.story_id] = story
            for term in story.terms:
                self._postings.setdefault(term, set()).add(story.story_id)
            heapq.heappush(self._expiry, (story.last_at, story.story_id))

    def active(self) -> list[StoryState]:
        return [self._stories[sid].snapshot() for sid in sorted(self._stories)]

    def take_changed(self) -> list[StoryState]:
        """States of the stories created or grown since the last call, by id, for the caller to store."""
        changed = dict(self._retired)
        changed.update((sid, self._stories[sid].snapshot()) for sid in self._dirty if sid in self._stories)
        self._dirty.clear()
        self._retired.clear()
        return [changed[sid] for sid in sorted(changed)]

    def assign(self, item: StoryInput) -> Assignment:
        """Put the item in the story it reports on, or in a new one; the item is part of it afterwards."""
        p = self.params
        if item.published_at.tzinfo is None:
            raise ValueError("published_at must be timezone-aware")
        if self._horizon is None or item.published_at > self._horizon:
            self._horizon = item.published_at
            self._expire(item.published_at - p.window)
        vec = item_vector(item, p)
        signature = minhash(shingles(item.title, item.text, p.text_words), p.minhash_size)
        single = _Story(
            0, 1, item.published_at, item.published_at, vec, [item.outlet] if item.outlet else [], [signature],
            list(item.embedding) if item.embedding is not None else None, int(item.embedding is not None),
        )
        ranked = self._ranked(vec, item, set(title_terms(item)))
        target: tuple[int, float, str] | None = None
        # A near-duplicate also shares most terms, so it ranks near the top even when a story has drifted.
        for sid, _ in ranked[:_NEAR_DUPLICATE_CANDIDATES]:
            near = max((_resemblance(signature, f) for f in self._stories[sid].fingerprints), default=0.0)
            if near >= p.near_duplicate:
                target = (sid, near, "near_duplicate")
                break
        if target is None and ranked and ranked[0][1] >= p.threshold:
            target = (*ranked[0], "similar")
        if target is None:
            assert self.new_id is not None
            sid = self.new_id()
            if sid in self._stories:
                raise ValueError(f"story id {sid} is already in use")
            self._stories[sid] = _Story(sid, 0, item.published_at, item.published_at, {}, [], [])
            self._fold(self._stories[sid], single)
            return Assignment(sid, True, 0.0, "new")
        # An item this close to several stories shows they are one, split because their first reports came
        # before anything tied them together. The biggest (then the oldest) keeps its id.
        group = [target[0], *(sid for sid, score in ranked if score >= p.merge_threshold and sid != target[0])]
        keep = min(group, key=lambda sid: (-self._stories[sid].item_count, sid))
        merged = tuple(sorted(sid for sid in group if sid != keep))
        for sid in merged:
            other = self._stories[sid]
            self._drop(sid)
            self._fold(self._stories[keep], other)
        self._fold(self._stories[keep], single)
        return Assignment(keep, False, target[1], target[2], merged)

    def _ranked(self, vec: dict[str, float], item: StoryInput, titled: set[str]) -> list[tuple[int, float]]:
        """Candidate stories in the item's window, by score, best first (ties: the oldest id). The gate of
        `min_shared_terms` counts headline terms only: a story's text terms pile up as it grows, and generic
        words ("company", "online") would otherwise let anything about the same company in."""
        p = self.params
        active = len(self._stories) + 1
        weights: dict[str, float] = {}

        def weight(term: str) -> float:
            # Inverse "story frequency" over the active stories, smoothed; a term no story has weighs 1 + log S.
            if term not in weights:
                weights[term] = math.log(active / (len(self._postings.get(term, ())) + 1)) + 1.0
            return weights[term]

        # Candidates come through the terms that few stories carry; a word that dozens of stories share finds
        # nothing worth scoring and would make every lookup visit them all. It still counts in the score.
        candidates: set[int] = set()
        for term in vec:
            posting = self._postings.get(term, set())
            if len(posting) <= p.probe_limit:
                candidates |= posting
        if item.embedding is not None:
            # Without an ANN index every embedded story is a candidate: O(stories × dimensions) per item.
            candidates.update(sid for sid, story in self._stories.items() if story.centroid is not None)
        item_norm = math.sqrt(sum((x * weight(t)) ** 2 for t, x in vec.items()))
        at = item.published_at
        scored = []
        for sid in candidates:
            story = self._stories[sid]
            if not story.first_at - p.window <= at <= story.last_at + p.window:
                continue
            score = 0.0
            shared = [t for t in vec if t in story.terms]
            gate = sum(1 for t in titled if t in story.terms) if titled else len(shared)
            gated = bool(shared) and gate >= min(p.min_shared_terms, len(titled) or len(vec))
            if gated:
                dot = sum(vec[t] * weight(t) ** 2 * story.terms[t] for t in shared)
                score = dot / (item_norm * math.sqrt(sum((c * weight(t)) ** 2 for t, c in story.terms.items())))
            # Embeddings of another size come from another model: no comparison. Without the term gate an embedding
            # must be very close on its own, or one company's unrelated news would join again through it.
            if (item.embedding is not None and story.centroid is not None
                    and len(item.embedding) == len(story.centroid)):
                cosine = _cosine(item.embedding, story.centroid)
                if gated or cosine >= p.embedding_alone:
                    related = (cosine - p.embedding_floor) / (1.0 - p.embedding_floor)
                    score = (1.0 - p.embedding_weight) * score + p.embedding_weight * max(0.0, related)
            if score > 0.0:
                scored.append((sid, score))
        scored.sort(key=lambda s: (-s[1], s[0]))
        return scored

    def _fold(self, story: _Story, other: _Story) -> None:
        """Add `other` (a new item as a story of one, or a story found to be the same) to an active story."""
        p = self.params
        if other.last_at > story.last_at or story.item_count == 0:
            story.last_at = other.last_at
            heapq.heappush(self._expiry, (story.last_at, story.story_id))
        story.first_at = min(story.first_at, other.first_at)
        story.item_count += other.item_count
        for term, weight in other.terms.items():
            if term not in story.terms:
                self._postings.setdefault(term, set()).add(story.story_id)
            story.terms[term] = story.terms.get(term, 0.0) + weight
        if len(story.terms) > 2 * p.signature_size:
            for term, _ in sorted(story.terms.items(), key=lambda kv: (-kv[1], kv[0]))[p.signature_size :]:
                del story.terms[term]
                self._unpost(term, story.story_id)
        for outlet in other.outlets:
            if outlet not in story.outlets and len(story.outlets) < p.max_outlets:
                story.outlets.append(outlet)
        story.fingerprints = [*story.fingerprints, *other.fingerprints][-p.fingerprints :]
        if other.centroid is not None:
            if story.centroid is None or len(story.centroid) != len(other.centroid):
                story.centroid, story.embedded_count = list(other.centroid), other.embedded_count
            else:
                story.embedded_count += other.embedded_count
                share = other.embedded_count / story.embedded_count
                story.centroid = [c + (x - c) * share for c, x in zip(story.centroid, other.centroid, strict=True)]
        self._dirty.add(story.story_id)

    def _unpost(self, term: str, sid: int) -> None:
        posting = self._postings.get(term)
        if posting is not None:
            posting.discard(sid)
            if not posting:
                del self._postings[term]

    def _expire(self, before: datetime) -> None:
        while self._expiry and self._expiry[0][0] < before:
            last_at, sid = heapq.heappop(self._expiry)
            story = self._stories.get(sid)
            if story is not None and story.last_at == last_at:
                self._retire(sid)

    def _retire(self, sid: int) -> None:
        # Out of the window: it takes no more reports, but a change not yet taken must still reach storage.
        if sid in self._dirty and sid in self._stories:
            self._retired[sid] = self._stories[sid].snapshot()
        self._drop(sid)

    def _drop(self, sid: int) -> None:
        self._dirty.discard(sid)
        story = self._stories.pop(sid, None)
        if story is not None:
            for term in story.terms:
                self._unpost(term, sid)


LEAD_WORDS = 60  # the lead says what the event is; reports of one event agree most there


def embedding_text(title: str, text: str, *, lead_words: int = LEAD_WORDS) -> str:
    """What to embed for an item: its headline and the lead of its text; "" when both are empty."""
    return "\n".join(part for part in (" ".join(title.split()), " ".join(text.split()[:lead_words])) if part)
