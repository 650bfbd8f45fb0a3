"""What went wrong, for people: an exception turned into one plain line that says what to do, and whether it
was expected (bad input, a setting, the database, the disk, Slack, the network) or a bug.

Only the first line of a driver's message is used: SQLAlchemy appends the statement and its parameters, and
PostgreSQL's later lines (DETAIL) can quote stored values."""

from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import click
from slack_sdk.errors import SlackApiError
from sqlalchemy import exc as sa_exc

from bot.context import StartupError
from bot.core.normalize import first_line
from bot.slack.clients import SlackSetupError, error_code
from bot.sources.base import SourceError


@dataclass(frozen=True, slots=True)
class Explained:
    message: str
    expected: bool  # False: a bug; its traceback is kept for a report


LOCKED = ("the database is locked by another process (a worker or another command writing to it) and stayed "
          "locked past SQLite's wait; try again when it has finished")
READ_ONLY = ("the database cannot be written: its file or folder is read-only (briefbot writes the file and the "
             "-wal and -shm files beside it); fix the permissions or point DATABASE_URL at a writable place")
DISK_FULL = "the disk holding the database is full; free some space and run the command again (nothing was saved)"


def explain(exc: BaseException, *, sqlite_path: Path | None = None) -> Explained:
    """`sqlite_path`, when known, lets an SQLite file that cannot be opened be told apart: a full disk, a
    read-only file system, a folder briefbot may not write to."""
    if isinstance(exc, click.UsageError):
        command = exc.ctx.command_path if exc.ctx else "briefbot"
        message = exc.format_message()
        if "see:" not in message:
            message += f" (see: {command} --help)"
        subcommand = command.partition(" ")[2]  # the line starts "briefbot: " already
        return Explained(f"{subcommand}: {message}" if subcommand else message, True)
    if isinstance(exc, click.ClickException):
        return Explained(exc.format_message(), True)
    if isinstance(exc, (click.Abort, KeyboardInterrupt)):
        return Explained("interrupted", True)
    if isinstance(exc, (StartupError, SlackSetupError, SourceError)):
        return Explained(str(exc), True)
    if isinstance(exc, sa_exc.DBAPIError):
        return database(exc, sqlite_path)
    if isinstance(exc, sa_exc.TimeoutError):  # the connection pool: every connection busy
        return Explained("no database connection came free in time; try again", True)
    if isinstance(exc, SlackApiError):
        return Explained(f"Slack refused a request ({error_code(exc)})", True)
    if isinstance(exc, OSError):
        return Explained(system(exc), True)
    if isinstance(exc, ValueError):  # sources and specs say what is wrong with the input this way
        return Explained(first_line(exc, None), True)
    return Explained(f"unexpected error: {type(exc).__name__}: {first_line(exc, None)}", False)


def database(exc: sa_exc.DBAPIError, sqlite_path: Path | None = None) -> Explained:
    orig = exc.orig
    text = first_line(orig, None) if orig is not None else first_line(exc, None)
    lowered = text.lower()
    name = str(getattr(orig, "sqlite_errorname", "") or "")  # SQLite: SQLITE_BUSY, SQLITE_READONLY_DBMOVED, …
    state = str(getattr(orig, "sqlstate", "") or "")  # PostgreSQL's SQLSTATE
    if name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED") or "database is locked" in lowered:
        return Explained(LOCKED, True)
    if name.startswith("SQLITE_READONLY") or "readonly database" in lowered:
        return Explained(READ_ONLY, True)
    if name == "SQLITE_FULL" or "disk is full" in lowered or state.startswith("53") or "no space left" in lowered:
        return Explained(DISK_FULL, True)
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_IOERR")) and sqlite_path is not None:
        found = sqlite_folder_problem(sqlite_path)
        if found:
            return Explained(found, True)
    if name.startswith("SQLITE_CANTOPEN"):
        return Explained("cannot open the SQLite file: its folder is missing or not writable (DATABASE_URL)", True)
    if name.startswith("SQLITE_IOERR"):
        return Explained(f"the disk failed a database read or write ({text}): is it full, read-only or gone?", True)
    if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
        return Explained(f"DATABASE_URL's file is not a usable SQLite database ({text})", True)
    if state == "22003":
        return Explained(f"a number is too large for the database ({text}); check the command's arguments", True)
    if state == "22001":
        return Explained(f"a value is longer than the database allows ({text}); shorten it", True)
    if state in ("22021", "22P05"):
        return Explained(f"a value holds characters the database refuses ({text})", True)
    if state == "28P01" or state == "28000":
        return Explained(f"PostgreSQL refused the user or password in DATABASE_URL ({text})", True)
    if state == "3D000":
        return Explained(f"no such database ({text}); create it, or fix DATABASE_URL", True)
    if state in ("55P03", "57014", "40P01"):
        return Explained(f"the database was busy ({text}); try again", True)
    if state == "25006":
        return Explained(f"the database is read-only ({text}): a standby server, or default_transaction_read_only; "
                         "point DATABASE_URL at a writable primary", True)
    if isinstance(exc, sa_exc.OperationalError) or state.startswith("08"):
        return Explained(f"the database could not be used: {text}", True)
    return Explained(f"unexpected database error: {type(orig or exc).__name__}: {text}", False)


def sqlite_folder_problem(path: Path) -> str | None:
    """Why SQLite could not open or extend `path`, when its folder shows it: no space, a read-only file system,
    or no permission to create the -wal and -shm files."""
    folder = path.parent
    try:
        if shutil.disk_usage(folder).free < 256 * 1024:
            return DISK_FULL
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return f"the file system holding the database ({folder}) is read-only; point DATABASE_URL at a writable one"
    except OSError:
        return None
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return READ_ONLY
    return None


def system(exc: OSError) -> str:
    """An operating-system error (file, disk, network) as a line naming the file or address it concerns."""
    where = f": {exc.filename}" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"the disk is full{where}; free some space and run the command again"
    if exc.errno == errno.EROFS:
        return f"read-only file system{where}; briefbot needs to write there"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied{where}"
    reason = getattr(exc, "reason", None)  # urllib's URLError wraps the socket error
    if isinstance(reason, BaseException):
        return f"network error: {first_line(reason, None) or type(reason).__name__}"
    return f"{exc.strerror or first_line(exc, None) or type(exc).__name__}{where}"


def one_line(message: str) -> str:
    """`message` on one line: a multi-line message (a list after a colon, say) is joined with semicolons."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return "failed"
    out = lines[0]
    for line in lines[1:]:
        out += (" " if out.endswith(":") else "; ") + line
    return out
