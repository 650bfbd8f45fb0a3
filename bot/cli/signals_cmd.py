"""`briefbot signals`: hiring signals found in the stored job postings."""

from __future__ import annotations

from datetime import datetime

import click

from bot.cli.common import context, echo_json, json_option, none_since, parse_since, team_option
from bot.cli.params import SOURCE_ID
from bot.core.jobs import family_labels
from bot.core.open_roles import summary_lines
from bot.core.pullback_evidence import PullbackEvidence, pullback_as_dict, pullback_lines
from bot.core.signal_evidence import (
    Evidence,
    baseline_line,
    evidence_as_dict,
    novelty_line,
    reason_line,
    thresholds_line,
    weekly_line,
)
from bot.core.signals import PaceStatus, SignalParams, pace_status
from bot.storage.db import session_scope
from bot.storage.first_look import first_look, job_sources
from bot.storage.models import Signal
from bot.storage.signal_evidence import pullback_evidence, signal_evidence, team_signal
from bot.storage.signals import PULLBACK, company_postings, hiring_companies, list_signals, signal_as_dict, signal_items
from bot.storage.transactions import Engine, Session
from bot.terminal import short, table

ALL_SOURCES = "all"  # --first-look given without a source id


def register(group: click.Group) -> None:
    @group.command("signals")
    @click.option("--since", default=None, help="Only signals updated since (ISO time, 12h, 7d, today or yesterday).")
    @click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
    @click.option("--explain", "explain_id", type=click.IntRange(1), default=None, metavar="ID",
                  help="Why signal ID fired: its postings, the pace, the thresholds, weekly counts.")
    @click.option("--first-look", "first_look", is_flag=False, flag_value=ALL_SOURCES, default=None,
                  metavar="[SOURCE_ID]", help="What each polled job source (or SOURCE_ID) has open now, by function "
                  "and metro with the weekly trend: the first look a following channel gets.")
    @team_option
    @json_option
    def signals(since: str | None, limit: int, explain_id: int | None, first_look: str | None, team: str | None,
                as_json: bool) -> None:
        """Hiring signals: a company's burst of new postings in one function and metro."""
        ctx = context()
        if first_look is not None:
            source_id = None if first_look == ALL_SOURCES else SOURCE_ID.convert(first_look, None, None)
            _first_looks(source_id, team, as_json, ctx.engine, ctx.clock())
            return
        if explain_id is not None:
            _explain(explain_id, team, as_json, ctx.engine, ctx.settings.signal_params())
            return
        now = ctx.clock()
        with session_scope(ctx.engine) as session:
            found = list_signals(session=session, team_id=team, since=parse_since(since, now), limit=limit)
            items = signal_items(session=session, signal_ids=[s.id for s in found if s.id is not None])
            paces = [] if found or as_json else _paces(session, team, ctx.settings.signal_params())
            any_at_all = bool(found) or bool(list_signals(session=session, team_id=team, limit=1))
        if as_json:
            echo_json([signal_as_dict(s, items.get(s.id or 0, [])) for s in found])
            return
        if not found and since is not None and any_at_all:
            click.echo(none_since("hiring signals", since, any_at_all, ""))
            return
        if not found:
            click.echo("no hiring signals yet")
            for company, specs, pace in paces:
                click.echo(f"  {short(company, 40)} ({', '.join(specs)}): {pace_line(pace, now)}")
            return
        labels = family_labels()
        rows = [[s.id, short(s.company, 24), labels.get(s.family, s.family), short(s.metro, 24), s.item_count,
                 s.reason.replace("_", " "), s.status, s.last_at.strftime("%Y-%m-%d")] for s in found]
        click.echo(table(rows, ["id", "company", "function", "metro", "roles", "why", "status", "latest"]))


def _first_looks(source_id: int | None, team: str | None, as_json: bool, engine: Engine, now: datetime) -> None:
    with session_scope(engine) as session:
        sources = job_sources(session=session, team_id=team, source_id=source_id)
        looks = [first_look(session=session, source=s, now=now) for s in sources]
    if source_id is not None and not looks:
        where = f" in workspace {team}" if team else ""
        raise click.ClickException(f"no polled job source {source_id}{where} (news feeds get no first look; "
                                   "`briefbot sources list` lists them)")
    if as_json:
        echo_json([look.as_dict() for look in looks])
        return
    if not looks:
        click.echo("no job source has been polled yet")
        return
    for n, look in enumerate(looks):
        if n:
            click.echo()
        click.echo(f"source {look.source_id} ({short(look.spec, 60)}, {look.team_id}):")
        click.echo("\n".join("  " + short(line, 200) for line in summary_lines(look.roles)))


