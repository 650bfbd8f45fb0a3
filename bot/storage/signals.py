"""Data functions for hiring signals: a company's postings as the core reads them, and signals that grow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.core.jobs import job_function, metros_of
from bot.core.signals import Posting, SignalFinding
from bot.storage.models import Item, ItemLink, Signal, SignalItem, Source


def companies_hiring_since(*, session: Session, team_id: str, since: datetime) -> list[str]:
    """Companies with postings first seen since `since` that are news (not a source's backfill)."""
    query = (select(Item.outlet).where(Item.team_id == team_id, Item.kind == "job", col(Item.backfill).is_(False),
                                       col(Item.first_seen_at) >= since).distinct())
    return sorted(c for c in session.exec(query) if c)


def company_postings(*, session: Session, team_id: str, company: str) -> list[Posting]:
    """Every job posting stored under the company's name, with the board's date where it gave one."""
    query = select(Item).where(Item.team_id == team_id, Item.kind == "job", Item.outlet == company)
    return [
        Posting(item_id=item.id or 0, company=company, title=item.job_title or item.title,
                function=job_function(item.job_title or item.title, item.department),
                metros=tuple(metros_of(item.locations)), first_seen_at=item.first_seen_at, backfill=item.backfill,
                posted_at=item.published_at)
        for item in session.exec(query)
    ]


def hiring_companies(*, session: Session, team_id: str | None = None) -> list[tuple[str, str, list[str]]]:
    """(team, company, the specs of the sources its postings came from) for every company with job postings."""
    query = (select(Item.team_id, Item.outlet, Source.spec).join(ItemLink, col(ItemLink.item_id) == Item.id)
             .join(Source, col(Source.id) == ItemLink.source_id).where(Item.kind == "job").distinct())
    if team_id is not None:
        query = query.where(Item.team_id == team_id)
    specs: dict[tuple[str, str], set[str]] = {}
    for team, company, spec in session.exec(query):
        if company:
            specs.setdefault((team, company), set()).add(spec)
    return [(team, company, sorted(found)) for (team, company), found in sorted(specs.items())]


def save_finding(*, session: Session, team_id: str, finding: SignalFinding, first_at: datetime, last_at: datetime,
                 now: datetime) -> tuple[Signal, bool]:
    """The open signal for the finding's key, created or grown; the flag says whether anything changed. A
    changed signal is flushed, so it has its id and version before the transaction commits."""
    signal = session.exec(
        select(Signal).where(Signal.team_id == team_id, Signal.company == finding.company,
                             Signal.family == finding.family, Signal.metro == finding.metro, Signal.status == "open")
    ).first()
    if signal is None:
        signal = Signal(team_id=team_id, company=finding.company, family=finding.family, metro=finding.metro,
                        reason=finding.reason, first_at=first_at, last_at=last_at, created_at=now, updated_at=now)
        session.add(signal)
        session.flush()
        known: set[int] = set()
    else:
        known = set(session.exec(select(SignalItem.item_id).where(SignalItem.signal_id == signal.id)))
    added = [i for i in finding.item_ids if i not in known]
    if not added:
        return signal, False
    session.add_all(SignalItem(team_id=team_id, signal_id=signal.id or 0, item_id=i, added_at=now) for i in added)
    if known:
        signal.version += 1
    signal.item_count = len(known) + len(added)
    signal.functions = [list(f) for f in finding.functions]
    signal.baseline = finding.baseline
    signal.first_at, signal.last_at = min(signal.first_at, first_at), max(signal.last_at, last_at)
    signal.updated_at = now
    session.flush()
    return signal, True


def close_quiet_signals(*, session: Session, team_id: str, before: datetime, now: datetime) -> int:
    """Signals with no new posting since `before` are closed; a later burst starts a new signal."""
    quiet = session.exec(select(Signal).where(Signal.team_id == team_id, Signal.status == "open",
                                              col(Signal.last_at) < before)).all()
    for signal in quiet:
        signal.status, signal.updated_at = "closed", now
    return len(quiet)


def recent_signals(*, session: Session, team_id: str, since: datetime) -> list[Signal]:
    """The team's signals (open or closed) updated since `since`, oldest id first."""
    query = select(Signal).where(Signal.team_id == team_id, col(Signal.updated_at) >= since)
    return list(session.exec(query.order_by(col(Signal.id))))


def list_signals(*, session: Session, team_id: str | None = None, since: datetime | None = None,
                 limit: int = 50) -> list[Signal]:
    query = select(Signal)
    if team_id is not None:
        query = query.where(Signal.team_id == team_id)
    if since is not None:
        query = query.where(col(Signal.updated_at) >= since)
    return list(session.exec(query.order_by(col(Signal.last_at).desc(), col(Signal.id).desc()).limit(limit)))


def signal_items(*, session: Session, signal_ids: list[int]) -> dict[int, list[Item]]:
    out: dict[int, list[Item]] = {sid: [] for sid in signal_ids}
    if not signal_ids:
        return out
    query = (select(SignalItem.signal_id, Item).join(Item, col(Item.id) == SignalItem.item_id)
             .where(col(SignalItem.signal_id).in_(signal_ids)).order_by(col(Item.first_seen_at), col(Item.id)))
    for signal_id, item in session.exec(query):
        out[signal_id].append(item)
    return out


def signals_of(*, session: Session, item_ids: list[int]) -> dict[int, list[int]]:
    """The signals each item stands behind."""
    out: dict[int, list[int]] = {}
    if item_ids:
        query = select(SignalItem).where(col(SignalItem.item_id).in_(item_ids)).order_by(col(SignalItem.signal_id))
        for link in session.exec(query):
            out.setdefault(link.item_id, []).append(link.signal_id)
    return out


def signal_as_dict(signal: Signal, items: list[Item]) -> dict[str, Any]:
    return {
        "id": signal.id, "team_id": signal.team_id, "company": signal.company, "family": signal.family,
        "metro": signal.metro, "reason": signal.reason, "status": signal.status, "item_count": signal.item_count,
        "baseline": signal.baseline, "functions": signal.functions, "version": signal.version,
        "first_at": signal.first_at.isoformat(), "last_at": signal.last_at.isoformat(),
        "updated_at": signal.updated_at.isoformat(),
        "items": [{"id": i.id, "title": i.title, "url": i.url, "locations": i.locations} for i in items],
    }
