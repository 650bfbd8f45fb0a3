"""Parse workers: what a poll fetched is parsed and normalised (`ingest/pages`) in worker processes, so parsing
runs on another CPU beside fetching and storing, and a parser stuck on a hostile body never holds the event loop.

Every job fails alone. A job that raises fails with its error; one that runs past BRIEFBOT_PARSE_TIMEOUT has its
worker killed; one whose worker dies fails with a line that says so. A new worker then takes the dead one's place,
and the jobs queued behind it run there. Jobs and results cross as pickles over a socket pair; each worker is sent
up to DEPTH jobs ahead of its answers, so the next one is already waiting when it finishes one.

The processes are started lazily, by the first job, from a fork server (the poller's process has threads, so it
is not forked) and owned by one `ParseWorkers`, which `bot.context` builds and closes. Its I/O runs on an event
loop of its own, in a thread, so any caller's loop (one per `asyncio.run`) can use the same workers.
`size=0` runs each job inline, in the caller's thread: no process, no timeout."""

from __future__ import annotations

import asyncio
import logging
import pickle
import signal
import socket
import struct
import threading
import traceback
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from bot.core.normalize import first_line
from bot.sources.base import SourceError

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

log = logging.getLogger(__name__)
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
HEADER = struct.Struct("!Q")  # a message's length in bytes, before it
DEPTH = 2  # jobs a worker holds at once: the one it runs and the next
START_METHOD = "forkserver"  # fork is unsafe in a process with threads; spawn re-imports everything per worker
PRELOAD = ["bot.ingest.parse_worker", "bot.ingest.pages"]  # imported once, by the fork server


class Job(Protocol[T_co]):
    """Plain data with a pure `run()`: what a worker process is sent."""

    def run(self) -> T_co: ...


