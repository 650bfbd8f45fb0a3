"""Helpers the job-board kinds share: identifiers, careers-page URL matching, API URLs at any host."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.sources.base import SpecError

_IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def board_locator(kind: str, identifier: str, api_template: str) -> str:
    """`identifier` is a board name (turned into the public API URL) or an API URL at any host
    (mirrors and local test servers)."""
    identifier = identifier.strip()
    if identifier.startswith(("http://", "https://")):
        return identifier
    if not _IDENT.match(identifier):
        raise SpecError(f"{kind}: {identifier!r} is not a board name (letters, digits, '.', '_' or '-')")
    return api_template.format(identifier)


def board_name_from_url(url: str) -> str:
    """A readable company name from an API URL's board segment: .../postings/acme?mode=json -> "Acme".
    The APIs of Lever, Ashby and Greenhouse's job list do not name the company themselves."""
    segments = [s for s in urlsplit(url).path.split("/") if s and s.lower() not in ("jobs", "postings")]
    if not segments:
        return ""
    name = segments[-1].rsplit(".", 1)[0] if segments[-1].endswith(".json") else segments[-1]
    name = name.replace("-", " ").replace("_", " ")
    return name.title() if name.islower() else name


def match_careers_url(url: str, hosts: tuple[str, ...], *, subdomain_of: str | None = None) -> str | None:
    """The board name in a careers-page URL such as https://jobs.lever.co/acme/123, or None."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    segments = [s for s in parts.path.split("/") if s]
    if host in hosts and segments and _IDENT.match(segments[0]):
        return segments[0]
    if subdomain_of and host.endswith("." + subdomain_of):
        name = host[: -len(subdomain_of) - 1]
        if _IDENT.match(name) and name not in ("www", "apply", "jobs", "careers"):
            return name
    return None
