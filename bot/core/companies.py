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
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from bot.core.inputs import clean_line

NAME_MAX = 300  # the longest company name stored as written (company_aliases.alias / canonical)
KEY_MAX = 200  # the longest key (company_aliases.alias_key / canonical_key); longer keys are cut
_INPUT_MAX = 4 * NAME_MAX  # what is read of a name at all: work stays bounded whatever comes in

# Legal forms, as they read once keyed ("L.L.C." is "llc", "S.p.A." is "spa"). Only ever dropped from the end.
LEGAL_SUFFIXES = frozenset({
    "inc", "incorporated", "llc", "llp", "lp", "pllc", "ltd", "ltda", "limited", "corp", "corporation", "co",
    "company", "gmbh", "kg", "ag", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "plc", "pty", "pte", "kk",
    "oy", "oyj", "ab", "asa", "aps", "se", "ulc", "bhd", "sdn",
})
_APOSTROPHES = dict.fromkeys(map(ord, "'’‘ʼ`´"), None)
_INITIALISM = re.compile(r"(?<![^\W_])[^\W_](?:\.[^\W_])+\.?(?![^\W_])")  # j.p. · s.p.a · l.l.c.
_NOT_A_WORD = re.compile(r"[\W_]+")


class CompanyNameError(ValueError):
    """A name with nothing in it to key: no letter, digit or symbol once cleaned."""


def clean_name(name: str) -> str:
    """A company name as it is shown and stored: one line, control and invisible characters dropped, spaces
    collapsed, NFKC (a full-width "ＡＣＭＥ" reads "ACME"). Not cut: callers say when it is too long."""
    return clean_line(unicodedata.normalize("NFKC", name[:_INPUT_MAX]))


def company_key(name: str) -> str:
    """The comparable form of a company name (module docstring); never empty, at most KEY_MAX characters.
    Raises CompanyNameError when the name holds nothing but spaces, controls and invisible characters."""
    cleaned = clean_name(name)
    words = _words(cleaned)
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    words = _without_suffixes(words)
    key = " ".join(words) or " ".join(unicodedata.normalize("NFKC", cleaned.casefold()).split())
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


def _words(cleaned: str) -> list[str]:
    text = _fold_latin_accents(unicodedata.normalize("NFKC", cleaned.casefold()))
    text = _without_asides(text)
    text = _INITIALISM.sub(lambda m: m.group(0).replace(".", ""), text)
    text = text.replace("&", " and ").translate(_APOSTROPHES)
    return _NOT_A_WORD.sub(" ", text).split()


def _without_asides(text: str) -> str:
    """Drop bracketed asides from the end while a word is left before them: "advanced technology services (ats)"."""
    while (text := text.rstrip()).endswith(")"):
        start = text.rfind("(")
        if start < 0 or not _NOT_A_WORD.sub("", text[:start]):
            break
        text = text[:start]
    return text


def _without_suffixes(words: list[str]) -> list[str]:
    """Drop legal forms from the end while a word is left: "gmbh and co kg" goes, "and" dangling after it too.
    Single letters spaced out at the end ("S. A.") count as one form."""
    words = list(words)
    while len(words) > 1:
        if words[-1] in LEGAL_SUFFIXES:
            del words[-1]
        elif (spaced := _trailing_letters(words)) > 1 and spaced < len(words) and \
                "".join(words[-spaced:]) in LEGAL_SUFFIXES:
            del words[-spaced:]
        else:
            break
        if len(words) > 1 and words[-1] == "and":  # "Smith & Co." → "smith"
            del words[-1]
    return words


def _trailing_letters(words: list[str]) -> int:
    count = 0
    for word in reversed(words):
        if len(word) != 1:
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