class ParseWorkers:
    def __init__(self, *, size: int, timeout: float, start_method: str = START_METHOD):
        self.size = size
        self.timeout = timeout
        self.start_method = start_method
        self._lock = threading.Lock()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._queue: asyncio.Queue[_Call] = asyncio.Queue()  # used on the workers' own loop only
        self._slots: list[_Slot] = []

    async def run(self, job: Job[T]) -> T:
        """`job.run()`, in a worker process. Raises SourceError when the job did, when it ran past the timeout,
        or when its worker died (kind "parser"); any other exception of the job as SourceError "internal"."""
        if self.size == 0:
            return job.run()
        payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        loop = self._started()
        done = asyncio.run_coroutine_threadsafe(self._call(payload), loop)
        return cast(T, await asyncio.wrap_future(done))

    def pids(self) -> list[int]:
        """The worker processes running now."""
        return [pid for pid in (s.pid() for s in self._slots) if pid is not None]

    def close(self) -> None:
        """Stop the workers (each ends once its socket closes; one still busy is killed) and the thread. Jobs not done
        fail with SourceError "parser"; later calls raise RuntimeError. Safe to call twice, or never started."""
        with self._lock:
            loop, thread, self._closed = self._loop, self._thread, True
            self._loop = None
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=15)
        except Exception as exc:  # at interpreter exit the daemon processes go anyway
            log.warning("parse workers did not stop cleanly (%s: %s)", type(exc).__name__, first_line(exc))
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise RuntimeError("the parse workers are closed")
            if self._loop is None:
                import multiprocessing.util

                # Closed at exit before multiprocessing ends its daemon processes (priority >= 0), so no slot
                # sees its worker end and starts another.
                multiprocessing.util.Finalize(self, self.close, exitpriority=10)
                loop = asyncio.new_event_loop()
                self._slots = [_Slot(self, loop, self._queue) for _ in range(self.size)]
                self._thread = threading.Thread(target=self._serve, args=(loop,), name="parse-workers", daemon=True)
                self._loop = loop
                self._thread.start()
            return self._loop

    def _serve(self, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        tasks = [loop.create_task(slot.serve()) for slot in self._slots]
        try:
            loop.run_forever()
        finally:
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

    async def _call(self, payload: bytes) -> Any:
        call = _Call(payload, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(call)
        return await call.future

    async def _shutdown(self) -> None:
        for slot in self._slots:
            slot.stopping = True
            if slot.task is not None:
                slot.task.cancel()
        await asyncio.gather(*(s.task for s in self._slots if s.task is not None), return_exceptions=True)
        while not self._queue.empty():
            _fail(self._queue.get_nowait(), SourceError("parser", "the parse workers were shut down first"))

    def spawn(self) -> tuple[BaseProcess, socket.socket]:
        """A new worker process, and our end of its socket (blocking: run it in a thread)."""
        import multiprocessing

        if self.start_method == "forkserver" and "forkserver" not in multiprocessing.get_all_start_methods():
            self.start_method = "spawn"  # Windows has no fork server
        context: Any = multiprocessing.get_context(self.start_method)  # a fork server's or spawn's
        if self.start_method == "forkserver":
            context.set_forkserver_preload(PRELOAD)
        ours, theirs = socket.socketpair()
        process = context.Process(target=serve, args=(theirs,), name="briefbot-parse", daemon=True)
        try:
            process.start()
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        return process, ours


@dataclass(slots=True, eq=False)
class _Call:
    payload: bytes
    future: asyncio.Future[Any]
    timer: asyncio.TimerHandle | None = None


@dataclass(slots=True, eq=False)
class _Slot:
    """One worker process after another: a new one whenever the last died or was killed."""

    pool: ParseWorkers
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[_Call]
    process: BaseProcess | None = None
    task: asyncio.Task[None] | None = None
    stopping: bool = False
    inflight: deque[_Call] = field(default_factory=deque)  # sent, in order; the first is the one running
    expired: _Call | None = None

    def pid(self) -> int | None:
        process = self.process
        try:
            return process.pid if process is not None else None
        except ValueError:  # closed meanwhile
            return None

    async def serve(self) -> None:
        self.task = asyncio.current_task()
        while not self.stopping:
            try:
                await self._one_worker()
            except (OSError, RuntimeError, ValueError) as exc:  # could not start one: try again shortly
                why = f"{type(exc).__name__}: {first_line(exc)}"
                log.warning("a parse worker could not be started (%s)", why)
                if not self.pool.pids():  # none to run the jobs waiting: they fail rather than wait forever
                    while not self.queue.empty():
                        _fail(self.queue.get_nowait(), SourceError("parser", f"no process could be started to "
                                                                             f"read the response ({why})"))
                await asyncio.sleep(1)

    async def _one_worker(self) -> None:
        process, sock = await self.loop.run_in_executor(None, self.pool.spawn)
        self.process, self.expired = process, None
        reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 20)
        room = asyncio.Semaphore(DEPTH)
        feeder = asyncio.create_task(self._feed(writer, room))
        try:
            await self._receive(reader, room)
        finally:
            feeder.cancel()
            writer.close()
            pid, self.process = process.pid, None
            # Here the worker has ended (its socket did), or is being stopped: no thread needed to wait for it,
            # and at exit the default executor takes no more work.
            self._after(pid, _end(process))

    async def _feed(self, writer: asyncio.StreamWriter, room: asyncio.Semaphore) -> None:
        try:
            while True:
                await room.acquire()
                call = await self.queue.get()
                if call.future.done():  # its caller gave up
                    room.release()
                    continue
                self.inflight.append(call)
                if len(self.inflight) == 1:
                    self._begin(call)
                writer.write(HEADER.pack(len(call.payload)))
                writer.write(call.payload)
                await writer.drain()
        except ConnectionError:  # the worker is gone: _receive finds out too
            return

    async def _receive(self, reader: asyncio.StreamReader, room: asyncio.Semaphore) -> None:
        while True:
            try:
                (size,) = HEADER.unpack(await reader.readexactly(HEADER.size))
                data = await reader.readexactly(size)
            except (asyncio.IncompleteReadError, ConnectionError):
                return  # the worker ended (died, or killed by _expire)
            call = self.inflight.popleft()
            if call.timer is not None:
                call.timer.cancel()
            room.release()
            if self.inflight:
                self._begin(self.inflight[0])
            _settle(call, data)

    def _begin(self, call: _Call) -> None:
        call.timer = self.loop.call_later(self.pool.timeout, self._expire, call)

    def _expire(self, call: _Call) -> None:
        if self.inflight and self.inflight[0] is call and self.process is not None:
            self.expired = call
            self.process.kill()

    def _after(self, pid: int | None, code: int | None) -> None:
        """The worker ended: the job it was running fails, the ones sent behind it go back to the queue."""
        running = self.inflight.popleft() if self.inflight else None
        for call in self.inflight:
            if call.timer is not None:
                call.timer.cancel()
            self.queue.put_nowait(call)
        self.inflight.clear()
        if running is None:
            if not self.stopping:
                log.warning("parse worker %s ended while idle (%s); a new one is started", pid, _how(code))
            return
        if running.timer is not None:
            running.timer.cancel()
        if self.stopping:
            _fail(running, SourceError("parser", "the parse workers were shut down first"))
        elif self.expired is running:
            log.warning("parse worker %s ran past %gs on one response and was stopped", pid, self.pool.timeout)
            _fail(running, SourceError("parser", f"reading the response took over {self.pool.timeout:g}s "
                                                 "(BRIEFBOT_PARSE_TIMEOUT), so it was stopped; it will be retried"))
        else:
            log.warning("parse worker %s died (%s) while reading a response", pid, _how(code))
            _fail(running, SourceError("parser", f"the process reading the response died ({_how(code)}); "
                                                 "it will be retried"))


def _settle(call: _Call, data: bytes) -> None:
    if call.future.done():
        return
    try:
        ok, value = pickle.loads(data)
    except Exception as exc:
        _fail(call, SourceError("internal", f"a parse result could not be read ({type(exc).__name__}: "
                                            f"{first_line(exc)})"))
        return
    if ok:
        call.future.set_result(value)
    elif value[0] == "source":
        _, kind, message, retry_after, status = value
        _fail(call, SourceError(kind, message, retry_after=retry_after, status=status))
    else:
        _, message, trace = value
        log.error("unexpected error in a parse worker: %s\n%s", message, trace)
        _fail(call, SourceError("internal", message))


def _fail(call: _Call, exc: BaseException) -> None:
    if not call.future.done():
        call.future.set_exception(exc)


def _end(process: BaseProcess) -> int | None:
    """Wait for a worker whose socket is closed to end (it does at once, unless busy: then it is killed)."""
    process.join(0.5)
    if process.is_alive():
        process.kill()
        process.join(5)
    code = process.exitcode
    if code is not None:
        process.close()
    return code


def _how(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


# The worker process's side.

def serve(sock: socket.socket) -> None:
    """Answer jobs until the socket closes: (True, result) or (False, why) for each, in order."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the main process, which then closes us
    with sock:
        while (data := _read_message(sock)) is not None:
            reply = _answer(data)
            try:
                sock.sendall(HEADER.pack(len(reply)))
                sock.sendall(reply)
            except OSError:  # the main process is gone
                return


def _answer(data: bytes) -> bytes:
    result: tuple[bool, Any]
    try:
        job = pickle.loads(data)
        result = (True, job.run())
    except SourceError as exc:  # its own __init__ does not unpickle: sent as data
        result = (False, ("source", exc.kind, exc.message, exc.retry_after, exc.status))
    except Exception as exc:  # a parser's bug: its line for the source, its traceback for the log
        result = (False, ("error", f"{type(exc).__name__}: {first_line(exc)}", traceback.format_exc()))
    try:
        return pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        why = f"its result could not be sent back ({type(exc).__name__}: {first_line(exc)})"
        return pickle.dumps((False, ("error", why, "")), protocol=pickle.HIGHEST_PROTOCOL)


def _read_message(sock: socket.socket) -> bytes | None:
    header = _read_exactly(sock, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    return _read_exactly(sock, size)


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        n = sock.recv_into(view[got:])
        if n == 0:
            return None
        got += n
    return bytes(buffer)

