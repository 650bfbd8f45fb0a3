"""Fixture histories for the question tests: the UCI headlines (../shared/corpus/news) stored as one
workspace's items, and small hand-made histories of items and briefs."""

from __future__ import annotations

import csv
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from bot.storage.db import session_scope
from bot.storage.models import Brief, Item, Source, Workspace


def workspace(engine: Engine, team_id: str, now: datetime) -> None:
    with session_scope(engine) as session:
        if session.get(Workspace, team_id) is None:
            session.add(Workspace(team_id=team_id, name=team_id, created_at=now))


def source(engine: Engine, team_id: str, spec: str, now: datetime, *, kind: str = "feed") -> int:
    workspace(engine, team_id, now)
    with session_scope(engine) as session:
        row = Source(team_id=team_id, kind=kind, spec=spec, locator=spec, title=spec, created_at=now, next_due_at=now)
        session.add(row)
        session.flush()
        return row.id or 0


def item(team_id: str, source_id: int, title: str, *, url: str, at: datetime, outlet: str = "", text: str = "",
         kind: str = "news", **extra: Any) -> Item:
    return Item(team_id=team_id, source_id=source_id, kind=kind, external_id=url, url=url,
                url_key=hashlib.sha256(url.encode()).hexdigest(), title=title, text=text, outlet=outlet,
                published_at=at, first_seen_at=at, updated_at=at,
                content_hash=hashlib.sha256(f"{title}{text}".encode()).hexdigest()[:40], **extra)


def add_items(engine: Engine, items: list[Item]) -> list[int]:
    with session_scope(engine) as session:
        session.add_all(items)
        session.flush()
        return [i.id or 0 for i in items]


def brief(team_id: str, headline: str, *, summary: str, at: datetime, entities: list[str] | None = None,
          sources: list[dict[str, Any]] | None = None, subject: str = "story", subject_id: int = 1,
          why: str = "Why it matters.") -> Brief:
    return Brief(team_id=team_id, subject=subject, subject_id=subject_id, subject_version=1, headline=headline,
                 summary=summary, why_it_matters=why, entities=entities or [], places=[], event_type="other",
                 sources=sources or [], writer="builtin", input_hash=hashlib.sha256(headline.encode()).hexdigest(),
                 created_at=at)


def load_uci(engine: Engine, team_id: str, path: Path) -> dict[int, str]:
    """Every headline as a news item of `team_id` (one source per publisher host); item id → STORY label."""
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    now = datetime(2014, 3, 14, tzinfo=UTC)
    hosts = {r["HOSTNAME"] for r in rows}
    source_ids = {host: source(engine, team_id, f"https://{host}/feed", now) for host in sorted(hosts)}
    items, labels = [], []
    for r in rows:
        at = datetime.fromtimestamp(int(r["TIMESTAMP"]) / 1000, tz=UTC)
        items.append(item(team_id, source_ids[r["HOSTNAME"]], r["TITLE"], url=r["URL"], at=at,
                          outlet=r["PUBLISHER"].replace("\\", "")))
        labels.append(r["STORY"])
    ids = add_items(engine, items)
    return dict(zip(ids, labels, strict=True))
