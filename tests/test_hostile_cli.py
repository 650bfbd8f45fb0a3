"""The CLI's error boundary against hostile and mistaken input (issue 11, items 3, 12 and 14): every expected
failure of a real `briefbot` process is one line on stderr, `briefbot: …`, with a non-zero exit and no
traceback; settings errors name the setting; and in single-token mode a follow lands in the token's own
workspace, while follows nothing can post are said (`sources list`, `briefbot status`, the worker's log).

Real processes where the process is the point (settings, the database, Slack at start-up), click's CliRunner
for the many argument checks; both databases wherever one is involved."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from bot.cli import main
from bot.slack.clients import SlackClients
from bot.storage.db import session_scope
from bot.storage.models import Delivery, Item
from bot.worker.outbox import OutboxLoop
from tests.conftest import with_pg_option
from tests.test_signal_update import board, seed_seattle_hiring
from tests.test_slack_delivery import follow

BRIEFBOT = Path(sys.executable).with_name("briefbot")


def briefbot(*args: str, env: dict[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """A real `briefbot` process with only `env` (no .env: `cwd` is the test's own folder)."""
    full = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "LANG": "C.UTF-8", **env}
    return subprocess.run([str(BRIEFBOT), *args], cwd=cwd, env=full, capture_output=True, text=True,
                          timeout=timeout)


def one_line(stderr: str, returncode: int, *phrases: str, code: int | None = None, stdout: str = "") -> str:
    """The failure's line, after checking it is the only line on stderr, starts `briefbot: `, holds every phrase,
    and came with a non-zero exit (`code` when given) and no traceback anywhere."""
    assert returncode != 0, stderr
    if code is not None:
        assert returncode == code, (returncode, stderr)
    assert "Traceback" not in stderr + stdout, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("briefbot: "), lines[0]
    for phrase in phrases:
        assert phrase in lines[0], (phrase, lines[0])
    return lines[0]


def failed(done: subprocess.CompletedProcess[str], *phrases: str, code: int | None = None) -> str:
    return one_line(done.stderr, done.returncode, *phrases, code=code, stdout=done.stdout)


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`briefbot` in-process on the test's database; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str, **env: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(main, list(args), env={"DATABASE_URL": db_url, **env}, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run


def cli_failed(outcome: tuple[int, str, str], *phrases: str, code: int | None = None) -> str:
    exit_code, stdout, stderr = outcome
    return one_line(stderr, exit_code, *phrases, code=code, stdout=stdout)


# ---- times and numbers that overflow --------------------------------------------------------------------------------


@pytest.mark.parametrize(("command", "since"), [
    *[("items", since) for since in ("99999999999d", "999999d", "9" * 30 + "w", "99999999999999h",
                                     "9999-12-31T23:59:59-05:00")],
    ("briefs", "99999999999d"), ("signals", "9" * 30 + "m"), ("stories", "0001-01-01T00:00:00+01:00")])
def test_overflowing_times_are_a_usage_error(cli: Any, command: str, since: str) -> None:
    cli_failed(cli(command, "--since", since), f"{command}: Invalid value for '--since'", "years 1 to 9999", code=2)


@pytest.mark.slow
def test_overflowing_times_in_a_real_process(db_url: str, tmp_path: Path) -> None:
    done = briefbot("items", "--since", "99999999999d", env={"DATABASE_URL": db_url}, cwd=tmp_path)
    failed(done, "items: Invalid value for '--since'", code=2)
    control = briefbot("items", "--since", "36500d", env={"DATABASE_URL": db_url}, cwd=tmp_path)
    assert control.returncode == 0 and "no items yet" in control.stdout, control.stderr


@pytest.mark.parametrize("args", [["sources", "remove", "99999999999999999999"], ["sources", "remove", "2147483648"],
                                  ["sources", "remove", "0"], ["items", "--source", "99999999999999999999"],
                                  ["poll", "--source", "2147483648"], ["sources", "remove", "1e3"]])
def test_ids_past_the_id_column_are_a_usage_error(cli: Any, args: list[str]) -> None:
    cli_failed(cli(*args), "is not a source id", "briefbot sources list", code=2)


@pytest.mark.slow
def test_removing_an_id_the_column_holds_reaches_the_database(db_url: str, tmp_path: Path) -> None:
    done = briefbot("sources", "remove", "99999999999999999999", env={"DATABASE_URL": db_url}, cwd=tmp_path)
    failed(done, "ids run from 1 to 2147483647", code=2)
    # Control: the largest id an INTEGER column holds passes the check and is looked up (PostgreSQL included).
    edge = briefbot("sources", "remove", "2147483647", env={"DATABASE_URL": db_url}, cwd=tmp_path)
    failed(edge, "no source with id 2147483647", code=1)


