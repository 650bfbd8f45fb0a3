"""The CLI's error boundary: whatever stops a command ends as one line on stderr, `briefbot: <what went wrong
and what to do>`, and a non-zero exit (2 for a usage error, 130 when interrupted, 1 otherwise); never a
traceback on the terminal. A bug's line also says where its traceback was written. `--debug` (or
BRIEFBOT_DEBUG=1) prints the traceback of any failure above its line."""

from __future__ import annotations

import errno
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

DEBUG_ENV = "BRIEFBOT_DEBUG"


class BriefbotGroup(click.Group):
    """click's group, with the boundary around everything `main` runs: parsing, the command, its clean-up."""

    debug = False  # set by --debug for the command being run

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:  # a caller that handles errors itself
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        BriefbotGroup.debug = os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on")
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except SystemExit:
            raise
        except BaseException as exc:  # the boundary: everything ends as one line
            fail(exc, debug=BriefbotGroup.debug)
        sys.exit(result if isinstance(result, int) else 0)


def enable_debug(_ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        BriefbotGroup.debug = True


debug_option = click.option("--debug", is_flag=True, expose_value=False, is_eager=True, callback=enable_debug,
                            help=f"On failure, print the traceback too (or set {DEBUG_ENV}=1).")


def fail(exc: BaseException, *, debug: bool) -> NoReturn:
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):  # `briefbot sources` alone: its help, as click shows it
        exc.show()
        sys.exit(exc.exit_code)
    if isinstance(exc, OSError) and exc.errno == errno.EPIPE:  # `briefbot items | head`: the reader left
        _quiet_stdout()
        sys.exit(1)
    from bot.cli.explain import explain, one_line  # the database and Slack errors it knows: only on a failure

    explained = explain(exc)
    message = explained.message
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    elif not explained.expected:
        kept = keep_traceback(exc)
        message += (f" (a bug: the traceback is in {kept}; please report it)" if kept else
                    " (a bug: run again with --debug to see the traceback)")
    click.echo(f"briefbot: {one_line(message)}", err=True)
    sys.exit(exit_code(exc))


def exit_code(exc: BaseException) -> int:
    if isinstance(exc, click.ClickException):
        return exc.exit_code or 1
    if isinstance(exc, KeyboardInterrupt) or isinstance(exc.__context__, KeyboardInterrupt):
        return 130
    return 1


def keep_traceback(exc: BaseException) -> Path | None:
    """Write `exc`'s traceback to a file only this user can read (tracebacks quote values); None when even that
    fails (a full disk, say)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        # A random name created exclusively (O_EXCL, mode 0600): in a shared /tmp a predictable name could be a
        # symlink someone planted, and opening it would truncate whatever it points to.
        descriptor, name = tempfile.mkstemp(prefix="briefbot-traceback-", suffix=".txt")
        path = Path(name)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(f"briefbot {' '.join(sys.argv[1:2])} at {stamp}\n")
            traceback.print_exception(exc, file=handle)
    except OSError:
        return None
    return path


def _quiet_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
