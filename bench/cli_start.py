"""CLI start-up (issue 15 item 3): how long a `briefbot` command takes, start to exit, before and after a change.
`.venv/bin/python bench/cli_start.py [--baseline-rev REV] [--after-rev REV] [--runs N] [--sources N] [--no-bytecode]`

Prints figures, asserts nothing. Times, as the median of N runs each, the wall clock of the whole subprocess and
its CPU time (user + system, which a loaded shared machine inflates far less than the wall clock):
`python -c "import json"` (the interpreter's own start, the floor), `briefbot --help`, and `briefbot sources list` on
a fresh SQLite file (DATABASE_URL; one run first creates and migrates it, so the timed runs are a steady state with
an empty source list). With `--sources N`, also `sources list` on a second file holding N polled feeds, each
followed by a channel (so the rows are named and the Slack token is checked: no token, a warning). Each command
runs in two trees: "before" is `git archive REV bot prompts` unpacked into a temp dir (default REV: the commit
before the lazy CLI, c87854f), "after" is this checkout (its working tree, other uncommitted work included), or
`--after-rev REV` unpacked the same way. Both run with the same
interpreter as `python -c "import sys; from bot.cli import main; sys.argv[0] = 'briefbot'; main()" ARGS`, with
PYTHONPATH pointing at the tree (ahead of the editable install), from an empty temp dir (no .env) and without
OPENAI_*, SLACK_*, BRIEFBOT_* and DATABASE_URL from the caller. Bytecode is cached, as an installed package has it
(PYTHONPYCACHEPREFIX, one temp dir a side, filled by a first run; the checkout's own folders are not written);
`--no-bytecode` compiles every module from source on every run instead (PYTHONDONTWRITEBYTECODE=1). Runs are
interleaved round by round (json, before, after, in turn), so a change of load on a shared machine touches both
sides alike. Each tree's `bot` is checked to be the one loaded, and the two sides' outputs of each command are
compared."""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASELINE = "c87854f"  # main just before the lazy CLI
ENTRY = "import sys; from bot.cli import main; sys.argv[0] = 'briefbot'; main()"
FLOOR_LABEL = 'python -c "import json"'
BYTECODE = True  # set by main() from --no-bytecode
COMMANDS = {"--help": ["--help"], "sources list": ["sources", "list"]}  # label: argv (and --sources adds one)
SEEDED = "seeded"  # the database --sources fills (the others run on the empty one)


def unpack(rev: str, into: Path) -> Path:
    """`bot/` and `prompts/` as they were at `rev`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "bot", "prompts"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def seed(database: Path, count: int) -> None:
    """`count` feeds of one workspace, polled a minute ago, each followed by channel C1 (plain SQL: the same
    for both trees, whatever their code)."""
    at = "2026-01-01 00:00:00.000000"
    with sqlite3.connect(database) as db:
        db.execute("INSERT INTO workspaces (team_id, name, timezone, created_at) VALUES ('T_LOCAL', '', 'UTC', ?)",
                   (at,))
        for n in range(1, count + 1):
            url = f"https://feeds.example.com/{n}.xml"
            db.execute("INSERT INTO sources (id, team_id, kind, spec, locator, title, enabled, created_at, "
                       "next_due_at, failures, last_polled_at, last_success_at) "
                       "VALUES (?, 'T_LOCAL', 'feed', ?, ?, ?, 1, ?, ?, 0, ?, ?)",
                       (n, url, url, f"Feed {n}" if n % 2 else "", at, at, at, at))
            db.execute("INSERT INTO subscriptions (team_id, channel_id, source_id, paused, created_at) "
                       "VALUES ('T_LOCAL', 'C1', ?, 0, ?)", (n, at))


def environment(work: Path, name: str, tree: Path | None = None) -> dict[str, str]:
    """The caller's environment without briefbot's settings, with bytecode cached under `work` (see --no-bytecode)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "SLACK_", "BRIEFBOT_"))
        and k not in ("DATABASE_URL", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    }
    if BYTECODE:
        env["PYTHONPYCACHEPREFIX"] = str(work / f"pycache-{name}")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    if tree is not None:
        env |= {"PYTHONPATH": str(tree), "DATABASE_URL": f"sqlite:///{work / name}.db"}
    return env


class Timed(NamedTuple):
    wall: float  # seconds, start to exit
    cpu: float  # user + system seconds of the process: what load on a shared machine inflates least
    stdout: str


