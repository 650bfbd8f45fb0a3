"""SmartRecruiters: GET https://api.smartrecruiters.com/v1/companies/{company}/postings, paged by offset."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.settings import Settings
from bot.sources._board import board_locator, match_careers_url
from bot.sources.base import Document, Entry, Parsed, PlaceHint, as_dict, expect, load_json, parse_iso, read_entries

NAME = "smartrecruiters"
ITEM_KIND = "job"
EXAMPLE = "smartrecruiters:acme"
SUMMARY = "a SmartRecruiters job board"
API = "https://api.smartrecruiters.com/v1/companies/{}/postings"
PAGE_SIZE = 100


def locator(identifier: str, settings: Settings) -> str:
    return board_locator(NAME, identifier, API)


def recognise(url: str) -> str | None:
    return match_careers_url(url, ("jobs.smartrecruiters.com", "careers.smartrecruiters.com"))


def parse(doc: Document) -> Parsed:
    data = expect(load_json(doc), dict, "the SmartRecruiters response")
    postings = expect(data.get("content"), list, "content")
    entries, warnings = read_entries(postings, _entry, "postings")
    offset, total = _count(data.get("offset")), _count(data.get("totalFound"))
    following = offset + len(postings)
    next_url = _with_offset(doc.url, following) if postings and following < total else None
    company = next((str(p.get("company", {}).get("name")) for p in postings if isinstance(p, dict)
                    and isinstance(p.get("company"), dict) and p["company"].get("name")), "")
    return Parsed(title=company, entries=entries, next_url=next_url, warnings=warnings)


def _count(value: Any) -> int:
    """A page offset or total as the API sends it; anything else (text, null, a float) reads as 0, which ends
    the paging instead of failing the board."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**7 else 0


def _entry(posting: dict[str, Any]) -> Entry:
    loc = as_dict(posting.get("location"))
    company = as_dict(posting.get("company"))
    identifier = company.get("identifier") or ""
    remote = bool(loc.get("remote"))
    title = str(posting.get("name") or "")
    url = posting.get("postingUrl") or (
        f"https://jobs.smartrecruiters.com/{identifier}/{posting.get('id')}" if identifier else posting.get("ref", "")
    )
    return Entry(
        external_id=str(posting.get("id") or posting.get("uuid")),
        url=str(url),
        title=title,
        text=_job_ad(posting.get("jobAd")),
        published_at=parse_iso(posting.get("releasedDate")),
        outlet=str(company.get("name") or ""),
        job_title=title,
        department=_label(posting.get("department")) or _label(posting.get("function")),
        employment_type=_label(posting.get("typeOfEmployment")),
        remote=remote or None,
        places=[PlaceHint(text=str(loc.get("fullLocation") or ""), city=loc.get("city"), region=loc.get("region"),
                          country=str(loc.get("country") or "").upper() or None, remote=remote)],
    )


def _job_ad(job_ad: Any) -> str:
    """The posting's sections (company, job, qualifications, more) as one HTML text, when the API sends them."""
    sections = job_ad.get("sections") if isinstance(job_ad, dict) else None
    if not isinstance(sections, dict):
        return ""
    return "\n".join(str(s.get("text") or "") for s in sections.values() if isinstance(s, dict))


def _label(value: Any) -> str | None:
    return str(value["label"]) if isinstance(value, dict) and value.get("label") else None


def _with_offset(url: str, offset: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("offset", "limit")]
    query += [("offset", str(offset)), ("limit", str(PAGE_SIZE))]
    return urlunsplit(parts._replace(query=urlencode(query)))
