"""What every source kind shares: the fetched document it parses, the entries it returns, and the
error it raises. Each kind is a module with the same shape (see `bot.sources.registry.SourceKind`)."""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

ItemKind = Literal["news", "job"]


class SourceError(Exception):
    """A source could not be used. `kind` is a short machine-readable reason shown in `sources list`."""

    def __init__(self, kind: str, message: str, *, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after
        self.status = status

    def __str__(self) -> str:
        return self.message


class SpecError(ValueError):
    """A source spec or URL that cannot name a source; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Document:
    """A fetched body and what the server said about it."""

    url: str
    body: bytes
    content_type: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def mime(self) -> str:
        return self.content_type.split(";", 1)[0].strip().lower()


@dataclass(frozen=True, slots=True)
class PlaceHint:
    """A location as the source gave it: free text, separate fields, or both."""

    text: str = ""
    city: str | None = None
    region: str | None = None
    country: str | None = None
    remote: bool = False


@dataclass(slots=True)
class Entry:
    """One item as a parser read it, before normalisation (text may still hold HTML)."""

    external_id: str
    url: str
    title: str
    text: str = ""
    published_at: datetime | None = None
    outlet: str = ""
    author: str = ""
    job_title: str | None = None
    department: str | None = None
    employment_type: str | None = None
    remote: bool | None = None
    places: list[PlaceHint] = field(default_factory=list)


@dataclass(slots=True)
class Parsed:
    """What a parser makes of one document."""

    title: str
    entries: list[Entry]
    next_url: str | None = None  # the next page, for paginated APIs
    warnings: list[str] = field(default_factory=list)


def parse_iso(value: Any) -> datetime | None:
    """ISO-8601 text (with Z or an offset, or a bare date), or epoch seconds/milliseconds, as aware UTC; None for
    anything else, out-of-range numbers and dates included (a feed's date is never worth an exception)."""
    try:
        return _parse_iso(value)
    except (ValueError, OverflowError, OSError, TypeError):
        return None


def _parse_iso(value: Any) -> datetime | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, UTC)
    text = str(value).strip()[:64]
    if text.isdigit():
        return parse_iso(int(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:  # RFC 822, as RSS writes dates: against the JSON Feed spec, but seen in real feeds
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def load_json(doc: Document) -> Any:
    """The body as JSON, or a SourceError that says why not."""
    import json

    try:
        text = doc.body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError("encoding", f"response is not UTF-8 JSON: {exc.reason} at byte {exc.start}") from exc
    try:
        return json.loads(text)
    except RecursionError as exc:  # `[[[[…` 100,000 deep: the parser's stack gives out first
        raise SourceError("malformed", "JSON nested too deeply to read") from exc
    except json.JSONDecodeError as exc:
        snippet = text[:60].replace("\n", " ")
        message = f"malformed JSON ({exc.msg} at line {exc.lineno}); body starts {snippet!r}"
        raise SourceError("malformed", message) from exc


MAX_SKIP_REASONS = 3


def as_dict(value: Any) -> dict[str, Any]:
    """An object from a JSON response, or {} when the publisher sent something else there."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """A list from a JSON response; one value where a list was expected is a list of one."""
    if isinstance(value, list):
        return value
    return [] if value is None or value == "" else [value]


def text_of(value: Any) -> str:
    """A name as boards send it: text, a number, or an object with a `name`; anything else is no name."""
    if isinstance(value, dict):
        value = value.get("name")
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else ""


def read_entries(
    raw: Any, build: Callable[[dict[str, Any]], Entry], what: str = "items"
) -> tuple[list[Entry], list[str]]:
    """Each raw item (a JSON object) read on its own: one that cannot be read is skipped and named in a warning,
    and the others are kept. A board's one odd posting must not cost it every other posting."""
    values = raw if isinstance(raw, list) else []
    entries: list[Entry] = []
    reasons: list[str] = []
    skipped = 0
    for number, value in enumerate(values, 1):
        try:
            if not isinstance(value, dict):
                raise TypeError(f"a {type(value).__name__}, not an object")
            entries.append(build(value))
        except Exception as exc:  # any shape a publisher can send: the item goes, the reason is kept
            skipped += 1
            if len(reasons) < MAX_SKIP_REASONS:
                reasons.append(f"#{number}: {type(exc).__name__}: {str(exc)[:120]}")
    if not skipped:
        return entries, []
    return entries, [f"skipped {skipped} of {len(values)} {what} that could not be read ({'; '.join(reasons)})"]


def expect(data: Any, kind: type, what: str) -> Any:
    if not isinstance(data, kind):
        raise SourceError("malformed", f"unexpected response shape: {what} is not a {kind.__name__}")
    return data
