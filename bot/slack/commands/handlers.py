"""What each `/brief` subcommand does, as functions from a request to the reply's mrkdwn text: read the
request, call storage (or ingest), format the reply. Everything echoed back (the user's own text, feed titles)
is escaped. Every storage call is scoped to the request's team."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.digest import ScheduleError, parse_schedule, zone_name
from bot.core.inputs import MUTE_COMPANY_MAX, WATCH_TERM_MAX
from bot.core.llm_budget import use_line
from bot.core.normalize import redact_url, source_label
from bot.core.routing import ALERT_POLICIES, DIGEST, EVERY, STORIES
from bot.ingest.add import add_by_spec
from bot.slack.deps import Deps
from bot.slack.escape import escape, join_within
from bot.slack.views import channel_view
from bot.sources.base import SpecError
from bot.sources.registry import Resolved, resolve_spec
from bot.storage.briefs import count_briefs_since
from bot.storage.channels import (
    channel_follows,
    count_digest_channels,
    ensure_channel,
    get_channel,
    set_channel_muted,
    set_company_mute,
    start_watching,
    stop_following,
    stop_watching,
    stored_length,
)
from bot.storage.companies import (
    BUILTIN,
    AliasError,
    add_alias,
    builtin_alias_for,
    list_aliases,
    remove_alias,
)
from bot.storage.db import session_scope
from bot.storage.deliveries import delivery_counts
from bot.storage.digests import set_schedule
from bot.storage.models import Source
from bot.storage.sources import list_sources
from bot.storage.transactions import once_more_on_conflict
from bot.storage.workspaces import get_workspace, set_workspace_timezone, workspace_timezone

from .parse import USAGE, company_names, one_name

STATUS_MARK = {"ok": "✅", "new": "🆕", "retrying": "⚠️", "failing": "❌", "paused": "⏸️"}
ALIASES_SHOWN = 50  # a workspace's aliases listed in one reply; `briefbot companies list` has them all
ALIASES_TEXT = 3_500  # characters for the list, escaped: the reply stays well within a message


@dataclass(frozen=True, slots=True)
class Request:
    team_id: str
    channel_id: str
    user_id: str
    arg: str = ""


def follow(deps: Deps, req: Request) -> str:
    spec, alert = split_alert(req.arg)

    async def add() -> tuple[Source, bool, str, str | None]:
        fetcher = deps.fetcher()
        try:
            added = await add_by_spec(spec=spec, kind=None, team_id=req.team_id, channel_id=req.channel_id,
                                      settings=deps.settings, engine=deps.engine, fetcher=fetcher, clock=deps.clock,
                                      alert=alert)
            return added.source, added.created, added.how, added.alert
        finally:
            await fetcher.aclose()

    with session_scope(deps.engine) as session:
        before = {s.id for _, s in channel_follows(session=session, team_id=req.team_id, channel_id=req.channel_id)}
    try:
        source, _, how, policy = once_more_on_conflict(lambda: asyncio.run(add()))
    except SpecError as exc:
        return f"Couldn't follow `{escape(redact_url(spec))}`: {escape(str(exc))}\nUsage: {USAGE['follow']}"
    with session_scope(deps.engine) as session:
        ensure_channel(session=session, team_id=req.team_id, channel_id=req.channel_id, now=deps.clock())
    name = escape(source_label(source.title, source.spec))
    hears = ALERT_WORDS.get(policy or "", "")
    if source.id in before:
        if alert is not None:
            return f"This channel already follows *{name}*; from now on it hears {hears}."
        return f"This channel already follows *{name}* (it hears {hears})."
    minutes = max(1, deps.settings.briefbot_poll_interval // 60)
    return (f"Following *{name}* here ({escape(how)}). briefbot checks it every {minutes} min; what it holds "
            f"now is kept as history. From here on this channel hears {hears} "
            "(follow it again with every, stories or digest after the source to change that).")


ALERT_WORDS = {EVERY: "about each new story from it", STORIES: "about its stories once several outlets carry them",
               DIGEST: "about its stories in the digest only"}


def split_alert(arg: str) -> tuple[str, str | None]:
    """`SPEC [every|stories|digest]`: the spec, and the alert policy when the last word names one."""
    words = arg.rsplit(None, 1)
    if len(words) == 2 and words[1].lower() in ALERT_POLICIES:
        return words[0], words[1].lower()
    return arg, None


def unfollow(deps: Deps, req: Request) -> str:
    with session_scope(deps.engine) as session:
        source = stop_following(session=session, team_id=req.team_id, channel_id=req.channel_id, target=req.arg,
                                now=deps.clock())
    if source is None:
        return f"This channel doesn't follow `{escape(req.arg)}`. `/brief list` shows what it follows."
    name = escape(source_label(source.title, source.spec))
    return f"Stopped following *{name}* here. What it brought stays searchable."


def watch(deps: Deps, req: Request) -> str:
    """Watch a term and follow a news search for it, in one transaction: a watch that fails leaves no follow
    behind, and a follow that fails leaves no watch."""
    term = " ".join(req.arg.strip().strip('"“”').split())
    if len(term) < 2:
        return "Usage: " + USAGE["watch"]
    if stored_length(term) > WATCH_TERM_MAX:
        return f"A watched term can be at most {WATCH_TERM_MAX} characters; {_length(term)}. Usage: {USAGE['watch']}"
    spec = f'news:"{term}"'
    try:
        search: Resolved | None = resolve_spec(spec, deps.settings)
        no_search = ""
    except SpecError as exc:
        search, no_search = None, str(exc)

    def add() -> bool:
        with session_scope(deps.engine) as session:
            return start_watching(session=session, team_id=req.team_id, channel_id=req.channel_id, term=term,
                                  search=search, search_spec=spec, now=deps.clock())

    if not once_more_on_conflict(add):
        return f"This channel already watches *{escape(term)}*."
    extra = " and follows a news search for it" if search else f" (the news search failed: {escape(no_search)})"
    return f"Watching *{escape(term)}*: any brief that mentions it comes to this channel{extra}."


def unwatch(deps: Deps, req: Request) -> str:
    with session_scope(deps.engine) as session:
        term = stop_watching(session=session, team_id=req.team_id, channel_id=req.channel_id, term=req.arg,
                             now=deps.clock())
    if term is None:
        return f"This channel doesn't watch `{escape(req.arg)}`. `/brief list` shows its watches."
    return f"Stopped watching *{escape(term)}* here."


def list_channel(deps: Deps, req: Request) -> str:
    with session_scope(deps.engine) as session:
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
                         f"{lost} · alerts: {f.alert}")
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


def status(deps: Deps, req: Request) -> str:
    now = deps.clock()
    with session_scope(deps.engine) as session:
        sources = list_sources(session=session, team_id=req.team_id)
        briefs = count_briefs_since(session=session, team_id=req.team_id, since=now - timedelta(days=1))
        deliveries = delivery_counts(session=session, team_id=req.team_id)
        digests = count_digest_channels(session=session, team_id=req.team_id)
        workspace = get_workspace(session=session, team_id=req.team_id)
    failing = [s for s in sources if s.as_dict()["status"] in ("failing", "retrying")]
    items = sum(s.item_count for s in sources)
    lines = [f"*Sources:* {len(sources)} followed, {len(failing)} with errors · *Items stored:* {items}",
             f"*Briefs in the last 24 h:* {briefs} · *Digests scheduled:* {digests} "
             f"(time zone {escape(workspace.timezone if workspace else 'UTC')})",
             f"*Alerts:* {deliveries.get('sent', 0)} delivered, {deliveries.get('pending', 0)} waiting, "
             f"{deliveries.get('paused', 0)} paused, {deliveries.get('failed', 0)} failed",
             f"*Writer:* {deps.writer_label}"]
    budget = deps.llm_budget(req.team_id)  # None: no LLM configured, the writer line says so
    if budget is not None:
        lines.append(f"*LLM today:* {escape(use_line(budget))}")
    for health in failing[:5]:
        src = health.source
        lines.append(f"❌ {escape(source_label(src.title, src.spec)[:100])}: {escape((src.last_error or '')[:150])}")
    if workspace is not None and workspace.analysis_error:
        lines.append(f"⚠️ *Analysis:* {escape(workspace.analysis_error[:300])} (retried on every pass)")
    return "\n".join(lines)


def digest(deps: Deps, req: Request, client: WebClient | None) -> str:
    try:
        schedule, zone = parse_schedule(req.arg)
    except ScheduleError as exc:
        return f"{escape(str(exc))}.\nUsage: {USAGE['digest']}"
    if zone is None and client is not None:  # no zone given: the user's own, while the workspace has none
        with session_scope(deps.engine) as session:
            known = workspace_timezone(session=session, team_id=req.team_id)
        if known == "UTC":
            zone = _user_zone(client, req.user_id)
    with session_scope(deps.engine) as session:
        timezone = set_workspace_timezone(session=session, team_id=req.team_id, timezone=zone, now=deps.clock())
        channel = ensure_channel(session=session, team_id=req.team_id, channel_id=req.channel_id, now=deps.clock())
        next_at = set_schedule(session=session, channel=channel, schedule=schedule, timezone=timezone,
                               now=deps.clock())
    if next_at is None:
        return "Digests are off for this channel."
    return (f"Digest {schedule.describe()} ({escape(timezone)}); the first is due "
            f"{next_at.astimezone(_zone(timezone)):%a %d %b %H:%M}. Channels with nothing new get no digest.")


def mute(deps: Deps, req: Request, *, muted: bool) -> str:
    with session_scope(deps.engine) as session:
        if req.arg:
            if stored_length(req.arg) > MUTE_COMPANY_MAX:
                return (f"A company name can be at most {MUTE_COMPANY_MAX} characters; {_length(req.arg)}. "
                        f"Usage: {USAGE['mute']}")
            changed = set_company_mute(session=session, team_id=req.team_id, channel_id=req.channel_id,
                                       company=req.arg, user_id=req.user_id, now=deps.clock(), muted=muted)
            name = escape(req.arg)
            if muted:
                return f"Muted *{name}* here." if changed else f"*{name}* was already muted here."
            return f"*{name}* is unmuted here." if changed else f"*{name}* wasn't muted here."
        set_channel_muted(session=session, team_id=req.team_id, channel_id=req.channel_id, muted=muted,
                          now=deps.clock())
    if muted:
        return "Alerts are muted in this channel; they still go into its digest. `/brief unmute` brings them back."
    return "Alerts are on again in this channel."


def alias(deps: Deps, req: Request) -> str:
    """`/brief alias "NAME" "COMPANY"`, or the workspace's aliases when no names are given."""
    if not req.arg:
        return _aliases(deps, req)
    names = company_names(req.arg)
    if names is None or len(names) != 2:
        return "Usage: " + USAGE["alias"]
    try:
        with session_scope(deps.engine) as session:
            saved = add_alias(session=session, team_id=req.team_id, alias=names[0], canonical_name=names[1],
                              created_by=req.user_id, now=deps.clock())
    except AliasError as exc:
        return f"Couldn't make *{escape(names[0])}* another name of *{escape(names[1])}*: {escape(str(exc))}."
    name, other = escape(saved.alias), escape(saved.canonical)
    if saved.outcome == "unchanged":
        reply = f"*{name}* already stands for *{other}* in this workspace."
    elif saved.outcome == "changed":
        reply = f"*{name}* now stands for *{other}* in this workspace (it stood for *{escape(saved.previous or '')}*)."
    else:
        reply = f"*{name}* is now another name of *{other}* in this workspace."
    if saved.resolves_to != saved.canonical_key:
        reply += f" *{other}* is itself another name of *{escape(saved.resolves_to_name)}*."
    return reply


