"""Write briefs for stories and signals that are new or changed materially since their last brief.
Idempotent: a subject version is briefed once, and identical inputs reuse the brief already written."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial

from bot.analysis.related import with_related
from bot.briefs.model import WINDOW_DAYS, BriefDraft, BriefInput, RelatedRef, SourceRef, WrittenBrief
from bot.briefs.writers import SINGLE_REPORT_NOTE, BriefWriter, BuiltinWriter, writer_for_team
from bot.clock import Clock
from bot.core.jobs import family_labels, function_label
from bot.core.lifecycle import PullbackParams
from bot.core.normalize import cap_text, first_line
from bot.core.rebrief import RebriefRule, grew, needs_brief, rebrief_waits
from bot.storage.briefs import brief_by_input_hash, latest_brief, latest_briefs, save_brief
from bot.storage.db import session_scope
from bot.storage.leases import Held, holding, new_owner
from bot.storage.models import Brief, Item, Signal, Story
from bot.storage.signals import recent_signals, signal_items
from bot.storage.sources import eager_sources, teams_to_process
from bot.storage.stories import recent_stories, stories_from_sources, story_items
from bot.storage.transactions import Engine, Session

log = logging.getLogger(__name__)
MAX_SOURCES = 12  # a brief cites at most this many items; the newest are kept
HORIZON = timedelta(days=7)  # subjects unchanged for longer are not looked at again
# What a writer reads of each item: a summary is one or two sentences, so an article's lead is enough, and of
# a posting (title, place and company are given apart) the first lines. A headline repeated at the start of the
# text is dropped: the writer has it already.
SOURCE_TEXT = 300
POSTING_TEXT = 200
PULLBACK_DAYS = PullbackParams().window.days
LEASE = timedelta(minutes=5)  # longer than the writer's slowest call with its retries
SINGLE_REPORT = BuiltinWriter(SINGLE_REPORT_NOTE)
# A sources update's note. Recognised by its prefix (`carried`), so that rows written under an earlier wording
# still count as sources updates.
CARRIED_PREFIX = "sources updated:"
CARRIED_NOTE = f"{CARRIED_PREFIX} more reports or outlets; the LLM rewrites the text once it has grown enough"


def carried(note: str | None) -> bool:
    """Whether a brief with this writer note is a sources update (its text carried over from an earlier one)."""
    return note is not None and note.startswith(CARRIED_PREFIX)


class LeaseLostError(Exception):
    """The subject's lease ran out while its brief was written: another worker writes it."""


@dataclass(frozen=True, slots=True)
class Due:
    """A subject that may need a brief, and how to build what its brief is written from."""

    subject: str
    subject_id: int
    version: int
    items: int
    outlets: int
    make_input: Callable[[], BriefInput]


NO_WAIT = RebriefRule()  # no re-brief interval; stories' texts rewritten at the default growth


@dataclass(slots=True)
class BriefingReport:
    written: list[int] = field(default_factory=list)  # new brief ids
    busy: int = 0  # subjects another worker was briefing
    problems: list[str] = field(default_factory=list)  # one line per subject whose brief failed
    waiting: int = 0  # subjects changed materially but briefed less than the re-brief interval ago


