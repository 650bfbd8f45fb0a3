"""Poll sources: claim them with a lease, fetch concurrently, parse and normalise each one (in a parse worker
process, `ingest/parse_worker`), store it, record how it went, and schedule the next poll. One source failing never
stops the others."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.core.normalize import first_line, scrub
from bot.core.schedule import next_poll_at
from bot.fetch.http import Fetcher
from bot.ingest.pages import Normalised, NormaliseJob, Normalising, PageJob, PageRead
from bot.ingest.parse_worker import ParseWorkers
from bot.settings import Settings
from bot.sources.base import SourceError
from bot.sources.item import NormalisedItem
from bot.sources.registry import get_kind
from bot.storage.db import refresh_item_statistics, session_scope
from bot.storage.fit import UnfitValueError
from bot.storage.items import StoreCounts, store_items
from bot.storage.lifecycle import ClosingCounts, close_unlisted, mark_reposts, postings_seen_since
from bot.storage.models import Source
from bot.storage.sources import RECORDED_ONLY, PollOutcome, claim_sources, finish_poll, finish_polls
from bot.storage.transactions import DatabaseError, Engine, OperationalError, Session
from bot.storage.wanted import request_work

log = logging.getLogger(__name__)
MAX_PAGES = 20
CLAIM_BATCH = 200
ANALYZE_AFTER = 1000  # new items in one batch
LATE_REPOST_SLACK = timedelta(minutes=10)  # a held poll stores its new postings this long at most before closing
MAX_ETAG, MAX_LAST_MODIFIED = 500, 100  # what their columns hold
# Polls that store nothing (a 304, the same bytes) are recorded together: up to RECORD_BATCH in a transaction,
# each waiting at most RECORD_WAIT seconds for others to join it. One transaction each cost half of a 304 round.
RECORD_BATCH = 100
RECORD_WAIT = 0.02


@dataclass(slots=True)
class PollReport:
    """What one `poll` run did, for the CLI and the scheduler's log."""

    polled: int = 0
    ok: int = 0
    not_modified: int = 0
    unchanged: int = 0
    errors: int = 0
    items_new: int = 0
    items_updated: int = 0
    items_linked: int = 0
    failures: list[tuple[int, str, str]] = field(default_factory=list)  # (source id, kind, message)

    def add(self, source: Source, outcome: PollOutcome) -> None:
        self.polled += 1
        self.items_new += outcome.items_new
        self.items_updated += outcome.items_updated
        self.items_linked += outcome.items_linked
        if outcome.outcome == "error":
            self.errors += 1
            self.failures.append((source.id or 0, outcome.error_kind or "error", outcome.error or ""))
        else:
            setattr(self, outcome.outcome, getattr(self, outcome.outcome) + 1)

    def add_unrecorded(self, source: Source, message: str) -> None:
        self.polled += 1
        self.errors += 1
        self.failures.append((source.id or 0, "unrecorded", message))