def run(argv: list[str], env: dict[str, str] | None, cwd: Path) -> Timed:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    cpu = (after.ru_utime - used.ru_utime) + (after.ru_stime - used.ru_stime)
    return Timed(elapsed, cpu, done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-rev", default=DEFAULT_BASELINE, help="git revision timed as 'before'")
    parser.add_argument("--after-rev", default=None, help="git revision timed as 'after' (default: this checkout)")
    parser.add_argument("--runs", type=int, default=15, help="runs of each command on each side")
    parser.add_argument("--sources", type=int, default=0, help="also time `sources list` over N followed feeds")
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="compile every module from source on every run (PYTHONDONTWRITEBYTECODE=1)",
    )
    args = parser.parse_args()
    global BYTECODE
    BYTECODE = not args.no_bytecode

    with tempfile.TemporaryDirectory(prefix="cli-start-") as temp:
        work = Path(temp)
        after = unpack(args.after_rev, work / "after") if args.after_rev else ROOT
        trees = {"before": unpack(args.baseline_rev, work / "before"), "after": after}
        envs = {side: environment(work, side, tree) for side, tree in trees.items()}
        commands = dict(COMMANDS)
        if args.sources:
            commands[f"sources list ({args.sources} followed)"] = ["sources", "list"]
        bare = environment(work, "json")
        (work / "cwd").mkdir()
        cwd = work / "cwd"
        run([sys.executable, "-c", "import json"], bare, cwd)
        for side, tree in trees.items():  # the tree asked for is the one imported; the database is migrated
            where = run([sys.executable, "-c", "import bot; print(bot.__file__)"], envs[side], cwd).stdout
            if not Path(where.strip()).is_relative_to(tree):
                raise SystemExit(f"{side}: imported {where.strip()}, not {tree}")
            run([sys.executable, "-c", ENTRY, "sources", "list"], envs[side], cwd)
            if args.sources:
                seeded = work / f"{side}-{SEEDED}.db"
                run([sys.executable, "-c", ENTRY, "sources", "list"], database(envs[side], seeded), cwd)
                seed(seeded, args.sources)

        def env_for(label: str, side: str) -> dict[str, str]:
            return database(envs[side], work / f"{side}-{SEEDED}.db") if "followed" in label else envs[side]

        outputs = {label: {side: run([sys.executable, "-c", ENTRY, *argv], env_for(label, side), cwd).stdout
                           for side in trees} for label, argv in commands.items()}

        times: dict[tuple[str, str], list[Timed]] = {}
        for _ in range(args.runs):
            times.setdefault((FLOOR_LABEL, ""), []).append(run([sys.executable, "-c", "import json"], bare, cwd))
            for label, argv in commands.items():
                for side in trees:
                    times.setdefault((f"briefbot {label}", side), []).append(
                        run([sys.executable, "-c", ENTRY, *argv], env_for(label, side), cwd)
                    )

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    cache = "bytecode cached" if BYTECODE else "no bytecode cache"
    after_name = args.after_rev or "this checkout"
    print(
        f"CLI start-up: median of {args.runs} runs, before = {args.baseline_rev}, after = {after_name}, {cache}; "
        f"{os.cpu_count()} CPUs, load average {load}"
    )
    for measure in ("wall", "cpu"):
        median = {key: statistics.median(getattr(t, measure) for t in timed) for key, timed in times.items()}
        floor = median[(FLOOR_LABEL, "")]
        what = "wall clock" if measure == "wall" else "CPU time (user + system)"
        print(f"{what + ':':<40}{'before':>9}{'after':>9}{'after - json':>14}")
        print(f"{FLOOR_LABEL:<40}{'':>9}{floor:>8.3f}s")
        for label in commands:
            before, after = median[(f"briefbot {label}", "before")], median[(f"briefbot {label}", "after")]
            print(f"{'briefbot ' + label:<40}{before:>8.3f}s{after:>8.3f}s{after - floor:>13.3f}s")
    for label, output in outputs.items():
        same = "identical before and after" if output["before"] == output["after"] else "DIFFERS"
        print(f"{label} output: {same}")


def database(env: dict[str, str], path: Path) -> dict[str, str]:
    return env | {"DATABASE_URL": f"sqlite:///{path}"}


if __name__ == "__main__":
    main()
