"""From what a parser read to what is stored: one normalisation for every source kind (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.locations import Place, parse_places, structured_place
from bot.core.normalize import (
    canonical_url,
    cap_text,
    content_hash,
    external_key,
    one_line,
    scrub,
    strip_html,
    url_key,
)
from bot.sources.base import Entry, ItemKind, PlaceHint

MAX_TITLE = 300
MAX_URL = 4000  # longer is no link a person follows; sites that pad URLs do it to get past filters
MAX_PLACES = 20
MAX_PLACE_TEXT = 200
FUTURE_SLACK = timedelta(days=1)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # an earlier date on news or a posting is a placeholder, not a date


@dataclass(frozen=True, slots=True)
class NormalisedItem:
    kind: ItemKind
    external_id: str
    url: str
    url_key: str
    title: str
    text: str
    outlet: str
    author: str
    published_at: datetime | None
    job_title: str | None
    department: str | None
    employment_type: str | None
    remote: bool | None
    locations: list[dict[str, Any]]
    content_hash: str


def normalise_entry(
    entry: Entry, *, kind: ItemKind, default_outlet: str, max_chars: int, now: datetime, source_url: str = ""
) -> NormalisedItem | None:
    """The stored form of `entry`, or None when it has no title and no text, or no link and no source URL.
    An entry without a link of its own points at `source_url`, under a key of its own so it is not merged
    with its siblings. Every field is read as hostile: any type, any length, control characters."""
    text = cap_text(strip_html(_str(entry.text)), max_chars)
    title = cap_text(one_line(strip_html(_str(entry.title))), MAX_TITLE) or cap_text(one_line(text), 120)
    link = scrub(_str(entry.url)).strip()
    own = link.startswith(("http://", "https://")) and len(link) <= MAX_URL
    url = canonical_url(link if own else source_url) if (own or source_url) else ""
    if not url or not title:
        return None
    external_id = external_key(_str(entry.external_id) or url)
    key = url_key(url) if own else url_key(f"{url}#{external_id}")
    published = entry.published_at if isinstance(entry.published_at, datetime) else None
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    if published is not None and published > now + FUTURE_SLACK:
        published = now  # a date in the future is a publisher's mistake, not news from tomorrow
    elif published is not None and published < EARLIEST:
        published = None
    places = [p.as_dict() for p in places_from([h for h in entry.places if isinstance(h, PlaceHint)])]
    remote = entry.remote if isinstance(entry.remote, bool) else (any(p["remote"] for p in places) or None)
    job_title, department = _str(entry.job_title) or None, _str(entry.department) or None
    employment_type = _str(entry.employment_type) or None
    fields: dict[str, Any] = {
        "url": url, "title": title, "text": text, "published_at": published,
        "job_title": job_title, "department": department,
        "employment_type": employment_type, "remote": remote, "locations": places,
    }
    return NormalisedItem(
        kind=kind,
        external_id=external_id,
        url=url,
        url_key=key,
        title=title,
        text=text,
        outlet=cap_text(one_line(strip_html(_str(entry.outlet) or default_outlet)), 300),
        author=cap_text(one_line(strip_html(_str(entry.author))), 300),
        published_at=published,
        job_title=cap_text(one_line(job_title), 300) if job_title else None,
        department=cap_text(one_line(department), 300) if department else None,
        employment_type=cap_text(one_line(employment_type), 64) if employment_type else None,
        remote=remote,
        locations=places,
        content_hash=content_hash(fields),
    )


def places_from(hints: list[PlaceHint]) -> list[Place]:
    out: list[Place] = []
    for hint in hints[:MAX_PLACES]:
        text = _place_text(hint.text)
        if hint.city or hint.region or hint.country:
            out.append(structured_place(city=_place_text(hint.city), region=_place_text(hint.region),
                                        country=_place_text(hint.country), remote=hint.remote, raw=text))
        else:
            out.extend(p if not hint.remote or p.remote else _remote(p) for p in parse_places(text))
    unique: list[Place] = []
    for place in out:
        if place not in unique:
            unique.append(place)
    return unique


def _place_text(value: object) -> str:
    return cap_text(one_line(_str(value)), MAX_PLACE_TEXT)


def _str(value: object) -> str:
    """Text as parsers were asked to give it; a number is its digits, anything else is no text."""
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else ""


def _remote(place: Place) -> Place:
    return Place(city=place.city, region=place.region, country=place.country, remote=True, raw=place.raw)
