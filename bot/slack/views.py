"""Reading what Slack surfaces show out of the database into the plain view data of `bot.slack.model`."""

from __future__ import annotations

from datetime import datetime

from bot.core.digest import DigestSchedule
from bot.core.jobs import family_labels
from bot.core.llm_budget import LLMBudget
from bot.core.normalize import source_label
from bot.core.pullback_evidence import pullback_lines
from bot.core.routing import alert_policy
from bot.core.signal_evidence import (
    baseline_line,
    novelty_line,
    reason_line,
    thresholds_line,
    weekly_line,
)
from bot.core.signals import SignalParams
from bot.slack.model import (
    AlertView,
    ChannelView,
    EvidenceLine,
    EvidencePostingView,
    EvidenceView,
    FollowView,
    HomeView,
    SignalDetails,
    SourceLink,
)
from bot.storage.briefs import brief_signal, list_briefs
from bot.storage.channels import channel_follows, list_channels, list_mutes, list_watches
from bot.storage.deliveries import delivery_targets
from bot.storage.models import Brief, Channel
from bot.storage.signal_evidence import pullback_evidence, signal_evidence, signal_weekly_counts, team_signal
from bot.storage.signals import PULLBACK
from bot.storage.sources import status_of
from bot.storage.transactions import Session
from bot.storage.workspaces import get_workspace

PAUSE_REASONS = {
    "not_in_channel": "the bot was removed from this channel: invite it back with /invite to resume",
    "channel_not_found": "the channel is gone, or the bot can no longer see it",
    "is_archived": "the channel was archived: unarchive it to resume",
}


def alert_view(*, session: Session, brief: Brief) -> AlertView:
    signal = _signal_details(session=session, brief=brief)
    company = signal.company if signal else (brief.entities[0] if brief.entities else "")
    return AlertView(
        brief_id=brief.id or 0, subject=brief.subject, subject_id=brief.subject_id, headline=brief.headline,
        summary=brief.summary, why_it_matters=brief.why_it_matters,
        sources=tuple(SourceLink(title=str(s.get("title") or ""), url=str(s.get("url") or ""),
                                 outlet=str(s.get("outlet") or ""), published_at=_parse(s.get("published_at")))
                      for s in reversed(brief.sources)),
        item_count=brief.item_count, outlet_count=brief.outlet_count, created_at=brief.created_at,
        writer_note=brief.writer_note if brief.writer == "builtin" else None, signal=signal,
        mute_company=company[:60],
    )


def _signal_details(*, session: Session, brief: Brief) -> SignalDetails | None:
    signal = brief_signal(session=session, brief=brief)
    if signal is None:
        return None
    weekly = signal_weekly_counts(session=session, signal_id=brief.subject_id, team_id=brief.team_id)
    return SignalDetails(company=signal.company, metro=signal.metro, reason=signal.reason, roles=signal.roles,
                         postings=signal.postings, weekly=weekly)


def evidence_view(*, session: Session, brief: Brief, params: SignalParams) -> EvidenceView | None:
    """Why the signal behind a signal brief fired; None for a story's brief or a signal that is gone (or, never,
    another team's: the brief's own team is the one asked for)."""
    if brief.subject != "signal":
        return None
    signal = team_signal(session=session, signal_id=brief.subject_id, team_id=brief.team_id)
    if signal is None:
        return None
    labels = family_labels()
    if signal.reason == PULLBACK:
        pullback = pullback_evidence(session=session, signal=signal)
        closed = tuple(EvidencePostingView(title=c.title, place=c.place, metro=signal.metro, day=c.closed_at,
                                           url=c.url, dated=True) for c in pullback.closed)
        return EvidenceView(brief_id=brief.id or 0, signal_id=signal.id or 0, company=signal.company,
                            family_label=labels.get(signal.family, signal.family), metro=signal.metro,
                            lines=tuple(EvidenceLine(label, text) for label, text in pullback_lines(pullback)),
                            postings=closed, window_start=pullback.window_start)
    evidence = signal_evidence(session=session, signal=signal, params=params)
    lines = [EvidenceLine("Why", reason_line(evidence, signal.reason)),
             EvidenceLine("Pace", baseline_line(evidence)),
             EvidenceLine("Thresholds", thresholds_line(evidence))]
    novelty = novelty_line(evidence, labels)
    if novelty:
        lines.append(EvidenceLine("New", novelty))
    lines.append(EvidenceLine("Weekly postings", weekly_line(evidence)))
    postings = tuple(EvidencePostingView(title=p.title, place=p.place, metro=signal.metro, day=p.at, url=p.url,
                                         dated=p.dated) for p in evidence.postings)
    return EvidenceView(brief_id=brief.id or 0, signal_id=signal.id or 0, company=signal.company,
                        family_label=labels.get(signal.family, signal.family), metro=signal.metro,
                        lines=tuple(lines), postings=postings, window_start=evidence.window_start)


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def digest_label(channel: Channel) -> str:
    if channel.digest == "off" or channel.digest_time is None:
        return "off"
    hour, minute = (int(p) for p in channel.digest_time.split(":"))
    return DigestSchedule(channel.digest, hour, minute, channel.digest_day).describe()


def channel_view(*, session: Session, team_id: str, channel_id: str, channel: Channel | None) -> ChannelView:
    follows = tuple(
        FollowView(source_id=source.id or 0, label=source_label(source.title, source.spec), kind=source.kind,
                   status="paused" if sub.paused else status_of(source), last_error=source.last_error,
                   last_success_at=source.last_success_at, items_lost=items_lost(source.last_notes),
                   alert=alert_policy(sub.alert, source.kind))
        for sub, source in channel_follows(session=session, team_id=team_id, channel_id=channel_id))
    watches = tuple(w.term for w in list_watches(session=session, team_id=team_id, channel_id=channel_id))
    companies = tuple(m.company for m in list_mutes(session=session, team_id=team_id, channel_id=channel_id))
    reason = channel.paused_reason if channel else None
    return ChannelView(channel_id=channel_id, follows=follows, watches=watches,
                       digest=digest_label(channel) if channel else "off", muted=bool(channel and channel.muted),
                       muted_companies=companies, paused_reason=PAUSE_REASONS.get(reason or "", reason))


def items_lost(notes: str | None) -> str | None:
    """The parts of a poll's notes that say items were not kept ("skipped 1 of 5 items that could not be read
    (…)", "1 of 6 items could not be stored (…)"); the rest (undated items, a lenient parse) is for the CLI."""
    lost = [part for part in (notes or "").split("; ") if "could not be" in part]
    return "; ".join(lost) or None


def home_view_data(*, session: Session, team_id: str, writer: str, failed_deliveries: int,
                   llm_budget: LLMBudget | None = None) -> HomeView:
    workspace = get_workspace(session=session, team_id=team_id)
    channels = {c.channel_id: c for c in list_channels(session=session, team_id=team_id)}
    ids = set(channels) | delivery_targets(session=session, team_id=team_id).get(team_id, set())
    views = tuple(channel_view(session=session, team_id=team_id, channel_id=c, channel=channels.get(c))
                  for c in sorted(ids))
    latest = tuple(alert_view(session=session, brief=b) for b in list_briefs(session=session, team_id=team_id,
                                                                              limit=10))
    return HomeView(team_id=team_id, timezone=workspace.timezone if workspace else "UTC", writer=writer,
                    channels=views, latest=latest, failed_deliveries=failed_deliveries,
                    analysis_error=workspace.analysis_error if workspace else None, llm_budget=llm_budget)

