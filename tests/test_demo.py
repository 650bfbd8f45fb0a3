"""`briefbot demo` end to end: sample sources over a real local server into a fresh SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.demo.run import command_name


def test_demo_follows_polls_and_finds_the_warehouse_hiring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["demo", "--db", str(tmp_path / "demo.db")], catch_exceptions=False,
                                env={"DATABASE_URL": "sqlite:///should-not-be-used.db"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.count("   + source") == 12
    assert "feed found on the page" in out and "careers page with schema.org JobPosting data" in out
    # Day 1: Metro Wire links the Harbor Ledger's URL, and the news search's Google News links that still carry
    # their article's address are the articles the feeds already gave (one report, one item).
    assert "polled 12: 11 with news, 0 unchanged (304), 1 failed; items 48 new" in out
    assert "3 linked to a copy from another source" in out
    assert "items 20 new, 2 updated, 1 linked" in out  # day 2: new items, one corrected story, one retitled job
    assert "0 with news, 11 unchanged (304), 1 failed" in out
    assert "malformed: not a readable RSS or Atom feed" in out
    assert "Hiring signals: 1 found" in out and "Briefs: 7" in out
    # A feed the channel follows is heard story by story, one outlet's too; the news search's lone items are not.
    assert "■ Copperline Rail adds Tacoma–Spokane intermodal service\n     Reported by The Harbor Ledger" in out
    assert out.count("One outlet has it so far") == 5
    assert "• Kestrel Commerce takes giant Kent warehouse, county filings show — 3 outlets" in out
    assert "■ Kestrel Commerce takes giant Kent warehouse, county filings show (3 outlets)" in out
    lease = out[out.index("■ Kestrel Commerce takes giant Kent warehouse"):]
    lease = lease[:lease.index("\n\n")]
    assert lease.count("(The Harbor Ledger,") == 1  # its own link and its Google News copy are one report
    assert "■ Kestrel Commerce hiring 7 fulfillment and logistics roles in Seattle" in out
    assert "writer: builtin — no LLM configured" in out
    assert "Kestrel Commerce: 7 new fulfillment and logistics roles in Seattle (the company's first roles" in out
    answer = out[out.index("8. A follow-up question"):]
    assert "No LLM is configured" in answer  # and says so
    assert "• [1] Kestrel Commerce hiring 7 fulfillment and logistics roles in Seattle" in answer
    assert "Inbound Logistics Lead (Kestrel Commerce, 24 Nov 2026)" in answer
    assert "[2] https://boards.greenhouse.io/kestrel/jobs/4719811" in answer
    assert answer.count("https://boards.greenhouse.io/kestrel/jobs/4719802") == 1  # the brief's link is a posting's
    assert (tmp_path / "demo.db").exists() and not (tmp_path / "should-not-be-used.db").exists()


def test_the_demo_suggests_the_command_as_it_was_run() -> None:
    """Straight after the quick start `briefbot` is not on PATH (the virtualenv is not activated): the demo's
    suggestions name `.venv/bin/briefbot`, as it was run."""
    assert command_name(".venv/bin/briefbot", None) == ".venv/bin/briefbot"
    assert command_name(".venv/bin/briefbot", "/work/.venv/bin/briefbot") == "briefbot"  # found on PATH
    assert command_name("briefbot", None) == "briefbot"
    assert command_name("/tmp/my dir/.venv/bin/briefbot", None) == "'/tmp/my dir/.venv/bin/briefbot'"
    assert command_name("-c", None) == "briefbot"  # not run by its script (python -m, a test)
