"""A careers page that describes its openings as schema.org JobPosting JSON-LD."""

from __future__ import annotations

from typing import Any

from bot.settings import Settings
from bot.sources.base import Document, Entry, Parsed, PlaceHint, SourceError, SpecError, parse_iso, read_entries
from bot.sources.html_page import has_type, json_ld_objects

NAME = "careers"
ITEM_KIND = "job"
EXAMPLE = "https://example.com/careers"
SUMMARY = "a careers page with schema.org JobPosting data"


def locator(identifier: str, settings: Settings) -> str:
    if not identifier.startswith(("http://", "https://")):
        raise SpecError(f"careers: expects the careers page URL, got {identifier!r}")
    return identifier


def recognise(url: str) -> str | None:
    return None


def has_job_postings(body: bytes) -> bool:
    return any(has_type(obj, "JobPosting") for obj in json_ld_objects(body))


def parse(doc: Document) -> Parsed:
    postings = [obj for obj in json_ld_objects(doc.body) if has_type(obj, "JobPosting")]
    if not postings:
        raise SourceError("not_a_feed", "no schema.org JobPosting data on this page")
    numbered = iter(range(len(postings)))
    entries, warnings = read_entries(postings, lambda p: _entry(p, doc.url, next(numbered)), "postings")
    return Parsed(title="", entries=entries, warnings=warnings)


def _entry(posting: dict[str, Any], page_url: str, index: int) -> Entry:
    org = posting.get("hiringOrganization")
    company = str(org.get("name") or "") if isinstance(org, dict) else str(org or "")
    remote = str(posting.get("jobLocationType") or "").upper() == "TELECOMMUTE"
    title = _text(posting.get("title"))
    url = _text(posting.get("url")) or page_url
    identifier = posting.get("identifier")
    if isinstance(identifier, dict):
        identifier = identifier.get("value") or identifier.get("name")
    places = [_place(loc, remote) for loc in _as_list(posting.get("jobLocation"))]
    if remote and not places:
        areas = [_area(a) for a in _as_list(posting.get("applicantLocationRequirements"))]
        places = [PlaceHint(country=a, remote=True) for a in areas if a] or [PlaceHint(text="Remote", remote=True)]
    employment = posting.get("employmentType")
    return Entry(
        # A page without ids or URLs per posting still needs stable ids: title and position on the page.
        external_id=str(identifier or (url if url != page_url else f"{title}#{index}")),
        url=url,
        title=title,
        text=_text(posting.get("description")),
        published_at=parse_iso(posting.get("datePosted")),
        outlet=company,
        job_title=title,
        department=_text(posting.get("occupationalCategory") or posting.get("industry")) or None,
        employment_type=", ".join(_as_list(employment)) if employment else None,
        remote=remote or None,
        places=places,
    )


def _place(location: Any, remote: bool) -> PlaceHint:
    if not isinstance(location, dict):
        return PlaceHint(text=_text(location), remote=remote)
    address = location.get("address") or {}
    if not isinstance(address, dict):
        return PlaceHint(text=_text(address), remote=remote)
    country = address.get("addressCountry")
    if isinstance(country, dict):
        country = country.get("name")
    return PlaceHint(city=address.get("addressLocality") or None, region=address.get("addressRegion") or None,
                     country=country or None, remote=remote)


def _area(value: Any) -> str:
    """applicantLocationRequirements: where a remote applicant may live ({"@type": "Country", "name": "USA"})."""
    return _text(value.get("name")) if isinstance(value, dict) else _text(value)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    return str(value).strip() if isinstance(value, str | int | float) else ""
