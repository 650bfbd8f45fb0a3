"""Data functions for hiring signals: a company's postings as the core reads them, and signals that grow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from bot.core.companies import CompanyIdentity
from bot.core.jobs import job_function, metros_of
from bot.core.signals import Posting, SignalFinding
from bot.storage.companies import company_identity
from bot.storage.models import Item, ItemLink, Signal, SignalItem, Source

PULLBACK = "pullback"  # a signal of roles closing, not opening


def companies_changed_since(*, session: Session, team_id: str, since: datetime,
                            identity: CompanyIdentity | None = None) -> list[tuple[str, str]]:
    """The companies with postings first seen since `since` that are news (not a source's backfill), or with
    postings closed since then, as (key through the workspace's aliases, name to show), by key."""
    identity = identity or company_identity(session=session, team_id=team_id)
    opened = and_(col(Item.backfill).is_(False), col(Item.first_seen_at) >= since)
    query = (select(Item.outlet).where(Item.team_id == team_id, Item.kind == "job",
                                       or_(opened, col(Item.closed_at) >= since)).distinct())
    names: dict[str, list[str]] = {}
    for outlet in session.exec(query):
        key = identity.key(outlet) if outlet else None
        if key is not None:
            names.setdefault(key, []).append(outlet)
    return [(key, identity.display(key, names[key])) for key in sorted(names)]


def job_outlets(*, session: Session, team_id: str) -> list[str]:
    """Every company name the team's job postings are filed under (each once; none empty)."""
    query = select(Item.outlet).where(Item.team_id == team_id, Item.kind == "job").distinct()
    return [o for o in session.exec(query) if o]


def company_outlets(*, session: Session, team_id: str, key: str, identity: CompanyIdentity) -> list[str]:
    """Every name the team's job postings give for the company `key` stands for ("TikTok", "TikTok Inc.")."""
    target = identity.key(key)
    return sorted(o for o in job_outlets(session=session, team_id=team_id)
                  if target is not None and identity.key(o) == target)


def company_postings(*, session: Session, team_id: str, company: str,
                     identity: CompanyIdentity | None = None) -> list[Posting]:
    """Every job posting of the company `company` names, under any of its names (case, legal suffixes and the
    workspace's aliases aside), with the board's date where it gave one. Each posting's `company` is the
    company's display name (CompanyIdentity.display)."""
    identity = identity or company_identity(session=session, team_id=team_id)
    key = identity.key(company)
    if key is None:
        return []
    outlets = company_outlets(session=session, team_id=team_id, key=key, identity=identity) or [company]
    items = list(session.exec(select(Item).where(Item.team_id == team_id, Item.kind == "job",
                                                 col(Item.outlet).in_(outlets))))
    shown = identity.display(key, [item.outlet for item in items])
    return [
        Posting(item_id=item.id or 0, company=shown, title=item.job_title or item.title,
                function=job_function(item.job_title or item.title, item.department),
                metros=tuple(metros_of(item.locations)), first_seen_at=item.first_seen_at, backfill=item.backfill,
                posted_at=item.published_at, repost=item.repost_of is not None)
        for item in items
    ]


def hiring_companies(*, session: Session, team_id: str | None = None) -> list[tuple[str, str, list[str]]]:
    """(team, company, the specs of the sources its postings came from) for every company with job postings,
    one row per company however many names its boards give it."""
    query = (select(Item.team_id, Item.outlet, Source.spec).join(ItemLink, col(ItemLink.item_id) == Item.id)
             .join(Source, col(Source.id) == ItemLink.source_id).where(Item.kind == "job").distinct())
    if team_id is not None:
        query = query.where(Item.team_id == team_id)
    identities: dict[str, CompanyIdentity] = {}
    specs: dict[tuple[str, str], set[str]] = {}
    names: dict[tuple[str, str], list[str]] = {}
    for team, outlet, spec in session.exec(query):
        if team not in identities:
            identities[team] = company_identity(session=session, team_id=team)
        key = identities[team].key(outlet) if outlet else None
        if key is not None:
            specs.setdefault((team, key), set()).add(spec)
            names.setdefault((team, key), []).append(outlet)
    return sorted((team, identities[team].display(key, names[(team, key)]), sorted(found))
                  for (team, key), found in specs.items())


def save_finding(*, session: Session, team_id: str, finding: SignalFinding, first_at: datetime, last_at: datetime,
                 now: datetime, identity: CompanyIdentity | None = None) -> tuple[Signal, bool]:
    """The open signal for the finding's key (its company under any of its names), created or grown; the flag
    says whether anything changed. A changed signal is flushed, so it has its id and version before the
    transaction commits."""
    identity = identity or company_identity(session=session, team_id=team_id)
    candidates = session.exec(
        select(Signal).where(Signal.team_id == team_id, Signal.family == finding.family,
                             Signal.metro == finding.metro, Signal.status == "open").order_by(col(Signal.id))
    ).all()
    # A pullback and a growth signal for the same group are different news, each open on its own.
    candidates = [s for s in candidates if (s.reason == PULLBACK) == (finding.reason == PULLBACK)]
    signal = next((s for s in candidates if s.company == finding.company), None) or next(
        (s for s in candidates if identity.same(s.company, finding.company)), None)
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
    signal.company = finding.company  # as the company is now named (an alias added since may rename it)
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