def write_pending_briefs(*, engine: Engine, clock: Clock, writer: BriefWriter, team_id: str | None = None,
                         story_min_outlets: int = 2, owner: str | None = None, lease: timedelta = LEASE,
                         concurrency: int = 1, llm_single_reports: bool = False,
                         rebrief: RebriefRule = NO_WAIT) -> BriefingReport:
    """Brief every signal and story that needs it. Each subject is leased while its brief is written, so
    several workers share a team's briefs and never write one twice. `concurrency` briefs are written at
    once (an LLM call mostly waits); with 1, in subject order. A story one outlet reports so far is briefed by
    the built-in writer, saying why (`SINGLE_REPORT_NOTE`), unless `llm_single_reports`
    (BRIEFBOT_LLM_SINGLE_REPORTS) or the writer is the built-in one anyway (no LLM configured).
    A subject briefed less than `rebrief.interval` ago (BRIEFBOT_REBRIEF_MINUTES) waits for its next brief and is
    counted in `waiting`, so that the caller keeps the briefs wanted; a single report's built-in brief never waits
    for the LLM's first one. The LLM rewrites a brief's text once its subject grew by `rebrief.growth`
    (BRIEFBOT_REWRITE_GROWTH_PERCENT); new outlets alone update the sources and counts under it."""
    owner = owner or new_owner("brief")
    report = BriefingReport()
    with session_scope(engine) as session:
        teams = teams_to_process(session=session, team_id=team_id)
    for team in teams:
        with session_scope(engine) as session:
            due = _stories_due(session, team, clock, story_min_outlets) + _signals_due(session, team, clock)
            due, waiting = _needing(session, team, due, clock(), rebrief)  # only these are leased
        report.waiting += waiting
        due = _linked(engine, team, clock, due)
        team_writer = writer_for_team(writer, team)  # within this workspace's own LLM budget

        def leased(subject: Due, team: str = team, team_writer: BriefWriter = team_writer
                   ) -> tuple[int | None, bool, str | None]:
            """(the new brief's id or None, whether another worker was writing it, why it failed)"""
            name = f"brief:{team}:{subject.subject}:{subject.subject_id}"
            try:
                with holding(engine=engine, name=name, owner=owner, clock=clock, lease=lease) as held:
                    if held is None:
                        return None, True, None
                    try:
                        by = _writer_of(subject, team_writer, llm_single_reports)
                        return _brief_one(engine, team, by, clock, subject, held, rebrief), False, None
                    except LeaseLostError:  # another worker has it now: not done here
                        return None, True, None
            except Exception as exc:  # this subject's brief fails alone; it is tried again on the next pass
                log.warning("brief for %s %s in %s failed: %s: %s", subject.subject, subject.subject_id, team,
                            type(exc).__name__, first_line(exc))
                return None, False, (f"the brief for {subject.subject} {subject.subject_id} failed: "
                                     f"{type(exc).__name__}: {first_line(exc)[:200]}")

        if concurrency > 1 and len(due) > 1:
            with ThreadPoolExecutor(max_workers=min(concurrency, len(due)), thread_name_prefix="brief") as pool:
                outcomes = list(pool.map(leased, due))
        else:
            outcomes = [leased(subject) for subject in due]
        report.written += [brief_id for brief_id, _, _ in outcomes if brief_id is not None]
        report.busy += sum(busy for _, busy, _ in outcomes)
        report.problems += [problem for _, _, problem in outcomes if problem]
    return report


def _stories_due(session: Session, team: str, clock: Clock, min_outlets: int) -> list[Due]:
    """Stories that several outlets carry get a brief, and so does every story from a source a channel follows
    to hear each of its stories; a story made only of a new source's backlog does not."""
    since = clock() - HORIZON
    stories = recent_stories(session=session, team_id=team, since=since, min_outlets=min_outlets)
    # A story from a source a channel follows with the `every` or `digest` policy is briefed from one outlet on.
    known = {s.id for s in stories}
    eager = eager_sources(session=session, team_id=team)
    stories += [s for s in stories_from_sources(session=session, team_id=team, source_ids=eager, since=since)
                if s.id not in known]
    members = story_items(session=session, story_ids=[s.id for s in stories if s.id is not None])
    due = []
    for story in stories:
        items = members.get(story.id or 0, [])
        if all(i.backfill for i in items):
            continue
        due.append(Due("story", story.id or 0, story.version, story.item_count, len(story.outlets),
                       partial(story_input, story, items)))
    return due


def _signals_due(session: Session, team: str, clock: Clock) -> list[Due]:
    signals = recent_signals(session=session, team_id=team, since=clock() - HORIZON)
    items = signal_items(session=session, signal_ids=[s.id for s in signals if s.id is not None])
    return [Due("signal", signal.id or 0, signal.version, signal.item_count, 1,
                partial(signal_input, signal, items.get(signal.id or 0, []))) for signal in signals]


def _needing(session: Session, team: str, due: list[Due], now: datetime, rule: RebriefRule
             ) -> tuple[list[Due], int]:
    """The subjects whose latest brief (read in one query per subject kind) says they need a new one now, and
    how many more need one once their re-brief interval is over."""
    latest = {subject: latest_briefs(session=session, team_id=team, subject=subject,
                                     subject_ids=[d.subject_id for d in due if d.subject == subject])
              for subject in ("story", "signal")}
    carried_ids = {subject: [i for i, b in latest[subject].items() if carried(b.writer_note)]
               for subject in ("story", "signal")}
    texts = {subject: latest_briefs(session=session, team_id=team, subject=subject, subject_ids=ids,
                                    passing_over=CARRIED_PREFIX) for subject, ids in carried_ids.items()}
    wanted = [(d, latest[d.subject].get(d.subject_id)) for d in due]
    wanted = [(d, last) for d, last in wanted
              if _wants_brief(last, d, texts[d.subject].get(d.subject_id, last), rule)]
    ready = [d for d, last in wanted if not _waits(last, d, now, rule.interval)]
    return ready, len(wanted) - len(ready)