# ---- arguments longer than their columns, or not ids at all -------------------------------------------------------


@pytest.mark.parametrize(("args", "phrase"), [
    (["sources", "add", "greenhouse:acme", "--team", "T" * 33], "--team': 'TTTT"),
    (["sources", "add", "greenhouse:acme", "--channel", "C" * 33], "at most 32"),
    (["sources", "add", "greenhouse:acme", "--channel", "C1\x00"], "not a Slack channel id"),
    (["sources", "add", "greenhouse:acme", "--channel", "#general"], "not a Slack channel id"),
    (["sources", "add", "https://example.com/" + "a" * 2000], "at most 2000"),
    (["sources", "add", "https://example.com/\x1b[31mfeed"], "control or invisible characters"),
    (["sources", "add", "https://exa\u202emple.com/feed"], "control or invisible characters"),
    (["sources", "add", "   "], "empty"),
    (["sources", "list", "--team", "T" * 500], "at most 32"),
    (["items", "--team", "T_LOCAL'; drop table items"], "not a Slack team id"),
    (["ask", "who is hiring", "--thread", "x" * 33], "not a thread id"),
])
def test_over_long_or_malformed_arguments_are_a_usage_error(cli: Any, args: list[str], phrase: str) -> None:
    cli_failed(cli(*args), phrase, code=2)


def test_arguments_as_long_as_their_columns_are_stored(cli: Any, db_url: str) -> None:
    team, channel = "T" * 32, "C" * 32
    code, stdout, stderr = cli("sources", "add", "greenhouse:acme", "--team", team, "--channel", channel, "--json")
    assert code == 0, stderr
    added = json.loads(stdout)
    assert added["team_id"] == team and added["channel"] == channel
    code, stdout, _ = cli("sources", "list", "--team", team, "--json")
    assert [s["channels"] for s in json.loads(stdout)] == [[channel]]


# ---- settings errors name the setting -----------------------------------------------------------------------------


