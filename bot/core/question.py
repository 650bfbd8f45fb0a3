"""A question, read for retrieval: its search terms, the names in it, the time window it asks about, and
whether it is about job postings. Pure: the clock's `now` is passed in."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.core.companies import CompanyIdentity, company_key


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MONTHS = {name: i + 1 for i, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"))}
MONTHS.update({name[:3]: number for name, number in list(MONTHS.items())})
MONTHS["sept"] = 9
_MONTH = "(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_UNITS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "month": 30, "months": 30, "year": 365, "years": 365}
_NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "few": 3, "couple of": 2}

STOPWORDS = _words("""
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing down during each else few for from further had has have having he her
here hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or
other our ours out over own same she should so some such than that the their theirs them then there these they
this those through to too under until up very was we were what when where which while who whom why will with
would you your yours tell show give find list anything something everything new latest recent recently any
news there's what's who's let's happened happening going know since ago last past next week weeks month months
year years day days today yesterday please briefbot start started begin began say said think
""")
JOB_WORDS = _words("""hiring hire hires hired job jobs role roles posting postings posted posts opening openings
vacancy vacancies recruiting recruit position positions staff headcount""")
QUESTION_WORDS = frozenset({"what", "who", "when", "where", "which", "why", "how", "is", "are", "did", "does", "do",
                            "has", "have", "any", "tell", "show", "list", "give", "find", "can", "could"})
_WORD = re.compile(r"[0-9A-Za-z][0-9A-Za-z&'.\-]*[0-9A-Za-z]|[0-9A-Za-z]")
_CAPITALISED = re.compile(r"\b([A-Z][0-9A-Za-z&.\-]*[0-9A-Za-z]|[A-Z]{2,})(?:\s+([A-Z][0-9A-Za-z&.\-]*[0-9A-Za-z]))*")


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    terms: tuple[str, ...]  # lowercased search words, stopwords and time phrases removed, in order
    entities: tuple[str, ...] = ()  # names as written ("TikTok", "Seattle"), to boost what mentions them
    since: datetime | None = None
    until: datetime | None = None
    window: str = ""  # the time phrase understood, as written
    about_jobs: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.terms and not self.entities


def read_question(text: str, now: datetime, *, tz_name: str = "UTC") -> Question:
    """Terms, names, time window. `now` is timezone-aware; windows start at midnight UTC."""
    del tz_name  # windows are in UTC for now; the workspace's zone moves midnights by a few hours at most
    cleaned = " ".join(text.split())
    since, until, phrase, rest = time_window(cleaned, now)
    words = [w.lower().strip(".'") for w in _WORD.findall(rest)]
    about_jobs = any(w in JOB_WORDS for w in words)
    terms: list[str] = []
    for word in words:
        if word and word not in STOPWORDS and word not in terms and not (len(word) == 1 and not word.isdigit()):
            terms.append(word)
    return Question(text=cleaned, terms=tuple(terms), entities=tuple(entities_in(rest)), since=since, until=until,
                    window=phrase, about_jobs=about_jobs)


def entities_in(text: str) -> list[str]:
    """Capitalised names: "TikTok", "New York", "AWS"; not a question's first word, months or weekdays."""
    found: list[str] = []
    for match in _CAPITALISED.finditer(text):
        name = match.group(0).strip(".")
        first = name.split()[0].lower()
        if first in QUESTION_WORDS or (first in MONTHS and " " in name):
            words = name.split()[1:]
            name = " ".join(words)
            if not name:
                continue
        if name.lower() in MONTHS or name.lower() in STOPWORDS:
            continue
        if name not in found:
            found.append(name)
    return found


