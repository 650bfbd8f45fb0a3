"""A hiring question ("what else has Kestrel posted in logistics?", "is TikTok hiring?", "who is hiring in
sales?"): which of the workspace's hiring companies it names, and which job families its words ask about, so
its answer is those companies' postings in those families, not any board's that shares a word with it.
Pure: the question, the company names and the job taxonomy in, answers out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from bot.core.companies import CompanyIdentity, held_by
from bot.core.jobs import OTHER, family_of, job_function, metro_named
from bot.core.question import Question
from bot.core.retrieval import Candidate

_PIECE = re.compile(r"[^\W_]+")
LIFT = 0.9  # a posting that answers the question scores at least this share of the best word match


@dataclass(frozen=True, slots=True)
class HiringScope:
    companies: frozenset[str]  # the keys of the companies named (through the workspace's aliases); empty: any
    names: frozenset[str]  # the names their postings are filed under here; empty: any company's
    families: frozenset[str]  # job families the question names ("logistics"); empty: every family
    metros: frozenset[str] = frozenset()  # metros the question names ("Seattle"; "Kent" is Seattle); empty: any



def hiring_scope(question: Question, identity: CompanyIdentity, companies: Iterable[str]) -> HiringScope | None:
    """The scope of a hiring question: the workspace's hiring companies it names (`companies`: the names on its
    job postings), by any of their names, a capitalised word of exactly one of them, or (written in lower case)
    a whole name, the job families its other words name and the metros its other capitalised places stand for.
    None for a question not about hiring or naming none of those."""
    if not question.about_jobs:
        return None
    asked = _pieces(" ".join((*question.entities, *question.terms)))
    for entity in question.entities:  # an alias's other names (with_company_names adds them in the app)
        if (key := identity.key(entity)) is not None:
            asked |= _pieces(" ".join(identity.names(key)))
    by_key: dict[str, set[str]] = {}
    for name in companies:
        if not asked & _pieces(name):  # keying every board's name costs more than the rest of the question
            continue
        key = identity.key(name)
        if key is not None:
            by_key.setdefault(key, set()).add(name)
    named: set[str] = set()
    companies_named: set[str] = set()  # entities read as companies are not also places ("Phoenix" the board)
    for entity in question.entities:
        key = identity.key(entity)
        if key in by_key:
            named.add(key)
            companies_named.add(entity)
            continue
        if metro_named(entity) is not None:  # "Boston" is the place, not a word of "Boston Dynamics"
            continue
        holding = {k for k, names in by_key.items() if any(held_by(entity, n) for n in names)}
        if len(holding) == 1:
            named |= holding
            companies_named.add(entity)
    if not named:  # written in lower case ("what has tiktok posted?"): a company's whole name, never a job word
        found = {phrase: key for phrase in _phrases(question.terms)
                 if (key := identity.key(phrase)) in by_key and (" " in phrase or job_function(phrase) == OTHER)}
        # the longest names read: "rhombus power" is Rhombus Power, not also Rhombus
        longest = [phrase for phrase in found
                   if not any(phrase != other and f" {phrase} " in f" {other} " for other in found)]
        named = {found[phrase] for phrase in longest}
        companies_named.update(longest)
    # a company's own words name no family or place: "Is Kestrel Logistics hiring?" asks about every role
    own = {w for name in companies_named for w in name.casefold().split()}
    families = asked_families(replace(question, terms=tuple(t for t in question.terms if t not in own)))
    metros = asked_metros(replace(question, entities=tuple(e for e in question.entities if e not in companies_named)))
    if not named and not families and not metros:
        return None
    return HiringScope(companies=frozenset(named), names=frozenset(n for key in named for n in by_key[key]),
                       families=families, metros=metros)


def _pieces(text: str) -> set[str]:
    return set(_PIECE.findall(text.casefold()))


def _phrases(terms: tuple[str, ...]) -> list[str]:
    """Each term, and each run of two or three in a row ("kestrel commerce")."""
    return [" ".join(terms[i:i + n]) for n in (1, 2, 3) for i in range(len(terms) - n + 1)]


def asked_families(question: Question) -> frozenset[str]:
    """The job families the question's words name, read as job titles are, a word or two or three in a row:
    "logistics" and "warehouse" are fulfillment and logistics, "customer success" is customer support,
    "machine learning" data and machine learning; words no job title uses name none."""
    return frozenset(family_of(f) for phrase in _phrases(question.terms) if (f := job_function(phrase)) != OTHER)


def asked_metros(question: Question) -> frozenset[str]:
    """The metros the question's capitalised place names stand for ("in Seattle", "in Kent": Seattle). Only
    names as written, whole: a lower-case word or part of a company's name ("Kestrel Commerce") is none."""
    return frozenset(m for entity in question.entities if (m := metro_named(entity)) is not None)


def scoped(found: list[Candidate], scope: HiringScope, postings: list[Candidate],
           metros: Mapping[int, tuple[str, ...]] | None = None) -> list[Candidate]:
    """What full-text search `found`, without postings that do not answer the question (another company's
    when it names companies, or one in another family than those it asks about), and the scope's `postings`,
    found or not, each scored at least LIFT of the best matching item: they answer it whether or not they
    repeat its words (those that do come first)."""
    where = metros or {}
    kept = [c for c in found if c.kind != "item" or c.item_kind != "job" or _answers(c, scope, where.get(c.id, ()))]
    best = max((c.text_score for c in kept if c.kind == "item"), default=1.0)
    lifted = LIFT * best
    wanted = {c.id for c in postings} | {c.id for c in kept if c.kind == "item" and c.item_kind == "job"
                                          and _asked_for(c, scope, where.get(c.id, ()))}
    kept = [replace(c, text_score=max(c.text_score, lifted)) if c.kind == "item" and c.id in wanted else c
            for c in kept]
    have = {c.id for c in kept if c.kind == "item"}
    return kept + [replace(c, text_score=lifted) for c in postings if c.id not in have]


def _answers(posting: Candidate, scope: HiringScope, metros: tuple[str, ...]) -> bool:
    """A posting of a company named (any, when none is), in a family asked about or in none the taxonomy knows
    (a title it cannot place may still be one), in a metro asked about or in no known place."""
    if scope.names and posting.outlet not in scope.names:
        return False
    if scope.metros and metros and not scope.metros & set(metros):  # a posting with no known place may be one
        return False
    family = _family(posting)
    return not scope.families or family == OTHER or family in scope.families


def _asked_for(posting: Candidate, scope: HiringScope, metros: tuple[str, ...]) -> bool:
    """In a family or a metro the question names (not merely in none the taxonomy knows)."""
    return bool((scope.families and _family(posting) in scope.families) or (scope.metros & set(metros)))


def _family(posting: Candidate) -> str:
    function = job_function(posting.title)
    return OTHER if function == OTHER else family_of(function)
