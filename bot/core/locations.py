"""Pure location normalisation: "Seattle, WA", "Remote - US", "London, England, United Kingdom" become
city / region / country with remote flagged. Metro grouping is a later layer; this one only reads."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True, slots=True)
class Place:
    city: str | None = None
    region: str | None = None
    country: str | None = None
    remote: bool = False
    raw: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Gazetteer:
    us_states: dict[str, str]  # upper-case code or name -> name
    ca_provinces: dict[str, str]
    countries: dict[str, str]  # lower-case alias -> name
    city_aliases: dict[str, tuple[str | None, str | None, str | None]]  # lower-case alias -> (city, region, country)


@cache
def gazetteer() -> Gazetteer:
    data = json.loads(resources.files("bot.data").joinpath("places.json").read_text("utf-8"))
    us = dict(data["us_states"].items()) | {
        name.upper(): name for name in data["us_states"].values()
    }
    ca = dict(data["ca_provinces"].items()) | {
        name.upper(): name for name in data["ca_provinces"].values()
    }
    countries: dict[str, str] = {}
    for name, aliases in data["countries"].items():
        for alias in [name, *aliases]:
            countries[alias.lower()] = name
    aliases = {k.lower(): (v[0], v[1], v[2]) for k, v in data.get("city_aliases", {}).items()}
    return Gazetteer(us, ca, countries, aliases)


_REMOTE = re.compile(r"\b(remote|anywhere|work from home|wfh|distributed|telecommut\w*)\b", re.I)
_SPLIT_MANY = re.compile(r"\s*(?:;|\||/|\bor\b|\n)\s*", re.I)
# "Remote in USA", "Remote - Canada", "Remote (EU)": the words after the marker name the area.
_REMOTE_LEAD = re.compile(r"^\s*(remote|hybrid)\s*(?:in\b|[-–:(,])\s*", re.I)
_NOISE = re.compile(r"\b(remote|hybrid|on-?site|in-office|office|anywhere|only|based|first)\b|[()\[\]]", re.I)


def parse_places(raw: str) -> list[Place]:
    """Every place named in a free-text location field; an empty list if none."""
    raw = (raw or "").strip()
    if not raw:
        return []
    places = [p for part in _SPLIT_MANY.split(raw) if (p := parse_place(part)) is not None]
    return places or [Place(raw=raw, remote=bool(_REMOTE.search(raw)))]


def parse_place(raw: str) -> Place | None:
    text = raw.strip(" -–,")
    if not text:
        return None
    remote = bool(_REMOTE.search(text))
    cleaned = _NOISE.sub(" ", _REMOTE_LEAD.sub("", text))
    parts = [p.strip(" -–.") for p in re.split(r",|\s[-–]\s", cleaned)]
    parts = [" ".join(p.split()) for p in parts if p.strip(" -–.")]
    return place_from_parts(parts, remote=remote, raw=raw.strip())


def place_from_parts(
    parts: list[str], *, remote: bool = False, raw: str = "", region_hint: str | None = None
) -> Place:
    g = gazetteer()
    if len(parts) == 1 and (alias := g.city_aliases.get(parts[0].lower())):
        return Place(city=alias[0], region=alias[1], country=alias[2], remote=remote, raw=raw)
    city: str | None = None
    region: str | None = region_hint
    country: str | None = None
    rest = list(parts)
    if rest and (name := g.countries.get(rest[-1].lower())) and not (
        len(rest) >= 2 and rest[-1].upper() in g.us_states and len(rest[-1]) == 2
    ):
        country = name
        rest.pop()
    if rest:
        key = rest[-1].upper()
        if key in g.us_states and (country in (None, "United States")) and (len(rest) >= 2 or len(key) > 2):
            region, country = g.us_states[key], "United States"
            rest.pop()
        elif key in g.ca_provinces and country in (None, "Canada") and (len(rest) >= 2 or len(key) > 2):
            region, country = g.ca_provinces[key], "Canada"
            rest.pop()
    if len(rest) >= 2 and region is None:
        region = rest.pop()
    if rest:
        city = rest[0]
    if city and city.lower() in g.countries and country is None:
        country, city = g.countries[city.lower()], None
    return Place(city=_title(city), region=region, country=country, remote=remote, raw=raw)


def structured_place(
    *, city: str | None, region: str | None, country: str | None, remote: bool = False, raw: str = ""
) -> Place:
    """A place from separate fields (job-board APIs, schema.org PostalAddress). Each field is read as what
    it is: the country first (so "CA" there is Canada), then the region against that country's list."""
    g = gazetteer()
    city, region, country = (_clean(v) for v in (city, region, country))
    raw = raw or ", ".join(p for p in (city, region, country) if p)
    country_name = g.countries.get(country.lower()) if country else None
    country_name = country_name or country
    region_name = region
    if region:
        key = region.upper()
        if country_name in (None, "United States") and key in g.us_states:
            region_name, country_name = g.us_states[key], "United States"
        elif country_name in (None, "Canada") and key in g.ca_provinces:
            region_name, country_name = g.ca_provinces[key], "Canada"
    if city and not region and not country:
        return place_from_parts([city], remote=remote, raw=raw)
    return Place(city=_title(city), region=region_name, country=country_name, remote=remote, raw=raw)


def _clean(value: str | None) -> str | None:
    return " ".join(value.split()) if value and value.strip() else None


def _title(value: str | None) -> str | None:
    if not value:
        return None
    return value if any(c.isupper() for c in value) else value.title()