def _linked(engine: Engine, team: str, clock: Clock, due: list[Due]) -> list[Due]:
    """The due subjects, each with its company's other half (news for a signal, signals for a story). When the
    links cannot be read the briefs are written without them: a link is a bonus, never a blocker."""
    if not due:
        return due
    try:
        with session_scope(engine) as session:
            inputs = with_related(session, team, clock(), [d.make_input() for d in due])
    except Exception as exc:
        log.warning("news and hiring links for %s failed: %s: %s", team, type(exc).__name__, first_line(exc))
        return due
    return [replace(d, make_input=_given(inp)) for d, inp in zip(due, inputs, strict=True)]


def _given(inp: BriefInput) -> Callable[[], BriefInput]:
    return lambda: inp


def _writer_of(due: Due, team_writer: BriefWriter, llm_single_reports: bool) -> BriefWriter:
    """The team's writer; but with an LLM, a story one outlet reports so far (nothing to combine) is briefed as
    the article itself by the built-in writer, saying why, unless BRIEFBOT_LLM_SINGLE_REPORTS."""
    single = due.subject == "story" and due.outlets <= 1
    if not single or llm_single_reports or isinstance(team_writer, BuiltinWriter):
        return team_writer
    return SINGLE_REPORT


def _wants_brief(last: Brief | None, due: Due, text_of: Brief | None, rule: RebriefRule) -> bool:
    """A brief for this version of the subject, unless it has one or has not changed materially since: since the
    last brief, or since the brief whose text that one carries (`text_of`, the same brief but after a sources
    update). A single report's built-in brief is never a story's last word once a second outlet reports it."""
    if last is None:
        return True
    if last.subject_version >= due.version:
        return False
    if text_of is None or _llm_takes_over(last, due):  # no text to keep (one deleted)
        return True
    return (needs_brief(briefed_items=last.item_count, briefed_outlets=last.outlet_count, items=due.items,
                        outlets=due.outlets)
            or grew(briefed_items=text_of.item_count, items=due.items, growth=rule.rewrite_growth(due.subject)))


def _waits(last: Brief | None, due: Due, now: datetime, interval: timedelta) -> bool:
    """Whether the subject's new brief waits for the re-brief interval. The LLM's first brief of a story after
    its single report's built-in one does not: that is the story's first real brief."""
    if last is None or _llm_takes_over(last, due):
        return False
    return rebrief_waits(briefed_at=last.created_at, now=now, interval=interval)


def _brief_one(engine: Engine, team: str, writer: BriefWriter, clock: Clock, due: Due, held: Held,
               rule: RebriefRule) -> int | None:
    """A brief for this version of the subject, unless it has one or has not changed materially since its
    last; the new brief's id, or None. The writer runs outside any transaction (an LLM call holds no
    database connection), and the brief is saved only while the subject's lease is still ours
    (LeaseLostError otherwise)."""
    with session_scope(engine) as session:
        last = latest_brief(session=session, team_id=team, subject=due.subject, subject_id=due.subject_id)
        # The brief whose text the subject's alert shows: the last one, or the one a sources update took it from.
        text_of = (latest_brief(session=session, team_id=team, subject=due.subject, subject_id=due.subject_id,
                                passing_over=CARRIED_PREFIX)
                   if last is not None and carried(last.writer_note) else last)
        # Checked again under the lease: another worker may have written it.
        if not _wants_brief(last, due, text_of, rule) or _waits(last, due, clock(), rule.interval):
            return None
        inp = due.make_input()
        seen = for_writer(inp, text_of)  # what the writer reads; the brief still cites every item of `inp`
        key = writer.input_hash(seen)
        # A single report's built-in brief is rewritten (it costs nothing) so that it keeps saying why.
        cached = None if writer is SINGLE_REPORT else brief_by_input_hash(session=session, input_hash=key)
    if text_of is not None and _carries_over(writer, text_of, due, rule):
        written = replace(_reused(text_of, f"carried:{text_of.id}"), note=CARRIED_NOTE)
    elif cached is not None and cached.team_id == team:
        written = _reused(cached, key)
    else:
        written = writer.write(seen)
        written = replace(written, input_hash=written.input_hash or key)
    with session_scope(engine) as session:
        if not held.fence(session, clock()):
            log.warning("brief lease %s lost while writing; the brief was discarded", held.name)
            raise LeaseLostError(held.name)
        brief = save_brief(session=session, team_id=team, inp=inp, written=written, items=due.items,
                           outlets=due.outlets, now=clock())
    log.info("brief %s for %s %s v%s by %s", brief.id, inp.subject, inp.subject_id, inp.subject_version, written.writer)
    return brief.id or 0