def unalias(deps: Deps, req: Request) -> str:
    name = one_name(req.arg)
    if not name:
        return "Usage: " + USAGE["unalias"]
    try:
        with session_scope(deps.engine) as session:
            removed = remove_alias(session=session, team_id=req.team_id, name=name)
    except AliasError as exc:
        return f"Couldn't remove the alias *{escape(name)}*: {escape(str(exc))}."
    if removed is not None:
        return f"*{escape(removed.alias)}* no longer stands for *{escape(removed.canonical)}* in this workspace."
    builtin = builtin_alias_for(name)
    if builtin is not None:
        return (f"*{escape(builtin.alias)}* → *{escape(builtin.canonical)}* is built into briefbot; to replace it "
                f"here, alias *{escape(builtin.alias)}* to another company.")
    return f"This workspace has no alias `{escape(name)}`. `/brief alias` lists them."


def _aliases(deps: Deps, req: Request) -> str:
    with session_scope(deps.engine) as session:
        entries = list_aliases(session=session, team_id=req.team_id)
    own = [e for e in entries if e.origin != BUILTIN]
    builtin = [e for e in entries if e.origin == BUILTIN]
    lines = ["Company names are read ignoring case, punctuation, a leading “The” and legal suffixes (Inc, LLC, "
             "GmbH…). Signals, mutes, watches and questions go by the company under any of its names."]
    if own:
        lines.append("*This workspace's aliases*")
        lines.append(join_within([f"• {escape(e.alias[:100])} → {escape(e.canonical[:100])}" for e in own],
                                 ALIASES_TEXT, max_items=ALIASES_SHOWN,
                                 more=lambda hidden: f"…and {hidden} more (`briefbot companies list` shows them all)"))
    else:
        lines.append('This workspace has no aliases of its own yet. Try `/brief alias "ByteDance" "TikTok"`.')
    if builtin:
        lines.append("*Built in:* " + ", ".join(f"{escape(e.alias)} → {escape(e.canonical)}" for e in builtin))
    return "\n".join(lines)


def _length(text: str) -> str:
    """How long `text` is, as briefbot stores it: case folding can lengthen it ("ﬃ" is "ffi"), so say so when
    that is what makes it too long."""
    written, stored = len(" ".join(text.split())), stored_length(text)
    if stored > written:
        return f"that one has {written}, which is {stored} once case-folded for matching"
    return f"that one has {written}"


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