def _explain(signal_id: int, team: str | None, as_json: bool, engine: Engine, params: SignalParams) -> None:
    with session_scope(engine) as session:
        signal = team_signal(session=session, signal_id=signal_id, team_id=team)
        if signal is None:
            where = f" in workspace {team}" if team else ""
            raise click.ClickException(f"no hiring signal {signal_id}{where} (`briefbot signals` lists them)")
        if signal.reason == PULLBACK:
            _explain_pullback(signal, pullback_evidence(session=session, signal=signal), as_json)
            return
        evidence = signal_evidence(session=session, signal=signal, params=params)
    if as_json:
        echo_json({"id": signal.id, "team_id": signal.team_id, "status": signal.status,
                   "stored_reason": signal.reason, "item_count": signal.item_count, **evidence_as_dict(evidence)})
        return
    click.echo("\n".join(explanation(signal, evidence)))


def _explain_pullback(signal: Signal, evidence: PullbackEvidence, as_json: bool) -> None:
    if as_json:
        echo_json({"id": signal.id, "team_id": signal.team_id, "status": signal.status,
                   "stored_reason": signal.reason, "item_count": signal.item_count, **pullback_as_dict(evidence)})
        return
    labels = family_labels()
    lines = [f"signal {signal.id}: {signal.company} · {labels.get(signal.family, signal.family)} · {signal.metro} "
             f"({signal.status}, {signal.item_count} postings closed; explained as of {evidence.at:%Y-%m-%d %H:%M} "
             f"UTC, when it last grew)"]
    lines += [f"{(label.lower() + ':'):<13}{text}" for label, text in pullback_lines(evidence)]
    lines.append(f"closed in the window (since {evidence.window_start:%Y-%m-%d}): {evidence.count}")
    rows = [[c.opened_at.strftime("%Y-%m-%d"), c.closed_at.strftime("%Y-%m-%d"), short(c.title, 50),
             short(c.place, 30), evidence.metro, c.url] for c in evidence.closed]
    if rows:
        lines.append(table(rows, ["opened", "closed", "title", "place", "metro", "link"]))
    click.echo("\n".join(lines))


def explanation(signal: Signal, evidence: Evidence) -> list[str]:
    """`--explain` as lines of plain text."""
    labels = family_labels()
    lines = [f"signal {signal.id}: {signal.company} · {labels.get(signal.family, signal.family)} · {signal.metro} "
             f"({signal.status}, {signal.item_count} postings; explained as of {evidence.at:%Y-%m-%d %H:%M} UTC, "
             f"when it last grew)",
             f"why:         {reason_line(evidence, signal.reason)}",
             f"pace:        {baseline_line(evidence)}",
             f"thresholds:  {thresholds_line(evidence)}"]
    novelty = novelty_line(evidence, labels)
    if novelty:
        lines.append(f"novelty:     {novelty}")
    lines.append(f"weekly:      {weekly_line(evidence)}")
    lines.append(f"postings in the window (since {evidence.window_start:%Y-%m-%d}): {evidence.count}")
    rows = [[p.at.strftime("%Y-%m-%d"), "board" if p.dated else "first seen", short(p.title, 50),
             short(p.place, 30), evidence.metro, p.url] for p in evidence.postings]
    if rows:
        lines.append(table(rows, ["date", "dated by", "title", "place", "metro", "link"]))
    return lines


def _paces(session: Session, team: str | None, params: SignalParams) -> list[tuple[str, list[str], PaceStatus]]:
    """Each followed company's pace: where its baseline comes from and when a surge can be judged."""
    out = []
    for team_id, company, specs in hiring_companies(session=session, team_id=team):
        postings = company_postings(session=session, team_id=team_id, company=company)
        if postings:
            out.append((company, specs, pace_status(postings, params=params)))
    return out


def pace_line(pace: PaceStatus, now: datetime) -> str:
    since, ready = pace.history_since.strftime("%Y-%m-%d"), pace.ready_at.strftime("%Y-%m-%d")
    if pace.ready(now):
        source = "its postings' dates" if pace.dated else "watching it"
        return f"pace known from {source} since {since}; nothing in the last window stands out"
    if pace.dated:
        why = f"its postings' dates go back only to {since}"
    else:
        why = f"its postings carry no dates, so it is learned by watching (first seen {since})"
    return (f"baseline still being learned: {why}; surges can be judged from {ready} (a whole window of history "
            f"before the window); a first cluster in a new metro or function can show before then")
