"""Ashby job boards: GET https://api.ashbyhq.com/posting-api/job-board/{board}."""

from __future__ import annotations

import re
from typing import Any

from bot.settings import Settings
from bot.sources._board import board_locator, board_name_from_url, match_careers_url
from bot.sources.base import (
    Document,
    Entry,
    Parsed,
    PlaceHint,
    as_dict,
    as_list,
    expect,
    load_json,
    parse_iso,
    read_entries,
)

NAME = "ashby"
ITEM_KIND = "job"
EXAMPLE = "ashby:acme"
SUMMARY = "an Ashby job board"
API = "https://api.ashbyhq.com/posting-api/job-board/{}"


def locator(identifier: str, settings: Settings) -> str:
    return board_locator(NAME, identifier, API)


def recognise(url: str) -> str | None:
    return match_careers_url(url, ("jobs.ashbyhq.com",))


def parse(doc: Document) -> Parsed:
    data = expect(load_json(doc), dict, "the Ashby response")
    jobs = expect(data.get("jobs"), list, "jobs")
    listed = [j for j in jobs if not isinstance(j, dict) or j.get("isListed", True) is not False]
    company = board_name_from_url(doc.url)
    entries, warnings = read_entries(listed, lambda j: _entry(j, company), "jobs")
    return Parsed(title=company, entries=entries, warnings=warnings)


def _entry(job: dict[str, Any], company: str) -> Entry:
    remote = bool(job.get("isRemote")) or str(job.get("workplaceType") or "").lower() == "remote"
    places = [_place(job.get("address"), str(job.get("location") or ""), remote)]
    for extra in as_list(job.get("secondaryLocations")):
        if isinstance(extra, dict):
            places.append(_place(extra.get("address"), str(extra.get("location") or ""), remote))
    title = str(job.get("title") or "")
    return Entry(
        external_id=str(job.get("id") or job.get("jobUrl")),
        url=str(job.get("jobUrl") or job.get("applyUrl") or ""),
        title=title,
        text=str(job.get("descriptionHtml") or job.get("descriptionPlain") or ""),
        published_at=parse_iso(job.get("publishedAt")),
        outlet=company,
        job_title=title,
        department=" / ".join(str(x) for x in (job.get("department"), job.get("team")) if x) or None,
        employment_type=_spaced(job.get("employmentType")),
        remote=remote or None,
        places=[p for p in places if p.text or p.city or p.country],
    )


def _place(address: Any, text: str, remote: bool) -> PlaceHint:
    postal = as_dict(as_dict(address).get("postalAddress"))
    return PlaceHint(
        text=text,
        city=postal.get("addressLocality") or None,
        region=postal.get("addressRegion") or None,
        country=postal.get("addressCountry") or None,
        remote=remote,
    )


def _spaced(value: Any) -> str | None:
    """Ashby writes employment types as "FullTime"; people read "Full Time"."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(value)) if value else None