@pytest.mark.slow
def test_settings_errors_name_the_setting(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ok.db'}"
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    cases: list[tuple[dict[str, str], tuple[str, ...]]] = [
        ({"BRIEFBOT_LOG_LEVEL": "LOUD"}, ("BRIEFBOT_LOG_LEVEL", "'LOUD' is not a log level")),
        ({"BRIEFBOT_PROMPTS_DIR": str(tmp_path / "missing")}, ("BRIEFBOT_PROMPTS_DIR", "not found")),
        ({"BRIEFBOT_PROMPTS_DIR": str(a_file)}, ("BRIEFBOT_PROMPTS_DIR",)),
        ({"DATABASE_URL": "sqlite:///"}, ("DATABASE_URL", "in-memory")),
        ({"DATABASE_URL": "sqlite://"}, ("DATABASE_URL", "in-memory")),
        ({"DATABASE_URL": "sqlite:///:memory:"}, ("DATABASE_URL", "in-memory")),
        ({"DATABASE_URL": "mysql://u:secret@h/d"}, ("DATABASE_URL", "mysql is not supported")),
        ({"DATABASE_URL": "not a url"}, ("DATABASE_URL", "not a database URL")),
        ({"BRIEFBOT_LEASE_SECONDS": "ten"}, ("BRIEFBOT_LEASE_SECONDS",)),
    ]
    for env, phrases in cases:
        done = briefbot("sources", "add", "greenhouse:acme", env={"DATABASE_URL": db, **env}, cwd=tmp_path)
        line = failed(done, *phrases, code=1)
        assert "cannot open the database" not in line and "secret" not in line, line
    # Nothing was added anywhere by the in-memory URL: the file database is still empty.
    listed = briefbot("sources", "list", env={"DATABASE_URL": db, "BRIEFBOT_LOG_LEVEL": "warning"}, cwd=tmp_path)
    assert listed.returncode == 0 and "no sources yet" in listed.stdout, listed.stderr


# ---- the database: locked, read-only, a full disk ------------------------------------------------------------------


@contextlib.contextmanager
def held_lock(db_url: str) -> Iterator[None]:
    """Another process's long write: BEGIN EXCLUSIVE on SQLite, an ACCESS EXCLUSIVE table lock on PostgreSQL."""
    if db_url.startswith("sqlite"):
        writer = sqlite3.connect(db_url.split("///", 1)[1], isolation_level=None)
        writer.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        return
    engine = create_engine(db_url)
    with engine.connect() as conn:
        conn.execute(text("LOCK TABLE sources IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            conn.rollback()
    engine.dispose()


@pytest.mark.slow
def test_a_database_locked_past_its_wait_is_one_line(db_url: str, tmp_path: Path) -> None:
    """A statement waits BRIEFBOT_DB_LOCK_TIMEOUT (here 2 s) for a lock: SQLite's busy_timeout, PostgreSQL's
    lock_timeout."""
    env = {"DATABASE_URL": db_url, "BRIEFBOT_DB_LOCK_TIMEOUT": "2"}
    started = time.monotonic()
    with held_lock(db_url):
        done = briefbot("sources", "add", "greenhouse:acme", env=env, cwd=tmp_path, timeout=90)
    waited = time.monotonic() - started
    phrase = "locked by another process" if db_url.startswith("sqlite") else "the database was busy"
    failed(done, phrase, "try again", code=1)
    assert waited < 20, waited
    again = briefbot("sources", "add", "greenhouse:acme", env=env, cwd=tmp_path)  # control: free again, it works
    assert again.returncode == 0 and "added source" in again.stdout, again.stderr


def make_read_only(path: Path) -> None:
    """A file nobody may write: mode 0444, or, for root (whom modes do not stop), the immutable attribute."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode != 0:
        pytest.skip("running as root on a file system without chattr +i: cannot make a read-only file")


def writable_again(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], check=False)
    path.chmod(0o644)


@pytest.mark.slow
def test_a_read_only_database_is_one_line_and_still_readable(db_url: str, tmp_path: Path) -> None:
    """The close cousin of a full disk that needs no mount: a database that refuses every write. SQLite: the file
    is read-only; PostgreSQL: every transaction is read-only (as on a standby server)."""
    ok = briefbot("sources", "add", "greenhouse:first", env={"DATABASE_URL": db_url}, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    if db_url.startswith("sqlite"):
        path = Path(db_url.split("///", 1)[1])
        make_read_only(path)
        url, phrase = db_url, "its file or folder is read-only"
    else:
        path, phrase = None, "the database is read-only"
        url = with_pg_option(db_url, "-cdefault_transaction_read_only=on")
    try:
        done = briefbot("sources", "add", "greenhouse:second", env={"DATABASE_URL": url}, cwd=tmp_path)
        failed(done, phrase, code=1)
        listed = briefbot("sources", "list", env={"DATABASE_URL": url}, cwd=tmp_path)  # reading still works
        assert listed.returncode == 0 and "greenhouse:first" in listed.stdout, listed.stderr
        assert "greenhouse:second" not in listed.stdout
    finally:
        if path is not None:
            writable_again(path)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs: a disk that really fills up (ENOSPC). Needs the right to mount (root in a container)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                                                       capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root): the read-only database test stands in for it")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int) -> None:
    """Fill `disk` to within `leave` bytes of full."""
    free = shutil.disk_usage(disk).free
    with (disk / f"filler-{uuid.uuid4().hex[:6]}").open("wb") as handle:
        handle.truncate(0)
        handle.write(b"\0" * max(0, free - leave))


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_saves_nothing_half(tiny_disk: Path, tmp_path: Path) -> None:
    """SQLite on a disk that fills up: a write that cannot be saved, then a database that cannot even be
    opened (SQLite needs room for its -shm file). PostgreSQL's disk is the server's, out of a test's reach; its
    "disk full" (SQLSTATE 53100) gets the same line."""
    env = {"DATABASE_URL": f"sqlite:///{tiny_disk / 'briefbot.db'}"}
    assert briefbot("sources", "add", "greenhouse:first", env=env, cwd=tmp_path).returncode == 0
    fill(tiny_disk, leave=40 * 1024)  # room to open the database, not to write to it
    failed(briefbot("sources", "add", "greenhouse:second", env=env, cwd=tmp_path), "disk holding the database is full",
           code=1)
    fill(tiny_disk, leave=0)
    failed(briefbot("sources", "list", env=env, cwd=tmp_path), "cannot open the database", "is full", code=1)
    for filler in tiny_disk.glob("filler-*"):
        filler.unlink()
    listed = briefbot("sources", "list", env=env, cwd=tmp_path)  # control: space again, nothing half-saved
    assert listed.returncode == 0 and "greenhouse:first" in listed.stdout and "second" not in listed.stdout


# ---- run and serve: tokens that cannot work --------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "serve"])
def test_run_and_serve_stop_at_once_on_a_token_that_cannot_work(command: str, tmp_path: Path, slack: Any) -> None:
    """The tokens are checked before the database is opened, so one database is enough here."""
    base = {"DATABASE_URL": f"sqlite:///{tmp_path / 'slack.db'}", "SLACK_API_URL": slack.api_url,
            "SLACK_SIGNING_SECRET": "s", "SLACK_APP_TOKEN": "xapp-1-A1-123-abc", "BRIEFBOT_SLACK_TIMEOUT": "3",
            "PORT": str(closed_port())}
    unreachable = f"http://127.0.0.1:{closed_port()}/api/"
    cases: list[tuple[dict[str, str], tuple[str, ...]]] = [
        ({"SLACK_BOT_TOKEN": "xoxb-not-a-real-token"}, ("Slack refused SLACK_BOT_TOKEN (invalid_auth)",)),
        ({"SLACK_BOT_TOKEN": "xapp-1-A1-123-abc"}, ("SLACK_BOT_TOKEN holds an app-level token (xapp-…)",)),
        ({"SLACK_BOT_TOKEN": "xoxp-123-user"}, ("SLACK_BOT_TOKEN holds a user token",)),
        ({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": unreachable}, ("cannot reach Slack", "SLACK_API_URL")),
    ]
    if command == "run":
        cases.append(({"SLACK_BOT_TOKEN": "xapp-1-A1-123-abc", "SLACK_APP_TOKEN": "xoxb-test"},
                      ("SLACK_APP_TOKEN must be the app-level token", "swapped")))
    for env, phrases in cases:
        started = time.monotonic()
        done = briefbot(command, env={**base, **env}, cwd=tmp_path, timeout=60)
        failed(done, *phrases, code=1)
        assert time.monotonic() - started < 30
        assert "xoxb-not-a-real-token" not in done.stderr  # a token is never echoed
    assert len(slack.calls("auth.test")) == 1  # one look, for the refused token; the others needed none
    assert slack.posts() == []


# ---- single-token mode: the token's own workspace, and follows nothing can post ------------------------------------


def slack_env(db_url: str, slack: Any, **more: str) -> dict[str, str]:
    return {"DATABASE_URL": db_url, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": slack.api_url, **more}


@pytest.mark.slow
def test_with_a_bot_token_a_follow_lands_in_the_tokens_workspace(db_url: str, tmp_path: Path, slack: Any) -> None:
    env = slack_env(db_url, slack)
    done = briefbot("sources", "add", "greenhouse:acme", "--channel", "C1", "--json", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["team_id"] == "T1"  # the fake's xoxb-test belongs to T1
    assert len(slack.calls("auth.test")) == 1
    listed = briefbot("sources", "list", "--json", env=env, cwd=tmp_path)
    assert [(s["team_id"], s["channels"], s["unpostable"]) for s in json.loads(listed.stdout)] == [("T1", ["C1"], None)]
    status = briefbot("status", env=env, cwd=tmp_path)
    assert status.returncode == 0 and "SLACK_BOT_TOKEN of workspace T1" in status.stdout, status.stderr
    assert "warning" not in status.stdout
    # --team still wins, and needs no question to Slack.
    asked = len(slack.calls("auth.test"))
    other = briefbot("sources", "add", "greenhouse:beta", "--team", "T7", "--json", env=env, cwd=tmp_path)
    assert json.loads(other.stdout)["team_id"] == "T7" and len(slack.calls("auth.test")) == asked
    assert "note:" not in done.stderr  # nothing was filed under T_LOCAL before


@pytest.mark.slow
def test_an_install_from_before_the_token_chose_the_workspace_is_told_where_its_sources_are(
        db_url: str, tmp_path: Path, slack: Any) -> None:
    earlier = briefbot("sources", "add", "greenhouse:old", "--team", "T_LOCAL", env={"DATABASE_URL": db_url},
                       cwd=tmp_path)
    assert earlier.returncode == 0, earlier.stderr
    done = briefbot("sources", "add", "greenhouse:acme", "--json", env=slack_env(db_url, slack), cwd=tmp_path)
    assert done.returncode == 0 and json.loads(done.stdout)["team_id"] == "T1", done.stderr
    assert done.stderr.strip() == ("note: using SLACK_BOT_TOKEN's workspace T1; 1 source(s) are filed under T_LOCAL, "
                                   "which that token cannot post to (pass --team T_LOCAL to work with them)")


@pytest.mark.slow
def test_follows_no_token_can_post_are_said_in_sources_list_and_status(db_url: str, tmp_path: Path,
                                                                        slack: Any) -> None:
    env = slack_env(db_url, slack, BRIEFBOT_DEFAULT_TEAM="T_LOCAL")  # set on purpose: kept, and warned about
    done = briefbot("sources", "add", "greenhouse:acme", "--channel", "C1", "--json", env=env, cwd=tmp_path)
    assert json.loads(done.stdout)["team_id"] == "T_LOCAL"
    warning = ("warning: nothing can be posted to workspace T_LOCAL (channel C1): SLACK_BOT_TOKEN belongs to "
               "workspace T1, not T_LOCAL; follow with --team T1 instead")
    listed = briefbot("sources", "list", env=env, cwd=tmp_path)
    assert listed.returncode == 0 and warning in listed.stdout.splitlines(), listed.stdout
    as_json = json.loads(briefbot("sources", "list", "--json", env=env, cwd=tmp_path).stdout)
    assert "belongs to workspace T1" in as_json[0]["unpostable"]
    status = briefbot("status", "--json", env=env, cwd=tmp_path)
    assert json.loads(status.stdout)["unpostable"] == [
        {"team_id": "T_LOCAL", "channels": ["C1"], "waiting": 0,
         "reason": "SLACK_BOT_TOKEN belongs to workspace T1, not T_LOCAL; follow with --team T1 instead"}]
    # Control: the same follow in the token's workspace draws no warning.
    briefbot("sources", "add", "greenhouse:acme", "--channel", "C2", "--team", "T1", env=env, cwd=tmp_path)
    lines = briefbot("sources", "list", env=env, cwd=tmp_path).stdout.splitlines()
    assert [line for line in lines if line.startswith("warning:")] == [warning]


@pytest.mark.slow
def test_a_token_slack_refuses_or_cannot_be_asked_about_is_one_line(db_url: str, tmp_path: Path, slack: Any) -> None:
    refused = briefbot("sources", "add", "greenhouse:acme", "--channel", "C1",
                       env=slack_env(db_url, slack, SLACK_BOT_TOKEN="xoxb-revoked"), cwd=tmp_path)
    failed(refused, "Slack refused SLACK_BOT_TOKEN (invalid_auth)", "--team", code=1)
    gone = briefbot("sources", "add", "greenhouse:acme", "--channel", "C1",
                    env=slack_env(db_url, slack, SLACK_API_URL=f"http://127.0.0.1:{closed_port()}/api/"), cwd=tmp_path)
    failed(gone, "cannot reach Slack", "--team", code=1)
    listed = briefbot("sources", "list", "--json", env=slack_env(db_url, slack), cwd=tmp_path)
    assert json.loads(listed.stdout) == []  # neither filed anything under a guessed workspace


def test_the_worker_warns_about_deliveries_no_token_can_post(slack_ctx: Any, slack: Any, clock: Any,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    """A brief for a channel filed under T_LOCAL while SLACK_BOT_TOKEN is T1's: not posted, and said in the log
    on the first tick and again after UNPOSTABLE_CHECK_SECONDS, not on every tick."""
    follow(slack_ctx, seed_seattle_hiring(slack_ctx.engine, clock, team="T_LOCAL"), "C9")
    assert len(slack_ctx.analyse().briefs) == 1
    seconds = [0.0]
    loop = OutboxLoop(slack_ctx, clients=SlackClients(slack_ctx.settings, slack_ctx.engine),
                      monotonic=lambda: seconds[0])
    caplog.set_level(logging.WARNING, logger="bot.worker.outbox")

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "bot.worker.outbox"]

    report = loop.tick()
    assert report.sent == 0 and slack.posts() == []
    assert warnings() == ["nothing can be posted to workspace T_LOCAL (channel C9, 1 delivery waiting): "
                          "SLACK_BOT_TOKEN belongs to workspace T1, not T_LOCAL; follow with --team T1 instead"]
    with Session(slack_ctx.engine) as session:
        [delivery] = session.exec(select(Delivery)).all()
    assert delivery.status == "pending" and "no Slack token" in (delivery.last_error or "")
    seconds[0] = 60.0
    loop.tick()
    assert len(warnings()) == 1  # not on every tick
    seconds[0] = 601.0
    loop.tick()
    assert len(warnings()) == 2 and warnings()[1] == warnings()[0]


@pytest.mark.slow
def test_a_bug_is_one_line_that_says_where_its_traceback_went(engine: Any, db_url: str, tmp_path: Path,
                                                             clock: Any) -> None:
    """An unexpected failure (here a stored item whose places are not the shape `briefbot items` reads) is one
    line naming the file that holds its traceback; --debug and BRIEFBOT_DEBUG=1 print the traceback too."""
    source = board(engine, clock, team="T_LOCAL")
    with session_scope(engine) as session:
        session.add(Item(team_id="T_LOCAL", source_id=source.id or 0, kind="job", external_id="1",
                         url="https://x.example/1", url_key="k1", title="Picker", first_seen_at=clock(),
                         updated_at=clock(), content_hash="h1", locations=["Kent, WA"]))  # type: ignore[list-item]
    env = {"DATABASE_URL": db_url}
    line = failed(briefbot("items", env=env, cwd=tmp_path), "unexpected error: AttributeError", "a bug", code=1)
    kept = Path(line.split("the traceback is in ", 1)[1].split(";", 1)[0])
    assert kept.is_file() and "Traceback (most recent call last)" in kept.read_text(encoding="utf-8")
    assert kept.stat().st_mode & 0o077 == 0  # tracebacks quote values: the owner's alone
    kept.unlink()
    for args, more in ((["--debug", "items"], {}), (["items"], {"BRIEFBOT_DEBUG": "1"})):
        debug = briefbot(*args, env={**env, **more}, cwd=tmp_path)
        assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
        assert debug.stderr.splitlines()[-1].startswith("briefbot: unexpected error: AttributeError")
        assert "the traceback is in" not in debug.stderr


def test_the_traceback_file_never_follows_a_planted_symlink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: /tmp/briefbot-traceback-<second>-<pid>.txt opened with O_CREAT|O_TRUNC, so another user who planted a
    symlink at that guessable name had briefbot truncate the file it points to. Now the name is random and the
    file is created exclusively."""
    from bot.cli.boundary import keep_traceback

    shared_tmp, victim = tmp_path / "tmp", tmp_path / "victim.txt"
    shared_tmp.mkdir()
    victim.write_text("precious", encoding="utf-8")
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    now = datetime.now(UTC)
    for offset in range(-2, 6):  # every name the old scheme could pick in the next few seconds
        stamp = (now + timedelta(seconds=offset)).strftime("%Y%m%dT%H%M%SZ")
        (shared_tmp / f"briefbot-traceback-{stamp}-{os.getpid()}.txt").symlink_to(victim)
    try:
        raise RuntimeError("a bug")
    except RuntimeError as exc:
        kept, again = keep_traceback(exc), keep_traceback(exc)
    assert victim.read_text(encoding="utf-8") == "precious"
    assert kept is not None and again is not None and kept != again  # not one name that can be guessed
    for path in (kept, again):
        assert path.parent == shared_tmp and path.name.startswith("briefbot-traceback-") and path.suffix == ".txt"
        assert not path.is_symlink() and "RuntimeError: a bug" in path.read_text(encoding="utf-8")
        assert path.stat().st_mode & 0o777 == 0o600


def test_slack_unreachable_delays_deliveries_without_stopping_the_outbox(db_url: str, clock: Any,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    """Single-token mode with Slack out of reach: the token's workspace cannot be learnt, so each delivery waits a
    minute (not the hour a missing token waits) with the reason recorded, and the tick ends normally."""
    from tests.conftest import context_for, make_settings

    settings = make_settings(db_url, slack_bot_token="xoxb-test", briefbot_slack_timeout=2.0,
                             slack_api_url=f"http://127.0.0.1:{closed_port()}/api/")
    ctx = context_for(settings, clock)
    follow(ctx, seed_seattle_hiring(ctx.engine, clock), "C1")
    assert len(ctx.analyse().briefs) == 1
    caplog.set_level(logging.WARNING, logger="bot.worker.outbox")
    report = OutboxLoop(ctx).tick()
    assert (report.sent, report.retried, report.failed) == (0, 1, 0)
    with Session(ctx.engine) as session:
        [delivery] = session.exec(select(Delivery)).all()
    assert delivery.status == "pending" and "cannot reach Slack" in (delivery.last_error or "")
    assert delivery.next_attempt_at == clock() + timedelta(minutes=1)
    [warning] = [r.getMessage() for r in caplog.records if r.name == "bot.worker.outbox"]
    assert warning.startswith("nothing can be posted to workspace T1 (channel C1, 1 delivery waiting): cannot reach")
    ctx.engine.dispose()