def _carries_over(writer: BriefWriter, text_of: Brief, due: Due, rule: RebriefRule) -> bool:
    """Whether the LLM's text stays, with the sources and counts updated: the subject has not grown enough since
    that text was written for a rewrite (`core/rebrief.grew`), and an LLM would write the new one."""
    return (text_of.writer == "llm" and not isinstance(writer, BuiltinWriter)
            and not grew(briefed_items=text_of.item_count, items=due.items, growth=rule.rewrite_growth(due.subject)))


def _reused(brief: Brief, key: str) -> WrittenBrief:
    """An earlier brief's text, as if written again (no LLM call, no tokens)."""
    draft = BriefDraft(headline=brief.headline, summary=brief.summary, why_it_matters=brief.why_it_matters,
                       entities=brief.entities, places=brief.places, event_type=brief.event_type)
    return WrittenBrief(draft=draft, writer="builtin" if brief.writer == "builtin" else "llm",
                        prompt_name=brief.prompt_name, prompt_version=brief.prompt_version, model=brief.model,
                        input_hash=key, note="reused: identical input briefed before")


def _by_single_report(brief: Brief) -> bool:
    return brief.writer == "builtin" and brief.writer_note == SINGLE_REPORT_NOTE


def _llm_takes_over(last: Brief, due: Due) -> bool:
    """A single report's built-in brief, of a story a second outlet now reports: the LLM's first brief is due."""
    return _by_single_report(last) and due.outlets > 1


def for_writer(inp: BriefInput, last: Brief | None) -> BriefInput:
    """What the writer is sent. A first brief: the input. A re-brief: the earlier brief (first of the related
    lines) and only the items it did not cite; the items it covered move to `earlier`, still cited and still
    read by the built-in writer. With nothing new to show (a brief rewritten for an unchanged subject), the
    input as a first brief sees it, so identical inputs still reuse a brief. After a single report's built-in
    brief (the article itself), the whole input too: the LLM's first brief of the story reads every report."""
    if last is None or _by_single_report(last):
        return inp
    briefed = {s.get("item_id") for s in last.sources if not s.get("related")}
    new = tuple(i for i in inp.items if i.item_id not in briefed)
    if not new:
        return inp
    earlier = RelatedRef(kind="brief", subject_id=inp.subject_id, headline=f"Earlier brief: {last.headline}",
                         detail=last.summary, count=last.item_count, published_at=last.created_at)
    return replace(inp, items=new, earlier=tuple(i for i in inp.items if i.item_id in briefed),
                   related=(earlier, *inp.related))


def source_text(title: str, text: str, limit: int) -> str:
    """An item's text as the writer reads it: without a leading copy of its title, cut to `limit`."""
    flat, head = " ".join(text.split()), " ".join(title.split())
    if head and flat.lower().startswith(head.lower()):
        flat = flat[len(head):].lstrip(" .:;,-–—|")
    return cap_text(flat, limit)


def story_input(story: Story, items: list[Item]) -> BriefInput:
    newest = sorted(items, key=lambda i: (i.published_at or i.first_seen_at, i.id or 0))[-MAX_SOURCES:]
    return BriefInput(
        subject="story", subject_id=story.id or 0, subject_version=story.version,
        items=tuple(SourceRef(item_id=i.id or 0, title=i.title, url=i.url, outlet=i.outlet,
                              published_at=i.published_at or i.first_seen_at,
                              text=source_text(i.title, i.text, SOURCE_TEXT))
                    for i in newest),
        outlets=tuple(story.outlets), first_at=story.first_at, last_at=story.last_at, item_count=story.item_count,
    )


def signal_input(signal: Signal, items: list[Item]) -> BriefInput:
    newest = sorted(items, key=lambda i: (i.first_seen_at, i.id or 0))[-MAX_SOURCES:]
    cities = [str(place["city"]) for i in newest for place in i.locations if place.get("city")]
    main = signal.functions[0][0] if signal.functions else ""
    return BriefInput(
        subject="signal", subject_id=signal.id or 0, subject_version=signal.version,
        items=tuple(SourceRef(item_id=i.id or 0, title=i.job_title or i.title, url=i.url, outlet=i.outlet,
                              published_at=i.published_at or i.first_seen_at,
                              text=source_text(i.job_title or i.title, i.text, POSTING_TEXT))
                    for i in newest),
        company=signal.company, function_label=family_labels().get(signal.family, signal.family),
        main_function_label=function_label(main), metro=signal.metro, cities=tuple(dict.fromkeys(cities)),
        reason=signal.reason, baseline=signal.baseline, first_at=signal.first_at, last_at=signal.last_at,
        item_count=signal.item_count,
        window_days=PULLBACK_DAYS if signal.reason == "pullback" else WINDOW_DAYS,
    )
