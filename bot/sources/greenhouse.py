"""Greenhouse job boards: GET https://boards-api.greenhouse.io/v1/boards/{board}/jobs?content=true."""

from __future__ import annotations

import html
from typing import Any

from bot.settings import Settings
from bot.sources._board import board_locator, board_name_from_url, match_careers_url
from bot.sources.base import (
    Document,
    Entry,
    Parsed,
    PlaceHint,
    as_list,
    expect,
    load_json,
    parse_iso,
    read_entries,
    text_of,
)

NAME = "greenhouse"
ITEM_KIND = "job"
EXAMPLE = "greenhouse:acme"
SUMMARY = "a Greenhouse job board"
API = "https://boards-api.greenhouse.io/v1/boards/{}/jobs?content=true"


def locator(identifier: str, settings: Settings) -> str:
    return board_locator(NAME, identifier, API)


def recognise(url: str) -> str | None:
    return match_careers_url(url, ("boards.greenhouse.io", "job-boards.greenhouse.io", "boards.eu.greenhouse.io",
                                   "job-boards.eu.greenhouse.io"))


def parse(doc: Document) -> Parsed:
    data = expect(load_json(doc), dict, "the Greenhouse response")
    jobs = expect(data.get("jobs"), list, "jobs")
    company = str(data.get("name") or "") or _company(jobs) or board_name_from_url(doc.url)
    entries, warnings = read_entries(jobs, lambda j: _entry(j, company), "jobs")
    return Parsed(title=company, entries=entries, warnings=warnings)


def _entry(job: dict[str, Any], company: str) -> Entry:
    location = text_of(job.get("location"))  # {"name": ...}, though some boards send the bare text
    offices = [text_of(o.get("location")) or text_of(o.get("name")) if isinstance(o, dict) else text_of(o)
               for o in as_list(job.get("offices"))]
    places = [PlaceHint(text=location)] if location else [PlaceHint(text=o) for o in offices if o]
    departments = [d for d in (text_of(d) for d in as_list(job.get("departments"))) if d]
    title = str(job.get("title") or "")
    return Entry(
        external_id=str(job.get("id") or job.get("internal_job_id") or job.get("absolute_url")),
        url=str(job.get("absolute_url") or ""),
        title=title,
        text=_content(job.get("content")),
        published_at=parse_iso(job.get("first_published") or job.get("updated_at")),
        outlet=str(job.get("company_name") or company),
        job_title=title,
        department=", ".join(departments) or None,
        employment_type=_metadata(job, "employment type"),
        places=places,
    )


def _content(value: Any) -> str:
    """Greenhouse sends the description as HTML-escaped HTML, and some boards escape it twice."""
    text = html.unescape(str(value or ""))
    if "<" not in text and "&lt;" in text:
        text = html.unescape(text)
    return text


def _company(jobs: list[Any]) -> str:
    return next((str(j["company_name"]) for j in jobs if isinstance(j, dict) and j.get("company_name")), "")


def _metadata(job: dict[str, Any], name: str) -> str | None:
    for field in as_list(job.get("metadata")):
        if isinstance(field, dict) and str(field.get("name", "")).lower() == name and field.get("value"):
            return str(field["value"])
    return None
