"""A workspace's company aliases ("ByteDance" is another name of "TikTok"), kept by normalised key
(core/companies.company_key), merged with the built-in ones (bot/data/company_aliases.json). Every function
takes the team id and never crosses it.

An alias points at one company; chains resolve ("Musical.ly" → "ByteDance" → "TikTok"). An alias that would
close a circle, or that names a company after itself, is refused with the reason, so the map stays a forest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any, Literal

from sqlmodel import Session, col, select

from bot.core.companies import (
    NAME_MAX,
    BuiltinAlias,
    CompanyIdentity,
    CompanyNameError,
    builtin_alias_map,
    builtin_aliases,
    builtin_identity,
    canonical,
    chain,
    clean_name,
    company_key,
)
from bot.storage.db import insert_if_absent
from bot.storage.models import CompanyAlias
from bot.storage.sources import ensure_workspace

BUILTIN = "built-in"
WORKSPACE = "workspace"


class AliasError(ValueError):
    """An alias that cannot be saved; the message says why, in words for the person who asked."""


@dataclass(frozen=True, slots=True)
class AliasSaved:
    alias: str  # as written
    canonical: str
    alias_key: str
    canonical_key: str
    resolves_to: str  # the key at the end of the chain: canonical_key unless the company is itself an alias
    resolves_to_name: str  # that company as an alias names it ("Meta"), or its key when no alias names it
    outcome: Literal["added", "changed", "unchanged"]
    previous: str | None = None  # the company the alias stood for before ("changed")


@dataclass(frozen=True, slots=True)
class AliasEntry:
    """One alias as the CLI and Slack list it: a workspace's own, or a built-in one."""

    team_id: str | None  # None: built in
    alias: str
    canonical: str
    alias_key: str
    canonical_key: str
    resolves_to: str
    origin: str  # BUILTIN | WORKSPACE
    why: str = ""
    created_by: str = ""
    created_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"team_id": self.team_id, "alias": self.alias, "canonical": self.canonical,
                "alias_key": self.alias_key, "canonical_key": self.canonical_key, "resolves_to": self.resolves_to,
                "origin": self.origin, "why": self.why, "created_by": self.created_by,
                "created_at": self.created_at.isoformat() if self.created_at else None}


def checked_name(name: str, what: str = "a company name") -> tuple[str, str]:
    """(the name as stored, its key), or AliasError saying what is wrong with it."""
    shown = clean_name(name)
    if len(shown) > NAME_MAX:
        raise AliasError(f"{what} can be at most {NAME_MAX} characters; that one has {len(shown)}")
    try:
        return shown, company_key(shown)
    except CompanyNameError as exc:
        raise AliasError(f"{what} needs at least one letter or digit") from exc


def alias_map(*, session: Session, team_id: str) -> dict[str, str]:
    """Alias key → canonical key for the workspace: the built-in aliases, with the workspace's own on top."""
    return builtin_alias_map() | {row.alias_key: row.canonical_key for row in _rows(session, team_id)}


def company_identity(*, session: Session, team_id: str) -> CompanyIdentity:
    """The workspace's company names: built-in aliases with its own on top (canonical names written first)."""
    rows = _rows(session, team_id)
    builtin = builtin_identity()
    own = tuple((n, k) for r in rows for n, k in ((r.canonical, r.canonical_key), (r.alias, r.alias_key)))
    return CompanyIdentity(aliases=alias_map(session=session, team_id=team_id), written=own + builtin.written)


def add_alias(*, session: Session, team_id: str, alias: str, canonical_name: str, created_by: str,
              now: datetime) -> AliasSaved:
    """Make `alias` another name of `canonical_name` in the workspace; an alias the workspace had for the same
    name is pointed at the new company. Refused (AliasError) when both are one name already, or when the
    company already stands for the alias, directly or through other aliases (a circle)."""
    alias_shown, alias_key = checked_name(alias, "the alias")
    canonical_shown, canonical_key = checked_name(canonical_name, "the company")
    if alias_key == canonical_key:
        raise AliasError(f'"{alias_shown}" and "{canonical_shown}" are one company already: both read as '
                         f'"{alias_key}"')
    current = alias_map(session=session, team_id=team_id)
    proposed = current | {alias_key: canonical_key}
    path = chain(canonical_key, proposed)
    if alias_key in path:
        builtin = any(_is_builtin(a, b, session, team_id) for a, b in pairwise(path))
        how = ("a built-in alias cannot be removed, only replaced by aliasing its name to another company" if builtin
               else "remove the other alias first")
        raise AliasError(f'"{canonical_shown}" already stands for "{alias_shown}" ({" → ".join(path)}'
                         f"{', through a built-in alias' if builtin else ''}), so this alias would go round in a "
                         f"circle; {how}")
    resolves_to = canonical(canonical_key, proposed)
    resolves_to_name = _name_of(session, team_id, resolves_to, canonical_shown if resolves_to == canonical_key else "")
    existing = _row(session, team_id, alias_key)
    if existing is None:
        ensure_workspace(session=session, team_id=team_id, now=now)
        if insert_if_absent(session, CompanyAlias, ["team_id", "alias_key"], team_id=team_id, alias_key=alias_key,
                            canonical_key=canonical_key, alias=alias_shown, canonical=canonical_shown,
                            created_by=created_by, created_at=now):
            return AliasSaved(alias_shown, canonical_shown, alias_key, canonical_key, resolves_to, resolves_to_name,
                              "added")
        existing = _row(session, team_id, alias_key)  # another request saved it first
        assert existing is not None
    if existing.canonical_key == canonical_key:
        return AliasSaved(existing.alias, existing.canonical, alias_key, canonical_key, resolves_to,
                          resolves_to_name, "unchanged")
    previous = existing.canonical
    existing.canonical_key, existing.canonical, existing.alias = canonical_key, canonical_shown, alias_shown
    existing.created_by, existing.created_at = created_by, now
    session.add(existing)
    session.flush()
    return AliasSaved(alias_shown, canonical_shown, alias_key, canonical_key, resolves_to, resolves_to_name,
                      "changed", previous)


