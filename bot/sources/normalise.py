"""From what a parser read to what is stored: one normalisation for every source kind (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.locations import Place, parse_places, structured_place
from bot.core.normalize import canonical_url, cap_text, content_hash, external_key, one_line, strip_html, url_key
from bot.sources.base import Entry, ItemKind, PlaceHint

MAX_TITLE = 300
FUTURE_SLACK = timedelta(days=1)


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
    with its siblings."""
    text = cap_text(strip_html(entry.text), max_chars)
    title = cap_text(one_line(strip_html(entry.title)), MAX_TITLE) or cap_text(one_line(text), 120)
    own = entry.url.startswith(("http://", "https://"))
    url = canonical_url(entry.url if own else source_url) if (own or source_url) else ""
    if not url or not title:
        return None
    external_id = external_key(entry.external_id or url)
    key = url_key(url) if own else url_key(f"{url}#{external_id}")
    published = entry.published_at
    if published is not None and published > now + FUTURE_SLACK:
        published = now  # a date in the future is a publisher's mistake, not news from tomorrow
    places = [p.as_dict() for p in places_from(entry.places)]
    remote = entry.remote if entry.remote is not None else (any(p["remote"] for p in places) or None)
    fields: dict[str, Any] = {
        "url": url, "title": title, "text": text, "published_at": published,
        "job_title": entry.job_title, "department": entry.department,
        "employment_type": entry.employment_type, "remote": remote, "locations": places,
    }
    return NormalisedItem(
        kind=kind,
        external_id=external_id,
        url=url,
        url_key=key,
        title=title,
        text=text,
        outlet=cap_text(one_line(strip_html(entry.outlet or default_outlet)), 300),
        author=cap_text(one_line(strip_html(entry.author)), 300),
        published_at=published,
        job_title=cap_text(one_line(entry.job_title), 300) if entry.job_title else None,
        department=cap_text(one_line(entry.department), 300) if entry.department else None,
        employment_type=cap_text(one_line(entry.employment_type), 64) if entry.employment_type else None,
        remote=remote,
        locations=places,
        content_hash=content_hash(fields),
    )


def places_from(hints: list[PlaceHint]) -> list[Place]:
    out: list[Place] = []
    for hint in hints:
        if hint.city or hint.region or hint.country:
            out.append(structured_place(city=hint.city, region=hint.region, country=hint.country,
                                        remote=hint.remote, raw=hint.text))
        else:
            out.extend(p if not hint.remote or p.remote else _remote(p) for p in parse_places(hint.text))
    unique: list[Place] = []
    for place in out:
        if place not in unique:
            unique.append(place)
    return unique


def _remote(place: Place) -> Place:
    return Place(city=place.city, region=place.region, country=place.country, remote=True, raw=place.raw)
