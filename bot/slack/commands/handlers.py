"""What each `/brief` subcommand does, as functions from a request to the reply's mrkdwn text. Everything
echoed back (the user's own text, feed titles) is escaped. Every query is scoped to the request's team."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from bot.context import Context
from bot.core.digest import ScheduleError, parse_schedule, zone_name
from bot.core.inputs import MUTE_COMPANY_MAX, WATCH_TERM_MAX
from bot.core.normalize import redact_url, source_label
from bot.ingest.add import add_by_spec
from bot.slack.escape import escape
from bot.slack.views import channel_view
from bot.sources.base import SpecError
from bot.sources.registry import Resolved, resolve_spec
from bot.storage.channels import (
    add_watch,
    channel_follows,
    ensure_channel,
    find_follow,
    find_watch,
    get_channel,
    other_subscribers,
    set_company_mute,
    stored_length,
)
from bot.storage.db import session_scope
from bot.storage.deliveries import delivery_counts
from bot.storage.digests import set_schedule
from bot.storage.models import Brief, Channel, Source, Subscription, Workspace
from bot.storage.sources import add_source, ensure_workspace, list_sources, remove_source, subscribe

from .parse import USAGE

T = TypeVar("T")
STATUS_MARK = {"ok": "✅", "new": "🆕", "retrying": "⚠️", "failing": "❌", "paused": "⏸️"}


@dataclass(frozen=True, slots=True)
class Request:
    team_id: str
    channel_id: str
    user_id: str
    arg: str = ""


def follow(ctx: Context, req: Request) -> str:
    async def add() -> tuple[Source, bool, str]:
        fetcher = ctx.fetcher()
        try:
            added = await add_by_spec(spec=req.arg, kind=None, team_id=req.team_id, channel_id=req.channel_id,
                                      settings=ctx.settings, engine=ctx.engine, fetcher=fetcher, clock=ctx.clock)
            return added.source, added.created, added.how
        finally:
            await fetcher.aclose()

    with session_scope(ctx.engine) as session:
        before = {s.id for _, s in channel_follows(session=session, team_id=req.team_id, channel_id=req.channel_id)}
    try:
        source, _, how = once_more_on_conflict(lambda: asyncio.run(add()))
    except SpecError as exc:
        return f"Couldn't follow `{escape(redact_url(req.arg))}`: {escape(str(exc))}\nUsage: {USAGE['follow']}"
    with session_scope(ctx.engine) as session:
        ensure_channel(session=session, team_id=req.team_id, channel_id=req.channel_id, now=ctx.clock())
    name = escape(source_label(source.title, source.spec))
    if source.id in before:
        return f"This channel already follows *{name}*."
    minutes = max(1, ctx.settings.briefbot_poll_interval // 60)
    return (f"Following *{name}* here ({escape(how)}). briefbot checks it every {minutes} min; what it holds "
            "now is kept as history, and what is new from here on is briefed in this channel.")


def unfollow(ctx: Context, req: Request) -> str:
    with session_scope(ctx.engine) as session:
        found = find_follow(session=session, team_id=req.team_id, channel_id=req.channel_id, target=req.arg)
        if found is None:
            return f"This channel doesn't follow `{escape(req.arg)}`. `/brief list` shows what it follows."
        sub, source = found
        if not other_subscribers(session=session, source_id=source.id or 0, except_sub=sub.id or 0):
            remove_source(session=session, source=source, now=ctx.clock())  # nobody follows it: stop polling
        else:
            session.delete(sub)
        name = escape(source_label(source.title, source.spec))
        return f"Stopped following *{name}* here. What it brought stays searchable."


def watch(ctx: Context, req: Request) -> str:
    """Watch a term and follow a news search for it, in one transaction: a watch that fails leaves no follow
    behind, and a follow that fails leaves no watch."""
    term = " ".join(req.arg.strip().strip('"“”').split())
    if len(term) < 2:
        return "Usage: " + USAGE["watch"]
    if stored_length(term) > WATCH_TERM_MAX:
        return f"A watched term can be at most {WATCH_TERM_MAX} characters; {_length(term)}. Usage: {USAGE['watch']}"
    spec = f'news:"{term}"'
    try:
        search: Resolved | None = resolve_spec(spec, ctx.settings)
        no_search = ""
    except SpecError as exc:
        search, no_search = None, str(exc)

    def add() -> str:
        now = ctx.clock()
        with session_scope(ctx.engine) as session:
            # The watch row first: of two requests for one term (in any spelling), only the one that inserts
            # it goes on to follow a search, so the other leaves no second search behind.
            watch, created = add_watch(session=session, team_id=req.team_id, channel_id=req.channel_id,
                                       term=term, source_id=None, now=now)
            if not created:
                return f"This channel already watches *{escape(term)}*."
            if search is not None:
                source, _ = add_source(session=session, team_id=req.team_id, kind=search.kind or "news",
                                       locator=search.locator, spec=spec, title="", now=now)
                subscribe(session=session, team_id=req.team_id, channel_id=req.channel_id,
                          source_id=source.id or 0, now=now)
                watch.source_id = source.id
        extra = " and follows a news search for it" if search else f" (the news search failed: {escape(no_search)})"
        return f"Watching *{escape(term)}*: any brief that mentions it comes to this channel{extra}."

    return once_more_on_conflict(add)


def unwatch(ctx: Context, req: Request) -> str:
    with session_scope(ctx.engine) as session:
        found = find_watch(session=session, team_id=req.team_id, channel_id=req.channel_id, term=req.arg)
        if found is None:
            return f"This channel doesn't watch `{escape(req.arg)}`. `/brief list` shows its watches."
        term, source_id = found.term, found.source_id
        session.delete(found)
        if source_id is not None:
            sub = session.exec(select(Subscription).where(Subscription.team_id == req.team_id,
                                                          Subscription.channel_id == req.channel_id,
                                                          Subscription.source_id == source_id)).first()
            source = session.get(Source, source_id)
            if sub is not None and source is not None:
                if other_subscribers(session=session, source_id=source_id, except_sub=sub.id or 0):
                    session.delete(sub)
                else:
                    session.flush()
                    remove_source(session=session, source=source, now=ctx.clock())
    return f"Stopped watching *{escape(term)}* here."


def list_channel(ctx: Context, req: Request) -> str:
    with session_scope(ctx.engine) as session:
        channel = get_channel(session=session, team_id=req.team_id, channel_id=req.channel_id)
        view = channel_view(session=session, team_id=req.team_id, channel_id=req.channel_id, channel=channel)
    lines = []
    if view.paused_reason:
        lines.append(f"⏸️ *Paused:* {escape(view.paused_reason)}")
    if view.follows:
        lines.append("*Follows*")
        for n, f in enumerate(view.follows, 1):
            error = f" ({escape((f.last_error or '')[:150])})" if f.status in ("retrying", "failing") else ""
            lost = f" — {escape(f.items_lost[:150])}" if f.items_lost else ""
            lines.append(f"{n}. {STATUS_MARK.get(f.status, '')} {escape(f.label[:150])} · {f.kind} · {f.status}{error}"
                         f"{lost}")
    else:
        lines.append("This channel follows nothing yet. Try `/brief follow https://example.com/feed.xml`.")
    if view.watches:
        lines.append("*Watches:* " + ", ".join(escape(w) for w in view.watches))
    lines.append(f"*Digest:* {view.digest}")
    if view.muted:
        lines.append("*Muted:* alerts are held; digests still come (`/brief unmute`).")
    if view.muted_companies:
        lines.append("*Muted companies:* " + ", ".join(escape(c) for c in view.muted_companies))
    return "\n".join(lines)


def status(ctx: Context, req: Request) -> str:
    now = ctx.clock()
    with session_scope(ctx.engine) as session:
        sources = list_sources(session=session, team_id=req.team_id)
        briefs = session.exec(select(func.count()).select_from(Brief).where(
            Brief.team_id == req.team_id, col(Brief.created_at) >= now - timedelta(days=1))).one()
        deliveries = delivery_counts(session=session, team_id=req.team_id)
        digests = session.exec(select(func.count()).select_from(Channel).where(
            Channel.team_id == req.team_id, Channel.digest != "off")).one()
        workspace = session.get(Workspace, req.team_id)
    failing = [s for s in sources if s.as_dict()["status"] in ("failing", "retrying")]
    items = sum(s.item_count for s in sources)
    lines = [f"*Sources:* {len(sources)} followed, {len(failing)} with errors · *Items stored:* {items}",
             f"*Briefs in the last 24 h:* {briefs} · *Digests scheduled:* {digests} "
             f"(time zone {escape(workspace.timezone if workspace else 'UTC')})",
             f"*Alerts:* {deliveries.get('sent', 0)} delivered, {deliveries.get('pending', 0)} waiting, "
             f"{deliveries.get('paused', 0)} paused, {deliveries.get('failed', 0)} failed",
             f"*Writer:* {ctx.writer_label()}"]
    for health in failing[:5]:
        src = health.source
        lines.append(f"❌ {escape(source_label(src.title, src.spec)[:100])}: {escape((src.last_error or '')[:150])}")
    if workspace is not None and workspace.analysis_error:
        lines.append(f"⚠️ *Analysis:* {escape(workspace.analysis_error[:300])} (retried on every pass)")
    return "\n".join(lines)


def digest(ctx: Context, req: Request, client: WebClient | None) -> str:
    try:
        schedule, zone = parse_schedule(req.arg)
    except ScheduleError as exc:
        return f"{escape(str(exc))}.\nUsage: {USAGE['digest']}"
    with session_scope(ctx.engine) as session:
        workspace = ensure_workspace(session=session, team_id=req.team_id, now=ctx.clock())
        if zone is None and workspace.timezone == "UTC" and client is not None:
            zone = _user_zone(client, req.user_id)
        if zone:
            workspace.timezone = zone
        channel = ensure_channel(session=session, team_id=req.team_id, channel_id=req.channel_id, now=ctx.clock())
        next_at = set_schedule(session=session, channel=channel, schedule=schedule, timezone=workspace.timezone,
                               now=ctx.clock())
        timezone = workspace.timezone
    if next_at is None:
        return "Digests are off for this channel."
    return (f"Digest {schedule.describe()} ({escape(timezone)}); the first is due "
            f"{next_at.astimezone(_zone(timezone)):%a %d %b %H:%M}. Channels with nothing new get no digest.")


def mute(ctx: Context, req: Request, *, muted: bool) -> str:
    with session_scope(ctx.engine) as session:
        if req.arg:
            if stored_length(req.arg) > MUTE_COMPANY_MAX:
                return (f"A company name can be at most {MUTE_COMPANY_MAX} characters; {_length(req.arg)}. "
                        f"Usage: {USAGE['mute']}")
            changed = set_company_mute(session=session, team_id=req.team_id, channel_id=req.channel_id,
                                       company=req.arg, user_id=req.user_id, now=ctx.clock(), muted=muted)
            name = escape(req.arg)
            if muted:
                return f"Muted *{name}* here." if changed else f"*{name}* was already muted here."
            return f"*{name}* is unmuted here." if changed else f"*{name}* wasn't muted here."
        channel = ensure_channel(session=session, team_id=req.team_id, channel_id=req.channel_id, now=ctx.clock())
        channel.muted = muted
    if muted:
        return "Alerts are muted in this channel; they still go into its digest. `/brief unmute` brings them back."
    return "Alerts are on again in this channel."


def _length(text: str) -> str:
    """How long `text` is, as briefbot stores it: case folding can lengthen it ("ﬃ" is "ffi"), so say so when
    that is what makes it too long."""
    written, stored = len(" ".join(text.split())), stored_length(text)
    if stored > written:
        return f"that one has {written}, which is {stored} once case-folded for matching"
    return f"that one has {written}"


def once_more_on_conflict(work: Callable[[], T]) -> T:
    """Run `work` (one transaction); if a concurrent request inserted the same row first (a unique constraint
    fired), run it once more: it then finds that row. Two `/brief watch acme` at once both answer."""
    try:
        return work()
    except IntegrityError:
        return work()


def _user_zone(client: WebClient, user_id: str) -> str | None:
    try:
        zone = client.users_info(user=user_id)["user"].get("tz")
    except (SlackApiError, KeyError, TypeError):
        return None
    try:
        zone_name(str(zone))
    except ScheduleError:
        return None
    return str(zone)


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
