"""Why a signal fired: the pure evidence and sparkline on hand-built histories; `briefbot signals --explain` on a
surge found through the real poller (SQLite and PostgreSQL); the alert's sparkline and its "Why this alert"
button pressed through the real served app, refused to another workspace."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.analysis.run import analyse
from bot.analysis.signal_update import update_signals
from bot.briefs.writers import BuiltinWriter
from bot.cli import main
from bot.core.signal_evidence import (
    ItemRef,
    baseline_line,
    explain,
    novelty_line,
    reason_line,
    sparkline,
    thresholds_line,
    weekly_counts,
)
from bot.core.signals import SignalParams, detect_signals
from bot.demo.server import LocalServer
from bot.settings import Settings
from bot.slack.blocks.alert import WHY_ACTION, alert_message, evidence_message
from bot.slack.blocks.limits import check_message
from bot.slack.model import EvidenceLine, EvidencePostingView, EvidenceView, Message
from bot.slack.views import alert_view
from bot.storage.models import Brief, Signal
from bot.storage.signal_evidence import signal_weekly_counts
from tests.conftest import SLACK_SECRET, wait_for
from tests.slack_requests import action_body, sign
from tests.slack_server import SlackServer
from tests.test_poller import add, poll
from tests.test_signal_baselines import board
from tests.test_signal_update import board as signal_board
from tests.test_signal_update import board as signal_update_board
from tests.test_signal_update import close, post
from tests.test_signals import BACKFILL, NOW, PARAMS, SEATTLE, posting

WRITER = BuiltinWriter("no LLM in this test")

# ---- the pure evidence ------------------------------------------------------------------------------------------


def test_sparkline_scales_to_the_busiest_week() -> None:
    assert sparkline([]) == ""
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█"  # any posting shows above an empty week
    assert sparkline([3, 3]) == "██"


def test_weekly_counts_put_each_posting_in_its_week_ending_at_the_moment() -> None:
    dated = [posting("Picker", "Kent", "Washington", days_ago=0, posted_days_ago=d) for d in (0, 6.9, 7, 13, 55.9, 56)]
    assert weekly_counts(dated, end=NOW) == (1, 0, 0, 0, 0, 0, 2, 2)  # 56 days back is the ninth week: left out
    assert weekly_counts(dated, end=NOW, weeks=2) == (2, 2)


def surge_history() -> list[Any]:
    """Engineers in San Francisco dated months back (backfill), two Seattle warehouse leads open for two months
    and more (backfill: they date the group's pace), eight Seattle warehouse roles dated in the last ten days
    (backfill), then six new ones."""
    older = [posting(f"Software Engineer {n}", "San Francisco", "California", days_ago=2, backfill=True,
                     posted_days_ago=30 + 15 * n) for n in range(3)]
    older += [posting(f"Warehouse Lead {n}", "Seattle", "Washington", days_ago=2, backfill=True,
                      posted_days_ago=60 + 15 * n) for n in range(2)]
    seattle = [posting(f"Warehouse Associate {n}", "Kent", "Washington", days_ago=2, backfill=True,
                       posted_days_ago=3 + n) for n in range(8)]
    new = [posting(f"Fulfillment Associate {n}", "Seattle", "Washington", days_ago=0.1 * n) for n in range(6)]
    return older + seattle + new


def test_a_surge_is_explained_as_detection_decided_it() -> None:
    postings = surge_history()
    (finding,) = detect_signals(postings, now=NOW, params=PARAMS)
    refs = {p.item_id: ItemRef(url=f"https://jobs.example/{p.item_id}", place="Kent, WA") for p in postings}
    evidence = explain(postings, finding.key, now=NOW, params=PARAMS, refs=refs)
    assert (evidence.reason, evidence.count, evidence.baseline) == ("surge", 14, finding.baseline)
    assert tuple(p.item_id for p in evidence.postings) == finding.item_ids  # the same postings, oldest first
    assert evidence.postings[0].url == f"https://jobs.example/{finding.item_ids[0]}"
    assert evidence.postings[0].dated and evidence.postings[0].backfill and not evidence.postings[-1].backfill
    assert evidence.pace is not None and evidence.pace.dated and evidence.pace_known()
    assert evidence.thresholds.surge_needed == 5 and evidence.novelty is None
    assert sum(evidence.weekly) == 14 and evidence.weekly[-2:] == (4, 10)
    assert reason_line(evidence, "surge") == ("surge: 14 postings in the 14-day window; a surge needs at least 5, "
                                              "5 of them new since the board was followed, and 3 × the pace of "
                                              "0.46 (5)")
    assert reason_line(evidence, "new_metro").startswith("first new metro; as it last grew the rules find a surge: ")
    oldest = (NOW - timedelta(days=75)).strftime("%Y-%m-%d")
    assert baseline_line(evidence) == (f"0.46 postings per 14 days (2 in the 4.36 windows before this one), from "
                                       f"its postings' dates since {oldest}")
    assert "MIN_SURGE 5; SURGE_RATIO 3 × pace = 5 needed" in thresholds_line(evidence)
    assert novelty_line(evidence, {}) is None


def test_the_pace_behind_a_surge_is_the_one_detection_used() -> None:
    """Two a fortnight for three months, dated by the board, then eight in the window: a surge over that pace."""
    steady = [posting(f"Warehouse Associate {k}", "Kent", "Washington", days_ago=15 + 7 * k,
                      posted_days_ago=15 + 7 * k) for k in range(12)]
    burst = [posting(f"Picker {n}", "Kent", "Washington", days_ago=n) for n in range(8)]
    (finding,) = detect_signals(steady + burst, now=NOW, params=PARAMS)
    evidence = explain(steady + burst, finding.key, now=NOW, params=PARAMS)
    assert (evidence.reason, evidence.count, evidence.baseline) == ("surge", 8, finding.baseline)
    assert (evidence.baseline_postings, evidence.baseline_windows) == (12, 5.57)  # 78 days of history before it
    assert evidence.thresholds.surge_needed == 6.46  # 3 × 12 / (78 / 14), as detection compared it
    assert "(12 in the 5.57 windows before this one)" in baseline_line(evidence)


def test_a_new_metro_shows_what_was_new_and_that_the_pace_is_not_known_yet() -> None:
    (finding,) = detect_signals(BACKFILL + SEATTLE, now=NOW, params=PARAMS)
    evidence = explain(BACKFILL + SEATTLE, finding.key, now=NOW, params=PARAMS)
    assert (evidence.reason, evidence.count) == ("new_metro", 7)
    assert evidence.novelty is not None and evidence.novelty.known_metros == ("New York", "San Francisco Bay Area")
    assert not evidence.pace_known()
    first_seen = (NOW - timedelta(days=1)).strftime("%Y-%m-%d")
    assert baseline_line(evidence).startswith(f"pace not known yet: first-seen history since {first_seen}")
    assert reason_line(evidence, "new_metro") == "new metro: 7 postings in the 14-day window; novelty needs 3"
    assert novelty_line(evidence, {"engineering": "software engineering"}) is not None
    assert str(novelty_line(evidence, {})).startswith("the company's first postings in Seattle; before the window "
                                                      "it was known to hire in New York, San Francisco Bay Area")


def test_a_signal_the_rules_no_longer_find_says_so() -> None:
    evidence = explain(BACKFILL, ("Kestrel Commerce", "fulfillment_logistics", "Seattle"), now=NOW, params=PARAMS)
    assert (evidence.reason, evidence.count, evidence.novelty) == (None, 0, None)
    assert "the rules no longer find it" in reason_line(evidence, "surge")
    nobody = explain([], ("Nobody", "fulfillment_logistics", "Seattle"), now=NOW, params=PARAMS)
    assert baseline_line(nobody) == "pace not known yet: no posting of the company was known then"
    assert nobody.weekly == (0,) * 8


# ---- briefbot signals --explain ---------------------------------------------------------------------------------


def seed_surge(settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    """The README's example: a dated backfill of eight Seattle roles (and two long open), then six more two
    days later."""
    first_poll = clock()
    seattle = [(n, f"Warehouse Associate {n}", "Kent, WA", first_poll - timedelta(days=1 + 9 * n / 7))
               for n in range(8)]
    older = [(100 + n, f"Software Engineer {n}", "San Francisco, CA", first_poll - timedelta(days=30 + 15 * n))
             for n in range(3)]
    older += [(150 + n, f"Warehouse Lead {n}", "Seattle, WA", first_poll - timedelta(days=60 + 15 * n))
              for n in range(2)]  # open for two months and more: they date the Seattle group's pace
    server.route("/kestrel", board(seattle + older))
    add(engine, clock, server.url("/kestrel"), kind="greenhouse")
    poll(settings, engine, clock, due_only=False)
    clock.now += timedelta(days=2)
    new = [(200 + n, f"Fulfillment <!channel> *Associate* {n}", "Seattle, WA", clock() - timedelta(hours=3 + n))
           for n in range(6)]
    server.route("/kestrel", board(seattle + older + new))
    poll(settings, engine, clock, due_only=False)
    assert analyse(engine=engine, clock=clock, settings=settings, writer=WRITER).problems == []


def test_explain_prints_the_evidence_and_refuses_unknown_or_other_workspace_ids(
        db_url: str, settings: Settings, engine: Engine, server: LocalServer, clock: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    seed_surge(settings, engine, server, clock)
    with Session(engine) as session:
        signal = session.exec(select(Signal)).one()
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": db_url}

    def cli(*args: str, code: int = 0) -> Any:
        result = CliRunner().invoke(main, list(args), env=env)
        assert result.exit_code == code, result.output
        return result

    out = cli("signals", "--explain", str(signal.id)).output
    assert f"signal {signal.id}: Kestrel Commerce · fulfillment and logistics · Seattle (open, 14 postings" in out
    assert "why:         surge: 14 postings in the 14-day window" in out
    assert "pace:        0.44 postings per 14 days (2 in the 4.5 windows" in out
    assert "from its postings' dates since" in out
    assert "thresholds:  window 14 days" in out and "novelty:" not in out
    assert "postings in the window (since " in out and ": 14\n" in out
    assert "https://boards.example/kestrel/205" in out and "Warehouse Associate 0" in out

    data = json.loads(cli("signals", "--explain", str(signal.id), "--json").output)
    assert (data["id"], data["reason"], data["stored_reason"], data["count"]) == (signal.id, "surge", "surge", 14)
    assert data["pace"]["known"] is True and data["pace"]["dated"] is True and data["pace"]["per_window"] == 0.44
    assert data["thresholds"] == {"window_days": 14, "min_novel": 3, "min_surge": 5, "surge_ratio": 3.0,
                                  "surge_needed": 5}
    assert sum(data["weekly"]) == 14 and data["sparkline"] == sparkline(data["weekly"])
    assert {p["url"] for p in data["postings"]} >= {f"https://boards.example/kestrel/{200 + n}" for n in range(6)}

    for args in (["--explain", "999999"], ["--explain", str(signal.id), "--team", "T2"]):
        result = cli("signals", *args, code=1)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("briefbot: no hiring signal "), result.output
    assert "in workspace T2" in cli("signals", "--explain", str(signal.id), "--team", "T2", code=1).output


# ---- Slack: the alert's sparkline and its button ----------------------------------------------------------------


def press(web: str, slack: SlackServer, name: str, value: str, **fields: Any) -> dict[str, Any]:
    body = action_body(WHY_ACTION, value, response_url=slack.hook_url(name), **fields)
    response = httpx.post(web + "/slack/events", content=body, headers=sign(SLACK_SECRET, body), timeout=10)
    assert response.status_code == 200, response.text
    hook: dict[str, Any] = wait_for(lambda: slack.hooks(name), timeout=10)[-1]
    return hook


def test_why_this_alert_answers_privately_with_the_evidence_only_in_its_workspace(
        slack_ctx: Any, web: str, slack: SlackServer, clock: Any) -> None:
    engine = slack_ctx.engine
    source = signal_board(engine, clock)
    post(engine, clock, source, ["Software Engineer"], "Bellingham", backfill=True)
    clock.now += timedelta(days=1)
    post(engine, clock, source, ["Warehouse Associate", "Forklift Operator", "<!channel> *Picker*"], "Kent")
    assert analyse(engine=engine, clock=clock, settings=slack_ctx.settings, writer=WRITER).problems == []
    with Session(engine) as session:
        brief = session.exec(select(Brief).where(Brief.subject == "signal")).one()
        alert = alert_message(alert_view(session=session, brief=brief))
    assert check_message(alert) == []
    actions = next(b for b in alert.blocks if b["type"] == "actions")
    assert [b["action_id"] for b in actions["elements"]][:2] == ["brief_ask", WHY_ACTION]
    meta = [e["text"] for e in next(b for b in alert.blocks if b["block_id"].endswith("-meta"))["elements"]]
    assert "Weekly postings ▁▁▁▁▁▁▁█" in meta  # three postings, all this week

    hook = press(web, slack, "why1", str(brief.id))
    assert (hook["response_type"], hook["replace_original"]) == ("ephemeral", False)
    text = json.dumps(hook["blocks"], ensure_ascii=False)
    assert "Why this alert:* Kestrel Commerce · fulfillment and logistics · Seattle" in text
    assert "*Why:* new metro: 3 postings in the 14-day window; novelty needs 3" in text
    assert "*Pace:* pace not known yet: first-seen history since" in text
    assert "*New:* the company's first postings in Seattle" in text and "*Weekly postings:* ▁▁▁▁▁▁▁█" in text
    assert "https://x.example/jobs/Kent/Warehouse-Associate|Warehouse Associate>" in text
    assert "|&lt;!channel&gt; ∗Picker∗>" in text and "<!channel>" not in text  # the title escaped
    assert check_message(Message(text=hook["text"], blocks=hook["blocks"])) == []

    refused = press(web, slack, "why2", str(brief.id), team_id="T2", user_id="U9")
    assert refused["text"] == "That alert is no longer known to briefbot." and not refused.get("blocks")
    assert press(web, slack, "why3", "999999")["text"] == "That alert is no longer known to briefbot."


def test_the_evidence_message_stays_within_slacks_limits_however_many_postings() -> None:
    hostile = "<!channel> *x* https://evil.example " * 200
    view = EvidenceView(
        brief_id=1, signal_id=2, company=hostile, family_label=hostile, metro=hostile,
        lines=tuple(EvidenceLine(label, hostile) for label in ("Why", "Pace", "Thresholds", "New", "Weekly postings")),
        postings=tuple(EvidencePostingView(title=hostile, place=hostile, metro=hostile, day=NOW,
                                           url="https://jobs.example/" + "a" * 1900, dated=n % 2 == 0)
                       for n in range(300)),
        window_start=NOW - timedelta(days=14))
    message = evidence_message(view)
    assert check_message(message) == []
    assert "<!channel>" not in json.dumps(message.blocks) and "more" in message.blocks[2]["text"]["text"]


def test_a_pullback_is_explained_by_the_roles_that_closed(
        db_url: str, engine: Engine, clock: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--explain` on a pullback: how many were open when the week began, which closed and when, the thresholds,
    and the open roles week by week (the alert's sparkline for a pullback)."""
    source = signal_update_board(engine, clock)
    roles = ["Warehouse Associate", "Forklift Operator", "Picker", "Packer", "Shipping Lead", "Dock Worker"]
    post(engine, clock, source, roles, "Kent", backfill=True)
    clock.now += timedelta(days=30)
    close(engine, clock, roles[:4], days_ago=2)
    update_signals(engine=engine, clock=clock, params=SignalParams())
    with Session(engine) as session:
        signal = session.exec(select(Signal)).one()
        assert signal.reason == "pullback"
        assert signal_weekly_counts(session=session, signal_id=signal.id or 0, team_id="T1")[-2:] == (6, 2)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["signals", "--explain", str(signal.id)], env={"DATABASE_URL": db_url})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "(open, 4 postings closed;" in out
    assert "why:         pullback: 4 of the 6 roles open on" in out and "; 2 still open" in out
    assert "thresholds:  at least 4 roles open when the 7-day window began, and at least 50% of them" in out
    assert "closed in the window (since " in out and "Forklift Operator" in out and "Dock Worker" not in out
    data = json.loads(CliRunner().invoke(main, ["signals", "--explain", str(signal.id), "--json"],
                                         env={"DATABASE_URL": db_url}).output)
    assert (data["reason"], data["count"], data["open_at_start"]) == ("pullback", 4, 6)
    assert len(data["closed"]) == 4 and data["weekly_open"][-1] == 2