def poller_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Poller:
    def __init__(self, *, settings: Settings, engine: Engine, fetcher: Fetcher, clock: Clock,
                 owner: str | None = None, parser: ParseWorkers | None = None):
        self.settings = settings
        self.engine = engine
        self.fetcher = fetcher
        self.clock = clock
        self.owner = owner or poller_id()
        self.parser = parser  # None: each page is parsed inline, in the event loop (tests of pure logic)
        # Sources between their fetch and the end of their parse: bodies waiting for a parse worker are held in
        # memory, so no more of them than fetches run at once.
        self._reading = asyncio.Semaphore(settings.briefbot_concurrency)
        self._store_lock = asyncio.Lock()  # one writer at a time: SQLite has one, PostgreSQL is spared churn
        self._pending: list[tuple[Source, PollOutcome, asyncio.Future[None]]] = []  # polls waiting to be recorded
        self._tasks: set[asyncio.Task[None]] = set()  # the flushes under way (a reference, so none is collected)

    @property
    def lease(self) -> timedelta:
        """Long enough for a fetch to finish, so a slow poll is not taken over while it still runs."""
        return max(self.settings.lease(), timedelta(seconds=self.settings.briefbot_fetch_deadline * 2 + 10))

    async def poll(
        self, *, due_only: bool = True, source_ids: list[int] | None = None,
        on_progress: Callable[[int], None] | None = None, limit: int | None = None,
    ) -> PollReport:
        """Claim and poll sources in batches until none is left (or `limit` are done).

        The next batch is claimed once every source of the last one has been read (fetched and parsed), while
        its items are still being stored: storing, one writer at a time, is the slow stage of a first poll, and
        waiting for a whole batch to be stored left the parse workers idle at each batch's end. At most two
        batches are in flight (the one being stored waits for the one before it), so at most two batches' items
        wait in memory. A batch that stored ANALYZE_AFTER new items has the planner's statistics refreshed
        beside the next batches; the run returns once that is done."""
        report = PollReport()
        claimed_ids: set[int] = set()
        claimed = 0
        analysing: asyncio.Task[None] | None = None

        async def one(source: Source, read: Callable[[], None]) -> int:
            try:
                outcome = await self.poll_source(source, on_read=read)
            except Exception as exc:  # even recording failed (the database went away): its lease runs out
                log.warning("source %s: its poll could not be recorded (%s: %s); it is retried when its lease "
                            "runs out", source.id, type(exc).__name__, first_line(exc))
                report.add_unrecorded(source, f"{type(exc).__name__}: {first_line(exc)}")
                new = 0
            else:
                report.add(source, outcome)
                new = outcome.items_new
            if on_progress:
                on_progress(1)
            return new

        async def stored(batch: asyncio.Future[list[int]]) -> None:
            nonlocal analysing
            if sum(await batch) >= ANALYZE_AFTER and (analysing is None or analysing.done()):
                if analysing is not None:
                    await analysing  # done: raises if it failed, as it did when it was awaited in line
                analysing = asyncio.create_task(asyncio.to_thread(refresh_statistics, self.engine))

        in_flight: list[asyncio.Future[list[int]]] = []  # the batch being stored, and the one being read
        try:
            while limit is None or claimed < limit:
                batch_size = CLAIM_BATCH if limit is None else min(CLAIM_BATCH, limit - claimed)
                with session_scope(self.engine) as session:
                    sources = claim_sources(session=session, owner=self.owner, now=self.clock(), lease=self.lease,
                                            limit=batch_size, due_only=due_only, source_ids=source_ids,
                                            exclude_ids=claimed_ids)
                if not sources:
                    break
                claimed += len(sources)
                claimed_ids.update(s.id or 0 for s in sources)
                unread = _Unread(len(sources))
                batch = asyncio.gather(*(one(s, unread.one_read) for s in sources))
                batch.add_done_callback(unread.ended)
                in_flight.append(batch)
                await unread.all_read.wait()
                if len(in_flight) == 2:
                    await stored(in_flight.pop(0))
            while in_flight:
                await stored(in_flight.pop(0))
            if analysing is not None:
                await analysing
        except asyncio.CancelledError:  # the run is stopped: so are its polls, as they were in one gather
            for flight in in_flight:
                flight.cancel()
            raise
        except Exception:  # claiming failed: the polls under way are finished and recorded before it goes up
            await asyncio.gather(*in_flight, return_exceptions=True)
            raise
        return report

    async def poll_source(self, source: Source, on_read: Callable[[], None] | None = None) -> PollOutcome:
        """Poll one source and record the outcome. Whatever goes wrong with this source (fetch, parse, or storing
        what it sent) is recorded on it, and never reaches the other sources of the batch. `on_read` is called
        once what it sent has been read (or could not be), before it is stored."""
        started = self.clock()
        try:
            try:
                async with self._reading:
                    fetched = await self._fetch_parse(source)
            finally:
                if on_read is not None:
                    on_read()
        except SourceError as exc:
            return await self._finish_error(source, started, exc)
        except Exception as exc:  # a parser bug must not stop the other sources; say what happened
            log.exception("unexpected error polling source %s", source.id)
            return await self._finish_error(source, started, SourceError("internal", f"{type(exc).__name__}: {exc}"))
        try:
            if fetched.outcome in RECORDED_ONLY:  # nothing to store: recorded with others that finish meanwhile
                return await self._record(source, self._outcome(started, fetched))
            return await self._finish_ok(source, started, fetched)
        except Exception as exc:  # storing failed: the transaction rolled back; say why on the source
            log.warning("source %s: storing its poll failed (%s: %s)", source.id, type(exc).__name__, first_line(exc))
            message = f"its items could not be stored ({type(exc).__name__}: {first_line(exc)}); it will be retried"
            return await self._finish_error(source, started, SourceError("store", message))

    async def _fetch_parse(self, source: Source) -> _Fetched:
        kind = get_kind(source.kind)
        first = await self.fetcher.fetch(source.locator, etag=source.etag, last_modified=source.last_modified)
        if first.not_modified:
            return _Fetched(outcome="not_modified", status=304, etag=source.etag,
                            last_modified=source.last_modified)
        digest = hashlib.sha256(first.body)
        bytes_read = len(first.body)
        host = _host(source.locator)
        # A page that is the whole list is normalised with its parse, unless it is the same bytes as last time.
        same = digest.hexdigest() == source.body_hash
        page = await self._read_page(PageJob(kind.NAME, first.document(),
                                             None if same else self._normalising(source, None, host)))
        reads = [page]
        title = page.title
        while page.next_url and len(reads) < MAX_PAGES:
            following = await self.fetcher.fetch(page.next_url)
            digest.update(following.body)
            bytes_read += len(following.body)
            page = await self._read_page(PageJob(kind.NAME, following.document(), None, following=True))
            reads.append(page)
        body_hash = digest.hexdigest()
        entries_count = sum(r.entries_count for r in reads)
        fetched = _Fetched(outcome="unchanged", status=first.status, etag=_validator(first.etag, MAX_ETAG),
                           last_modified=_validator(first.last_modified, MAX_LAST_MODIFIED), body_hash=body_hash,
                           bytes_read=bytes_read,
                           entries_count=entries_count, title=title,
                           # Postings close only after a poll that read the whole list (core/lifecycle).
                           full_list=kind.ITEM_KIND == "job" and not page.next_url)
        if body_hash == source.body_hash:
            return fetched  # the same bytes as last time: nothing to store
        if not entries_count and (source.last_entry_count or 0) > 0:
            if fetched.full_list and source.failures and source.last_error_kind == "empty":
                # The second empty poll in a row: the board really is empty, and its postings close.
                fetched.empty_since = source.last_error_at
            else:
                closing = "; its open postings are closed if the next poll finds it empty too" \
                    if fetched.full_list else ""
                raise SourceError("empty", f"the source returned no items (it had {source.last_entry_count} last "
                                           f"time); stored items are kept, and it will be retried{closing}")
        if reads[0].items is not None:  # one page, the whole list: normalised with its parse
            items, skipped = reads[0].items, reads[0].skipped
        else:  # the pages of a list, now known to have changed: their entries normalised together
            normalising = self._normalising(source, title or host, host)
            done = await self._normalise(NormaliseJob(kind.NAME, [e for r in reads for e in r.entries or ()],
                                                      normalising))
            items, skipped = done.items, done.skipped
        warnings = [w for r in reads for w in r.warnings]
        fetched.outcome, fetched.items = "ok", items
        fetched.notes = _notes(entries_count, sum(r.undated for r in reads), skipped, warnings)
        return fetched

    async def _read_page(self, job: PageJob) -> PageRead:
        return job.run() if self.parser is None else await self.parser.run(job)

    async def _normalise(self, job: NormaliseJob) -> Normalised:
        return job.run() if self.parser is None else await self.parser.run(job)

    def _normalising(self, source: Source, outlet: str | None, host: str) -> Normalising:
        return Normalising(outlet=outlet, host=host, max_chars=self.settings.briefbot_max_text_chars,
                           now=self.clock(), source_url=source.locator)

    async def _finish_ok(self, source: Source, started: datetime, fetched: _Fetched) -> PollOutcome:
        async with self._store_lock:
            return await asyncio.to_thread(self._store_ok, source, started, fetched)

    def _store_ok(self, source: Source, started: datetime, fetched: _Fetched) -> PollOutcome:
        try:
            return self._store_ok_once(source, started, fetched, one_by_one=False)
        except (DatabaseError, UnfitValueError) as exc:  # one item refused must not cost the others: one by one
            # Not when the database itself is in trouble (a lock held past BRIEFBOT_DB_LOCK_TIMEOUT, a lost
            # connection): each item would wait again. The poll fails and is retried as a whole.
            if isinstance(exc, OperationalError) or len(fetched.items) < 2:
                raise
            log.warning("source %s: storing %d items at once failed (%s: %s); storing them one by one", source.id,
                        len(fetched.items), type(exc).__name__, first_line(exc))
            return self._store_ok_once(source, started, fetched, one_by_one=True)

    def _outcome(self, started: datetime, fetched: _Fetched) -> PollOutcome:
        """A poll that stored nothing, as `_store_ok_once` would record it."""
        finished = self.clock()
        return PollOutcome(
            outcome=fetched.outcome, started_at=started, finished_at=finished,
            next_due_at=next_poll_at(now=finished, interval=self.settings.briefbot_poll_interval, failures=0,
                                     max_backoff=self.settings.briefbot_max_backoff),
            http_status=fetched.status, bytes_read=fetched.bytes_read, entries=fetched.entries_count,
            notes=fetched.notes, etag=fetched.etag, last_modified=fetched.last_modified, body_hash=fetched.body_hash,
            title=fetched.title,
        )

    async def _record(self, source: Source, outcome: PollOutcome) -> PollOutcome:
        """Record a poll that stored nothing, in one transaction with the others that finish about now; returns
        once it is recorded (or raises why it could not be)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((source, outcome, done))
        if len(self._pending) >= RECORD_BATCH:
            self._spawn(self._flush())
        elif len(self._pending) == 1:
            self._spawn(self._flush(delay=RECORD_WAIT))
        await done
        return outcome

    def _spawn(self, flush: Coroutine[None, None, None]) -> None:
        task = asyncio.create_task(flush)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush(self, delay: float = 0.0) -> None:
        if delay:
            await asyncio.sleep(delay)
        batch, self._pending = self._pending, []
        if not batch:
            return
        async with self._store_lock:
            try:
                await asyncio.to_thread(self._store_outcomes, [(source, outcome) for source, outcome, _ in batch])
                failed: BaseException | None = None
            except Exception as exc:
                failed = exc
            for source, outcome, done in batch:
                if failed is not None:  # one source's row must not cost the others theirs: each alone
                    try:
                        await asyncio.to_thread(self._store_outcome, source, outcome)
                    except Exception as exc:
                        if not done.done():
                            done.set_exception(exc)
                        continue
                if not done.done():
                    done.set_result(None)
        if failed is not None:
            log.warning("recording %d polls at once failed (%s: %s); they were recorded one by one", len(batch),
                        type(failed).__name__, first_line(failed))

    def _store_outcomes(self, results: list[tuple[Source, PollOutcome]]) -> None:
        with session_scope(self.engine) as session:
            recorded = finish_polls(session=session, owner=self.owner, results=results)
        for source, _ in results:
            if source.id not in recorded:
                log.warning("lease on source %s lost; its poll result was discarded", source.id)

    def _store_outcome(self, source: Source, outcome: PollOutcome) -> None:
        with session_scope(self.engine) as session:
            if finish_poll(session=session, source=source, owner=self.owner, result=outcome) is None:
                session.rollback()
                log.warning("lease on source %s lost; its poll result was discarded", source.id)

    def _store_ok_once(self, source: Source, started: datetime, fetched: _Fetched, *, one_by_one: bool) -> PollOutcome:
        # What a source's first successful poll finds was there before we looked: history, not news.
        backfill = source.last_success_at is None
        counts = None
        if fetched.items and one_by_one:
            counts, refused = self._store_each(source, fetched.items, backfill=backfill)
            if refused:
                if not (counts.new or counts.updated or counts.linked or counts.unchanged):
                    raise StoreRefusedError(refused)  # nothing stored: the poll failed, and says why
                fetched.notes = "; ".join(n for n in (fetched.notes, refused) if n)[:2000]
                # Next time the source is fetched in full and read again (no validators, no body hash), so the
                # refused items are tried again; the stored ones are then unchanged.
                fetched.body_hash = fetched.etag = fetched.last_modified = None
        notes, validators = fetched.notes, (fetched.etag, fetched.last_modified, fetched.body_hash)
        with session_scope(self.engine) as session:
            if fetched.items and not one_by_one:
                counts = store_items(session=session, source=source, items=fetched.items, now=self.clock(),
                                     backfill=backfill)
                if counts.new or counts.updated or counts.linked:  # any worker may cluster them now
                    request_work(session=session, team_id=source.team_id, kind="cluster")
            if fetched.full_list and fetched.outcome == "ok":
                closing = self._close_unlisted(session, source, fetched, counts.new_ids if counts else ())
                notes = "; ".join(n for n in (notes, closing.note) if n)[:2000] or None
                if closing.held:  # read in full next time, even if unchanged, to confirm or undo the hold
                    validators = (None, None, None)
            finished = self.clock()
            outcome = PollOutcome(
                outcome=fetched.outcome, started_at=started, finished_at=finished,
                next_due_at=next_poll_at(now=finished, interval=self.settings.briefbot_poll_interval, failures=0,
                                     max_backoff=self.settings.briefbot_max_backoff),
                http_status=fetched.status, bytes_read=fetched.bytes_read, entries=fetched.entries_count,
                items_new=counts.new if counts else 0, items_updated=counts.updated if counts else 0,
                items_linked=counts.linked if counts else 0, notes=notes, etag=validators[0],
                last_modified=validators[1], body_hash=validators[2], title=fetched.title,
            )
            if finish_poll(session=session, source=source, owner=self.owner, result=outcome) is None:
                # Lost the lease (we were too slow and another poller took over): keep nothing of ours.
                session.rollback()
                log.warning("lease on source %s lost; its poll result was discarded", source.id)
            return outcome

    def _close_unlisted(self, session: Session, source: Source, fetched: _Fetched,
                        new_ids: Sequence[int]) -> ClosingCounts:
        """The job postings the poll no longer lists closed, those listed again reopened, and the new ones that
        are recently closed postings come back marked as reposts; in the poll's transaction, so a lost lease keeps
        none of it. A failure here fails this source's poll alone, as storing does."""
        now = self.clock()
        closing = close_unlisted(session=session, source=source, listed={i.external_id for i in fetched.items},
                                 now=now, empty_since=fetched.empty_since)
        reposts = mark_reposts(session=session, team_id=source.team_id, item_ids=new_ids, now=now) if new_ids else 0
        if closing.confirmed_since is not None:  # a held disappearance confirmed: its poll's new postings too
            reposts += self._late_reposts(session, source, closing.confirmed_since, set(new_ids))
        if closing.closed or closing.reopened or reposts:  # open roles changed: signals are read again
            request_work(session=session, team_id=source.team_id, kind="cluster")
        return closing

    def _late_reposts(self, session: Session, source: Source, gone_at: datetime, matched: set[int]) -> int:
        """A board that re-lists its roles takes them all down and puts them up under new ids in one poll: the
        disappearance is held for a poll (it may be an outage), so the new postings stored with it found nothing
        closed to repost. Once the next poll confirms it, those postings are matched against the closings, as
        of the held poll (`gone_at`). The postings first seen a moment before it count (the poll stores before
        it closes), but not those of the poll before, which still listed the old ones, nor this poll's own new
        postings (`matched`: just looked at, against every closing)."""
        slack = min(LATE_REPOST_SLACK, timedelta(seconds=self.settings.briefbot_poll_interval / 2))
        new = [i for i in postings_seen_since(session=session, source=source, since=gone_at - slack)
               if i not in matched]
        return mark_reposts(session=session, team_id=source.team_id, item_ids=new, now=gone_at) if new else 0

    def _store_each(self, source: Source, items: list[NormalisedItem], *,
                    backfill: bool) -> tuple[StoreCounts, str | None]:
        """Each item in a transaction of its own (pysqlite's savepoints do not nest inside a transaction it has
        not begun, so no savepoints): the ones the database refuses are left out and named. Used only after
        the batch failed; a lost lease then keeps the items stored, which are real and deduplicated anyway."""
        new = updated = linked = unchanged = 0
        new_ids: list[int] = []
        refused: list[str] = []
        for item in items:
            try:
                with session_scope(self.engine) as session:
                    counts = store_items(session=session, source=source, items=[item], now=self.clock(),
                                         backfill=backfill)
                    if counts.new or counts.updated or counts.linked:
                        request_work(session=session, team_id=source.team_id, kind="cluster")
            except (DatabaseError, UnfitValueError) as exc:
                if isinstance(exc, OperationalError):  # the database, not the item: stop, the poll is retried
                    raise
                refused.append(f"{type(exc).__name__}: {first_line(exc)[:120]}")
                continue
            new_ids.extend(counts.new_ids)
            new, updated = new + counts.new, updated + counts.updated
            linked, unchanged = linked + counts.linked, unchanged + counts.unchanged
        note = f"{len(refused)} of {len(items)} items could not be stored ({refused[0]})" if refused else None
        return StoreCounts(new=new, updated=updated, linked=linked, unchanged=unchanged, new_ids=tuple(new_ids)), note

    async def _finish_error(self, source: Source, started: datetime, exc: SourceError) -> PollOutcome:
        async with self._store_lock:
            return await asyncio.to_thread(self._store_error, source, started, exc)

    def _store_error(self, source: Source, started: datetime, exc: SourceError) -> PollOutcome:
        finished = self.clock()
        outcome = PollOutcome(
            outcome="error", started_at=started, finished_at=finished,
            next_due_at=next_poll_at(now=finished, interval=self.settings.briefbot_poll_interval,
                                 failures=source.failures + 1, max_backoff=self.settings.briefbot_max_backoff,
                                 retry_after=exc.retry_after, source_id=source.id or 0,
                                 retry_base=self.settings.briefbot_retry_base),
            http_status=exc.status, error_kind=exc.kind, error=exc.message[:2000],
        )
        with session_scope(self.engine) as session:
            finish_poll(session=session, source=source, owner=self.owner, result=outcome)
        log.info("source %s failed (%s): %s", source.id, exc.kind, exc.message)
        return outcome


