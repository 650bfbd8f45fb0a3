"""Workable: GET https://apply.workable.com/api/v1/widget/accounts/{account} (the public widget API)."""

from __future__ import annotations

from typing import Any

from bot.settings import Settings
from bot.sources._board import board_locator, match_careers_url
from bot.sources.base import Document, Entry, Parsed, PlaceHint, as_list, expect, load_json, parse_iso, read_entries

NAME = "workable"
ITEM_KIND = "job"
EXAMPLE = "workable:acme"
SUMMARY = "a Workable job board"
API = "https://apply.workable.com/api/v1/widget/accounts/{}"


def locator(identifier: str, settings: Settings) -> str:
    return board_locator(NAME, identifier, API)


def recognise(url: str) -> str | None:
    return match_careers_url(url, ("apply.workable.com",), subdomain_of="workable.com")


def parse(doc: Document) -> Parsed:
    data = expect(load_json(doc), dict, "the Workable response")
    jobs = expect(data.get("jobs"), list, "jobs")
    company = str(data.get("name") or "")
    entries, warnings = read_entries(jobs, lambda j: _entry(j, company), "jobs")
    return Parsed(title=company, entries=entries, warnings=warnings)


def _entry(job: dict[str, Any], company: str) -> Entry:
    remote = bool(job.get("telecommuting"))
    locations = [loc for loc in as_list(job.get("locations")) if isinstance(loc, dict) and not loc.get("hidden")]
    if not locations:
        locations = [{"city": job.get("city"), "region": job.get("state"), "country": job.get("country")}]
    places = [
        PlaceHint(city=loc.get("city") or None, region=loc.get("region") or None,
                  country=loc.get("country") or loc.get("countryCode") or None, remote=remote)
        for loc in locations
    ]
    title = str(job.get("title") or "")
    return Entry(
        external_id=str(job.get("shortcode") or job.get("code") or job.get("url")),
        url=str(job.get("url") or job.get("shortlink") or job.get("application_url") or ""),
        title=title,
        text=str(job.get("description") or ""),
        published_at=parse_iso(job.get("published_on") or job.get("created_at")),
        outlet=company,
        job_title=title,
        department=str(job["department"]) if job.get("department") else None,
        employment_type=str(job["employment_type"]) if job.get("employment_type") else None,
        remote=remote or None,
        places=[p for p in places if p.city or p.region or p.country],
    )
