"""What a job posting is about and where: its job function (from a taxonomy kept as a data file) and its
metro area (nearby cities of one metro count as one place). Pure."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from bot.core.normalize import cap_text

OTHER = "other"
REMOTE = "Remote"


@dataclass(frozen=True, slots=True)
class JobFunction:
    id: str
    label: str
    family: str  # functions that read as one kind of hiring (warehouse and logistics roles) share a family
    title: re.Pattern[str]
    department: re.Pattern[str]


@cache
def taxonomy() -> tuple[JobFunction, ...]:
    """The job functions in priority order (the first whose title words match wins)."""
    data = json.loads(resources.files("bot.data").joinpath("job_functions.json").read_text("utf-8"))
    return tuple(
        JobFunction(f["id"], f["label"], f.get("family", f["id"]), _alternation(f["title"]),
                    _alternation(f["department"]))
        for f in data["functions"]
    )


def _alternation(words: list[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z])(?:" + "|".join(words) + r")", re.I)


def function_label(function_id: str) -> str:
    return next((f.label for f in taxonomy() if f.id == function_id), "other roles")


def family_of(function_id: str) -> str:
    return next((f.family for f in taxonomy() if f.id == function_id), function_id)


@cache
def family_labels() -> dict[str, str]:
    data = json.loads(resources.files("bot.data").joinpath("job_functions.json").read_text("utf-8"))
    labels: dict[str, str] = dict(data.get("families", {}))
    for function in taxonomy():
        labels.setdefault(function.family, function.label)
    return labels


@lru_cache(maxsize=4096)  # boards repeat titles ("Warehouse Associate" x 40); a title is matched once
def job_function(title: str | None, department: str | None = None) -> str:
    """The taxonomy id for a posting: the title decides; the department breaks a tie when it says nothing."""
    title = title or ""
    for function in taxonomy():
        if function.title.search(title):
            return function.id
    for function in taxonomy():
        if department and function.department.search(department):
            return function.id
    return OTHER


@cache
def _metro_index() -> dict[tuple[str, str], str]:
    data = json.loads(resources.files("bot.data").joinpath("metros.json").read_text("utf-8"))
    index: dict[tuple[str, str], str] = {}
    for metro, spec in data["metros"].items():
        for city in spec["cities"]:
            index[(city.lower(), spec["region"].lower())] = metro
            index.setdefault((city.lower(), ""), metro)
        for city, region in spec.get("also", []):  # metros that cross state lines
            index[(city.lower(), region.lower())] = metro
    return index


def metro_of(place: dict[str, Any]) -> str | None:
    """The metro area of a normalised place ("Kent, Washington" -> "Seattle"); a city outside the table is its own
    metro ("Boise, Idaho"); a remote posting is "Remote" (with its country when known); None when unknown."""
    city, region, country = place.get("city"), place.get("region"), place.get("country")
    if place.get("remote") and not city:
        return f"{REMOTE} ({country})" if country else REMOTE
    if not city:
        return None
    index = _metro_index()
    found = index.get((city.lower(), (region or "").lower()))
    if found is None and not region:
        found = index.get((city.lower(), ""))
    if found is not None and (country in (None, "United States") or region):
        return found
    return f"{city}, {region}" if region else (f"{city}, {country}" if country else city)


def metro_named(name: str) -> str | None:
    """The metro a place name written alone stands for ("Kent" and "Seattle" are Seattle); None for a name the
    metro table does not hold (a question's "Boise" is not read as a place)."""
    return _metro_index().get((" ".join(name.split()).lower(), ""))


MAX_METRO = 200  # what a signal's metro column holds; a board's 250-character "city" must not stop analysis


def metros_of(locations: list[dict[str, Any]]) -> list[str]:
    """Every metro a posting names, in order, without repeats, each cut to `MAX_METRO` characters."""
    return list(dict.fromkeys(cap_text(m, MAX_METRO) for m in (metro_of(p) for p in locations) if m))