def remove_alias(*, session: Session, team_id: str, name: str) -> CompanyAlias | None:
    """Remove the workspace's alias for `name` (any spelling of it); the removed row, or None when the workspace
    has none (a built-in alias is not the workspace's to remove: see builtin_alias_for)."""
    _, key = checked_name(name)
    row = _row(session, team_id, key)
    if row is not None:
        session.delete(row)
        session.flush()
    return row


def builtin_alias_for(name: str) -> AliasEntry | None:
    """The built-in alias for `name`, if there is one."""
    try:
        key = company_key(name)
    except CompanyNameError:
        return None
    mapping = builtin_alias_map()
    return next((_builtin_entry(a, mapping) for a in builtin_aliases() if a.alias_key == key), None)


def list_aliases(*, session: Session, team_id: str | None) -> list[AliasEntry]:
    """The workspace's aliases and the built-in ones it has not replaced, by company; every workspace's (and
    each built-in one once) when `team_id` is None."""
    query = select(CompanyAlias)
    if team_id is not None:
        query = query.where(CompanyAlias.team_id == team_id)
    rows = list(session.exec(query.order_by(col(CompanyAlias.team_id), col(CompanyAlias.id))))
    maps: dict[str, dict[str, str]] = {}
    for row in rows:
        maps.setdefault(row.team_id, dict(builtin_alias_map()))[row.alias_key] = row.canonical_key
    entries = [AliasEntry(row.team_id, row.alias, row.canonical, row.alias_key, row.canonical_key,
                          canonical(row.alias_key, maps[row.team_id]), WORKSPACE, "", row.created_by,
                          row.created_at) for row in rows]
    replaced = {row.alias_key for row in rows} if team_id is not None else set()
    builtin_map = builtin_alias_map() if team_id is None else maps.get(team_id, builtin_alias_map())
    entries += [_builtin_entry(a, builtin_map) for a in builtin_aliases() if a.alias_key not in replaced]
    return sorted(entries, key=lambda e: (e.resolves_to, e.canonical.casefold(), e.alias.casefold(),
                                          e.team_id or ""))


def _builtin_entry(builtin: BuiltinAlias, mapping: dict[str, str]) -> AliasEntry:
    return AliasEntry(None, builtin.alias, builtin.canonical, builtin.alias_key, builtin.canonical_key,
                      canonical(builtin.alias_key, mapping), BUILTIN, builtin.why)


def _name_of(session: Session, team_id: str, key: str, known: str) -> str:
    """A company's name as written, for a key: `known`, else as the workspace's or a built-in alias writes it."""
    if known:
        return known
    written = session.exec(select(CompanyAlias.canonical).where(CompanyAlias.team_id == team_id,
                                                                CompanyAlias.canonical_key == key)).first()
    return written or next((a.canonical for a in builtin_aliases() if a.canonical_key == key), key)


def _is_builtin(alias_key: str, canonical_key: str, session: Session, team_id: str) -> bool:
    return builtin_alias_map().get(alias_key) == canonical_key and _row(session, team_id, alias_key) is None


def _rows(session: Session, team_id: str) -> list[CompanyAlias]:
    return list(session.exec(select(CompanyAlias).where(CompanyAlias.team_id == team_id)))


def _row(session: Session, team_id: str, alias_key: str) -> CompanyAlias | None:
    return session.exec(select(CompanyAlias).where(CompanyAlias.team_id == team_id,
                                                   CompanyAlias.alias_key == alias_key)).first()
