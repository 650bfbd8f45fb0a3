"""CLI start-up (issue 15 item 3): how long a `briefbot` command takes, start to exit, before and after a change.
`.venv/bin/python bench/cli_start.py [--baseline-rev REV] [--runs N] [--no-bytecode]`

Prints figures, asserts nothing. Times, as the median of N runs each (wall clock of the whole subprocess):
`python -c "import json"` (the interpreter's own start, the floor), `briefbot --help`, and `briefbot sources list` on
a fresh SQLite file (DATABASE_URL; one run first creates and migrates it, so the timed runs are a steady state with
an empty source list). Each command runs in two trees: "before" is `git archive REV bot prompts` unpacked into a
temp dir (default REV: the commit before the lazy CLI, c87854f), "after" is this checkout. Both run with the same
interpreter as `python -c "import sys; from bot.cli import main; sys.argv[0] = 'briefbot'; main()" ARGS`, with
PYTHONPATH pointing at the tree (ahead of the editable install), from an empty temp dir (no .env) and without
OPENAI_*, SLACK_*, BRIEFBOT_* and DATABASE_URL from the caller. Bytecode is cached, as an installed package has it
(PYTHONPYCACHEPREFIX, one temp dir a side, filled by a first run; the checkout's own folders are not written);
`--no-bytecode` compiles every module from source on every run instead (PYTHONDONTWRITEBYTECODE=1). Runs are
interleaved round by round (json, before, after, in turn), so a change of load on a shared machine touches both
sides alike. Each tree's `bot` is checked to be the one loaded, and the two `--help` outputs are compared."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASELINE = "c87854f"  # main just before the lazy CLI
ENTRY = "import sys; from bot.cli import main; sys.argv[0] = 'briefbot'; main()"
FLOOR_LABEL = 'python -c "import json"'
BYTECODE = True  # set by main() from --no-bytecode
COMMANDS = {"--help": ["--help"], "sources list": ["sources", "list"]}


def unpack(rev: str, into: Path) -> Path:
    """`bot/` and `prompts/` as they were at `rev`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "bot", "prompts"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


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


def run(argv: list[str], env: dict[str, str] | None, cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-rev", default=DEFAULT_BASELINE, help="git revision timed as 'before'")
    parser.add_argument("--runs", type=int, default=15, help="runs of each command on each side")
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
        trees = {"before": unpack(args.baseline_rev, work / "before"), "after": ROOT}
        envs = {side: environment(work, side, tree) for side, tree in trees.items()}
        bare = environment(work, "json")
        (work / "cwd").mkdir()
        cwd = work / "cwd"
        run([sys.executable, "-c", "import json"], bare, cwd)
        for side, tree in trees.items():  # the tree asked for is the one imported; the database is migrated
            _, where = run([sys.executable, "-c", "import bot; print(bot.__file__)"], envs[side], cwd)
            if not Path(where.strip()).is_relative_to(tree):
                raise SystemExit(f"{side}: imported {where.strip()}, not {tree}")
            run([sys.executable, "-c", ENTRY, "sources", "list"], envs[side], cwd)
        helps = {side: run([sys.executable, "-c", ENTRY, "--help"], envs[side], cwd)[1] for side in trees}

        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.runs):
            times.setdefault((FLOOR_LABEL, ""), []).append(run([sys.executable, "-c", "import json"], bare, cwd)[0])
            for label, argv in COMMANDS.items():
                for side in trees:
                    times.setdefault((f"briefbot {label}", side), []).append(
                        run([sys.executable, "-c", ENTRY, *argv], envs[side], cwd)[0]
                    )

    median = {key: statistics.median(values) for key, values in times.items()}
    floor = median[(FLOOR_LABEL, "")]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    cache = "bytecode cached" if BYTECODE else "no bytecode cache"
    print(
        f"CLI start-up: median of {args.runs} runs, before = {args.baseline_rev}, after = this checkout, {cache}; "
        f"{os.cpu_count()} CPUs, load average {load}"
    )
    print(f"{'command':<34}{'before':>9}{'after':>9}{'after - json':>14}")
    print(f"{FLOOR_LABEL:<34}{'':>9}{floor:>8.3f}s")
    for label in COMMANDS:
        before, after = median[(f"briefbot {label}", "before")], median[(f"briefbot {label}", "after")]
        print(f"{'briefbot ' + label:<34}{before:>8.3f}s{after:>8.3f}s{after - floor:>13.3f}s")
    print("--help output: " + ("identical before and after" if helps["before"] == helps["after"] else "DIFFERS"))


if __name__ == "__main__":
    main()