def time_window(text: str, now: datetime) -> tuple[datetime | None, datetime | None, str, str]:
    """(since, until, the phrase understood, the text without it). Understands "today", "yesterday", "this
    week/month/year", "last week/month/year", "past/last N days/weeks/months", "N days ago", "since March",
    "since March 2024", "since 2024-03-05", "in March", "in March 2024", "in 2024"."""
    now = now.astimezone(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    lower = text.lower()
    for pattern, window in _patterns(now, today):
        match = re.search(pattern, lower)
        if match:
            since, until = window(match)
            rest = (text[:match.start()] + " " + text[match.end():]).strip()
            return since, until, text[match.start():match.end()], rest
    return None, None, "", text


Window = tuple[datetime | None, datetime | None]


def _patterns(now: datetime, today: datetime) -> list[tuple[str, Callable[[re.Match[str]], Window]]]:
    def month_start(year: int, month: int) -> datetime:
        return datetime(year, month, 1, tzinfo=UTC)

    def next_month(start: datetime) -> datetime:
        return month_start(start.year + (start.month == 12), start.month % 12 + 1)

    def named_month(name: str, year: str | None) -> datetime:
        month = MONTHS[name]
        if year:
            return month_start(int(year), month)
        # "March" without a year: the latest March that has begun
        return month_start(now.year if month <= now.month else now.year - 1, month)

    def count(word: str) -> int:
        return int(word) if word.isdigit() else _NUMBER_WORDS.get(word, 1)

    week_start = today - timedelta(days=today.weekday())
    this_month = month_start(today.year, today.month)
    last_month = month_start(today.year - (today.month == 1), (today.month - 2) % 12 + 1)
    number = r"(\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|few|couple of)"
    units = r"(days?|weeks?|months?|years?)"
    return [
        (r"\btoday\b", lambda m: (today, None)),
        (r"\byesterday\b", lambda m: (today - timedelta(days=1), today)),
        (rf"\b(?:in the |over the |during the )?(?:past|last|previous)\s+{number}\s+{units}\b",
         lambda m: (now - timedelta(days=count(m.group(1)) * _UNITS[m.group(2)]), None)),
        (rf"\b{number}\s+{units}\s+ago\b",
         lambda m: (now - timedelta(days=count(m.group(1)) * _UNITS[m.group(2)] + 1), None)),
        (r"\bthis week\b", lambda m: (week_start, None)),
        (r"\blast week\b", lambda m: (week_start - timedelta(days=7), week_start)),
        (r"\bthis month\b", lambda m: (this_month, None)),
        (r"\blast month\b", lambda m: (last_month, this_month)),
        (r"\bthis year\b", lambda m: (month_start(today.year, 1), None)),
        (r"\blast year\b", lambda m: (month_start(today.year - 1, 1), month_start(today.year, 1))),
        (r"\bsince (\d{4})-(\d{2})-(\d{2})\b",
         lambda m: (datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=UTC), None)),
        (rf"\bsince {_MONTH}(?:\s+(\d{{4}}))?\b", lambda m: (named_month(m.group(1), m.group(2)), None)),
        (r"\bsince (\d{4})\b", lambda m: (month_start(int(m.group(1)), 1), None)),
        (rf"\b(?:in|during) {_MONTH}(?:\s+(\d{{4}}))?\b",
         lambda m: (named_month(m.group(1), m.group(2)), next_month(named_month(m.group(1), m.group(2))))),
        (r"\b(?:in|during) (\d{4})\b",
         lambda m: (month_start(int(m.group(1)), 1), month_start(int(m.group(1)) + 1, 1))),
    ]


def with_company_names(question: Question, identity: CompanyIdentity) -> Question:
    """The question with every other name of each company it names (the workspace's aliases): "what has
    TikTok posted?" also searches postings filed under "ByteDance" when one is an alias of the other."""
    entities = list(question.entities)
    terms = list(question.terms)
    for entity in question.entities:
        key = identity.key(entity)
        if key is None:
            continue
        for name in identity.names(key):
            if identity.key(name) == key and name not in entities and company_key(name) != company_key(entity):
                entities.append(name)
                terms.extend(w for w in (w.lower().strip(".'") for w in _WORD.findall(name))
                             if w and w not in terms and w not in STOPWORDS)
    if len(entities) == len(question.entities):
        return question
    return replace(question, entities=tuple(entities), terms=tuple(terms))

