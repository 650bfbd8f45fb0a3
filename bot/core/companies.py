"""Company identity: one key for the many ways a company's name is written ("Acme Holdings, Inc.", "ACME
HOLDINGS", "Acme Holdings Inc"), and aliases that make several names one company ("Alphabet" is "Google").
Pure: no I/O but reading the built-in alias list from the package's data, no clock.

A key is the name case-folded (NFKC), accents on Latin letters dropped, initialisms closed up ("J.P." is
"jp", "S.p.A." is "spa"), "&" read as "and", apostrophes dropped and other punctuation read as a space, a
leading "The" dropped, a trailing aside in brackets dropped ("Advanced Technology Services (ATS)"), and legal
suffixes dropped from the end, repeatedly ("Smith & Co. GmbH" is "smith"). Words in the middle of a name
stay, and so do ".com", "Group" and "Holdings": "Alarm.com" is not "Alarm", nor "Match Group" "Match". A name
that would lose everything keeps its cleaned text ("Inc." is "inc").
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from bot.core.inputs import clean_line

NAME_MAX = 300  # the longest company name stored as written (company_aliases.alias / canonical)
KEY_MAX = 200  # the longest key (company_aliases.alias_key / canonical_key); longer keys are cut
_INPUT_MAX = 4 * NAME_MAX  # what is read of a cleaned name: the work per character stays bounded

# Legal forms, as they read once keyed ("L.L.C." is "llc", "S.p.A." is "spa"). Only ever dropped from the end.
LEGAL_SUFFIXES = frozenset({
    "inc", "incorporated", "llc", "llp", "lp", "pllc", "ltd", "ltda", "limited", "corp", "corporation", "co",
    "company", "gmbh", "kg", "ag", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "plc", "pty", "pte", "kk",
    "oy", "oyj", "ab", "asa", "aps", "se", "ulc", "bhd", "sdn",
})
_APOSTROPHES = dict.fromkeys(map(ord, "'’‘ʼ`´"), None)
_INITIALISM = re.compile(r"(?<![^\W_])[^\W_](?:\.[^\W_])+\.?(?![^\W_])")  # j.p. · s.p.a · l.l.c.
_BRACKETS = frozenset("()")
_SURROGATES = re.compile("[\ud800-\udfff]")


class CompanyNameError(ValueError):
    """A name with nothing in it to key: no letter, digit or symbol once cleaned."""


def clean_name(name: str) -> str:
    """A company name as it is shown and stored: one line, control and invisible characters (and lone
    surrogates, which no database column takes) dropped, spaces collapsed, NFKC (a full-width "ＡＣＭＥ" reads
    "ACME"). Cleaned whole (linear, in C), then read up to a bound, not cut to NAME_MAX: callers say when it is
    too long."""
    text = clean_line(_SURROGATES.sub("", name))[:_INPUT_MAX]
    return clean_line(unicodedata.normalize("NFKC", text))


def company_key(name: str) -> str:
    """The comparable form of a company name (module docstring); never empty, at most KEY_MAX characters.
    Raises CompanyNameError when the name holds nothing but spaces, controls and invisible characters."""
    cleaned = clean_name(name)
    key = " ".join(_trimmed(_tokens(cleaned))) or " ".join(unicodedata.normalize("NFKC", cleaned.casefold()).split())
    key = key[:KEY_MAX].rstrip()
    if not key:
        raise CompanyNameError("a company name needs at least one letter or digit")
    return key


def resolve(name: str, aliases: Mapping[str, str]) -> str:
    """The key of the company `name` stands for, through `aliases` (alias key → canonical key)."""
    return canonical(company_key(name), aliases)


def canonical(key: str, aliases: Mapping[str, str]) -> str:
    """Follow `key` through `aliases` to the end of its chain ("musically" → "bytedance" → "tiktok"). A map
    that goes round in a circle (storage refuses to make one, but a data file could) ends at the circle's
    smallest key, so every name in it resolves to the same company."""
    path = [key]
    seen = {key}
    while (following := aliases.get(path[-1])) is not None:
        if following in seen:
            return min(path[path.index(following):])
        path.append(following)
        seen.add(following)
    return path[-1]


def chain(key: str, aliases: Mapping[str, str]) -> list[str]:
    """The keys `key` passes through to its canonical one, itself first (a circle is not walked twice)."""
    path = [key]
    while (following := aliases.get(path[-1])) is not None and following not in path:
        path.append(following)
    return path


@dataclass(frozen=True, slots=True)
class BuiltinAlias:
    """One pair from bot/data/company_aliases.json: `alias` is another name of `canonical`."""

    alias: str
    canonical: str
    why: str

    @property
    def alias_key(self) -> str:
        return company_key(self.alias)

    @property
    def canonical_key(self) -> str:
        return company_key(self.canonical)


@cache
def builtin_aliases() -> tuple[BuiltinAlias, ...]:
    """The aliases every workspace starts with (a workspace's own alias for the same name wins)."""
    data = json.loads(resources.files("bot.data").joinpath("company_aliases.json").read_text("utf-8"))
    return tuple(BuiltinAlias(a["alias"], a["canonical"], a.get("why", "")) for a in data["aliases"])


@cache
def builtin_alias_map() -> dict[str, str]:
    return {a.alias_key: a.canonical_key for a in builtin_aliases()}


@dataclass(frozen=True, slots=True)
class CompanyIdentity:
    """One workspace's view of company names: the key each name resolves to (through its aliases), and the
    names the aliases write, so a company can be found in text under any of them."""

    aliases: Mapping[str, str] = field(default_factory=dict)  # alias key → canonical key
    written: tuple[tuple[str, str], ...] = ()  # (a name as an alias writes it, its key): both sides of each alias

    def key(self, name: str) -> str | None:
        """The company `name` stands for; None for a name with nothing in it to key."""
        try:
            return resolve(name, self.aliases)
        except CompanyNameError:
            return None

    def same(self, a: str, b: str) -> bool:
        """Whether two names are one company."""
        key = self.key(a)
        return key is not None and key == self.key(b)

    def names(self, key: str) -> list[str]:
        """Every name the aliases write for the company `key` resolves to, alphabetically."""
        target = canonical(key, self.aliases)
        return sorted({n for n, k in self.written if canonical(k, self.aliases) == target}, key=str.casefold)

    def display(self, key: str, seen: Sequence[str] = ()) -> str:
        """How to name the company: as its canonical alias writes it ("TikTok"), else the commonest of the
        names it was `seen` under (a board's company name), else its key."""
        target = canonical(key, self.aliases)
        written = next((n for n, k in self.written if k == target), None)
        if written is not None:
            return written
        counted = Counter(n for n in seen if n.strip())
        return min(counted, key=lambda n: (-counted[n], n)) if counted else target


def held_by(asked: str, name: str) -> bool:
    """Whether `name` holds `asked` as one of its words or as its first words ("Kestrel" and "Kestrel Commerce"
    are held by "Kestrel Commerce"); letters alone are not enough ("Kes" is not)."""
    wanted, words = asked.casefold().split(), name.casefold().split()
    return bool(wanted) and ((len(wanted) == 1 and wanted[0] in words) or words[:len(wanted)] == wanted)


def builtin_identity() -> CompanyIdentity:
    """The identity a workspace has before it adds aliases of its own."""
    written = tuple((n, company_key(n)) for a in builtin_aliases() for n in (a.canonical, a.alias))
    return CompanyIdentity(aliases=builtin_alias_map(), written=written)


def _tokens(cleaned: str) -> list[str]:
    """The name's words, with each bracket a token of its own (asides are dropped by their brackets)."""
    text = _fold_latin_accents(unicodedata.normalize("NFKC", cleaned.casefold()))
    text = _INITIALISM.sub(lambda m: m.group(0).replace(".", ""), text)
    text = text.replace("&", " and ").replace("(", " ( ").replace(")", " ) ").translate(_APOSTROPHES)
    # Letters, digits and the marks that belong to them (Devanagari vowel signs are marks, not \w); the rest
    # of the punctuation reads as a space.
    return "".join(ch if ch.isalnum() or ch in _BRACKETS or unicodedata.category(ch)[0] == "M" else " "
                   for ch in text).split()


def _trimmed(tokens: list[str]) -> list[str]:
    """The words of the key: a leading "the" dropped, then from the end, while a word is left before them,
    legal forms ("gmbh and co kg", an "and" left dangling too, spaced letters such as "s a") and bracketed
    asides ("(ats)"), in any order; brackets themselves are not words."""
    words = [i for i, t in enumerate(tokens) if t not in _BRACKETS]
    if len(words) > 1 and tokens[words[0]] == "the":
        tokens = tokens[:words[0]] + tokens[words[0] + 1:]
    opener: dict[int, int] = {}  # a closing bracket's index → its opening bracket's
    stack: list[int] = []
    before = [0]  # before[i]: how many words tokens[:i] holds
    for i, token in enumerate(tokens):
        if token == "(":
            stack.append(i)
        elif token == ")" and stack:
            opener[i] = stack.pop()
        before.append(before[-1] + (token not in _BRACKETS))
    end = len(tokens)
    while end > 0:
        last = tokens[end - 1]
        if last in _BRACKETS:
            start = opener.get(end - 1)
            if start is not None and before[start] == 0:
                break  # the aside is the whole name: "(ATS)"
            end = start if start is not None else end - 1  # an aside, or a stray bracket
            continue
        if before[end - 1] == 0:
            break  # the last word stays
        spaced = _trailing_letters(tokens[:end])
        if last in LEGAL_SUFFIXES:
            end -= 1
        elif spaced > 1 and before[end - spaced] > 0 and "".join(tokens[end - spaced:end]) in LEGAL_SUFFIXES:
            end -= spaced
        else:
            break
        if end > 0 and tokens[end - 1] == "and" and before[end - 1] > 0:  # "Smith & Co." → "smith"
            end -= 1
    return [t for t in tokens[:end] if t not in _BRACKETS]


def _trailing_letters(tokens: list[str]) -> int:
    count = 0
    for token in reversed(tokens):
        if len(token) != 1 or token in _BRACKETS:
            break
        count += 1
    return count


def _fold_latin_accents(text: str) -> str:
    """"é" is "e" and "Ç" is "C": marks are dropped from Latin letters only, so scripts whose marks are part of
    a letter (Devanagari vowel signs, Hangul) keep them."""
    kept: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch) and kept and kept[-1].isascii() and kept[-1].isalpha():
            continue
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))
