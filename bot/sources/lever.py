"""Lever job boards: GET https://api.lever.co/v0/postings/{company}?mode=json."""

from __future__ import annotations

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
    text_of,
)

NAME = "lever"
ITEM_KIND = "job"
EXAMPLE = "lever:acme"
SUMMARY = "a Lever job board"
API = "https://api.lever.co/v0/postings/{}?mode=json"


def locator(identifier: str, settings: Settings) -> str:
    return board_locator(NAME, identifier, API)


def recognise(url: str) -> str | None:
    return match_careers_url(url, ("jobs.lever.co", "jobs.eu.lever.co"))


def parse(doc: Document) -> Parsed:
    postings = expect(load_json(doc), list, "the Lever response")
    company = board_name_from_url(doc.url)
    entries, warnings = read_entries(postings, lambda p: _entry(p, company), "postings")
    return Parsed(title=company, entries=entries, warnings=warnings)


def _entry(posting: dict[str, Any], company: str) -> Entry:
    cats = as_dict(posting.get("categories"))
    locations = as_list(cats.get("allLocations")) or as_list(cats.get("location"))
    workplace = str(posting.get("workplaceType") or "").lower()
    remote = workplace == "remote" or None
    places = [PlaceHint(text=text_of(loc), remote=workplace == "remote") for loc in locations if text_of(loc)]
    team = " / ".join(dict.fromkeys(str(x) for x in (cats.get("department"), cats.get("team")) if x))
    title = str(posting.get("text") or "")
    text = posting.get("descriptionPlain") or posting.get("description") or ""
    for block in as_list(posting.get("lists")):
        if isinstance(block, dict):
            text += f"\n{block.get('text', '')}\n{block.get('content', '')}"
    return Entry(
        external_id=str(posting.get("id") or posting.get("hostedUrl")),
        url=str(posting.get("hostedUrl") or posting.get("applyUrl") or ""),
        title=title,
        text=str(text),
        published_at=parse_iso(posting.get("createdAt")),
        outlet=company,
        job_title=title,
        department=team or None,
        employment_type=str(cats["commitment"]) if cats.get("commitment") else None,
        remote=remote,
        places=places,
    )