class _Unread:
    """The sources of a claimed batch not read yet: `all_read` is set once each has been (or the batch ended)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.all_read = asyncio.Event()

    def one_read(self) -> None:
        self.count -= 1
        if self.count <= 0:
            self.all_read.set()

    def ended(self, _: object) -> None:
        self.all_read.set()


class StoreRefusedError(Exception):
    """The database refused every item of a poll, one by one."""


def _validator(value: str | None, limit: int) -> str | None:
    """A cache validator (ETag, Last-Modified) to send back next time; one too long for its column or with
    control characters is not kept (an unconditional fetch next time costs less than a clipped validator)."""
    if value is None or len(value) > limit or scrub(value) != value:
        return None
    return value


def refresh_statistics(engine: Engine) -> None:
    """The item tables' planner statistics brought up to date after a big insert (`storage/db`)."""
    with session_scope(engine) as session:
        refresh_item_statistics(session=session)


@dataclass(slots=True)
class _Fetched:
    outcome: str
    status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    bytes_read: int = 0
    entries_count: int = 0
    title: str = ""
    items: list[NormalisedItem] = field(default_factory=list)
    notes: str | None = None
    full_list: bool = False  # a job source's poll that read every page of its list
    empty_since: datetime | None = None  # the second empty poll in a row: the first was then


def _notes(entries: int, undated: int, skipped: int, warnings: list[str]) -> str | None:
    notes = list(warnings)
    if undated:
        notes.append(f"{undated} of {entries} items have no date; their first-seen time stands in")
    if skipped:
        notes.append(f"{skipped} items had neither a link nor a title and were skipped")
    return "; ".join(notes)[:2000] or None


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or ""
