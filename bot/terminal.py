"""Plain text for a terminal: tables, times ago, shortened lines, briefs and answers. Shared by the CLI and
the demo, which is why it is neither's: the CLI runs the demo, so the demo imports nothing of the CLI. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.ask.model import Answer
from bot.core.types import describe


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "never"
    seconds = int((now - value).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            text = f"{seconds // size}{unit}"
            break
    else:
        text = f"{seconds}s"
    return f"in {text}" if future else f"{text} ago"


def due(value: datetime | None, now: datetime) -> str:
    """When something scheduled happens: "in 14m", or "now" once its time has come (a next poll a minute
    past is due, not "1m ago")."""
    if value is None:
        return "not scheduled"
    return "now" if value <= now else ago(value, now)


def short(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def format_brief(brief: dict[str, object]) -> str:
    """A brief (as `storage.briefs.brief_as_dict` gives it) as plain text."""
    sources = brief["sources"] if isinstance(brief["sources"], list) else []
    lines = [f"■ {brief['headline']}", f"  {brief['summary']}", f"  Why it matters: {brief['why_it_matters']}"]
    for n, source in enumerate(sources[:5], 1):
        when = str(source.get("published_at") or "")[:10]
        title = short(str(source.get("title")), 60)
        lines.append(f"  [{n}] {title} ({source.get('outlet')}, {when}) {source.get('url')}")
    if len(sources) > 5:
        lines.append(f"  … and {len(sources) - 5} more")
    writer = f"{brief['writer']}" + (f" — {brief['writer_note']}" if brief.get("writer_note") else "")
    lines.append(f"  {brief['subject']} {brief['subject_id']} v{brief['subject_version']} · brief {brief['id']} · "
                 f"writer: {writer}")
    return "\n".join(lines) + "\n"


def format_answer(answer: Answer, *, streamed: bool = False) -> str:
    """The answer: the text (unless it was streamed already), a note, then the sources. An extractive answer
    already lists its sources' titles, so only their links follow it."""
    lines = []
    if answer.writer == "extractive":
        lines += [answer.note, "", answer.text, "", "Links:"]
        numbers: dict[str, list[int]] = {}  # one line per link: a brief's link is often one of its postings'
        for source in answer.sources:
            if source.url:
                numbers.setdefault(source.url, []).append(source.n)
        lines += [f"  {''.join(f'[{n}]' for n in ns)} {url}" for url, ns in numbers.items()]
        return "\n".join(lines)
    lines.append("" if streamed else answer.text)
    if answer.note:
        lines.append(f"\n{answer.note}")
    if answer.sources:
        lines.append("\nSources:")
        for s in answer.sources:
            lines.append(f"  [{s.n}] {' '.join(s.title.split())} ({describe(s)})")
            if s.url:
                lines.append(f"      {s.url}")
    return "\n".join(lines)
