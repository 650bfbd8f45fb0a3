"""`briefbot sources list` reads plain SQL (storage/source_health, storage/post_targets) instead of the table
models: its output, table and JSON, is byte for byte what the ORM listing printed (the expected texts below were
printed by main at 506d82f from this same database, tests/fixtures/sources_list_golden.json), on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from bot.cli import main
from bot.storage.db import session_scope
from bot.storage.models import Delivery, Item, ItemLink, Source, Subscription, Watch, Workspace
from bot.storage.source_health import list_source_health
from bot.storage.sources import list_sources
from tests.conftest import NOW

LONG_ERROR = "HTTP 503 from https://news.example.com/feed: " + "the upstream said no " * 6
NOTES = "skipped 1 of 5 items that could not be read (#4: no link)\n  and   another  line"


def seed(engine: Engine) -> None:
    """Three workspaces; sources ok, retrying, failing, paused, new (with a credential in its spec), removed;
    items seen through two sources; channels following; a watch-only channel; deliveries waiting in a
    workspace that follows nothing."""
    def ago(**span: float) -> datetime:
        return NOW - timedelta(**span)

    with session_scope(engine) as session:
        for team in ("T1", "T2", "T3"):
            session.add(Workspace(team_id=team, name=team, created_at=ago(days=30)))
        session.flush()
        def source(team: str, kind: str, spec: str, locator: str, title: str = "", **state: Any) -> Source:
            return Source(team_id=team, kind=kind, spec=spec, locator=locator, title=title, created_at=ago(days=20),
                          **state)

        sources = [
            source("T1", "feed", "https://blog.example.com/feed", "https://blog.example.com/feed", "Example blog",
                   next_due_at=NOW + timedelta(minutes=14), last_polled_at=ago(minutes=1),
                   last_success_at=ago(minutes=1)),
            source("T1", "greenhouse", "greenhouse:acme", "https://boards-api.greenhouse.io/v1/boards/acme/jobs",
                   "Acme jobs at Greenhouse", next_due_at=ago(minutes=1), last_polled_at=ago(hours=2),
                   last_success_at=ago(days=3), last_error_at=ago(hours=2), last_error_kind="http",
                   last_error=LONG_ERROR, failures=1, last_notes=NOTES),
            source("T1", "news", 'news:"acme layoffs"', "https://news.example.com/rss?q=acme+layoffs",
                   next_due_at=ago(hours=5), last_polled_at=ago(hours=1), last_error_at=ago(hours=1),
                   last_error_kind="timeout", last_error="no answer in 10 s", failures=4),
            source("T2", "feed", "https://paused.example.org/rss", "https://paused.example.org/rss", "Paused feed",
                   enabled=False, next_due_at=NOW + timedelta(days=2), last_polled_at=ago(days=2),
                   last_success_at=ago(days=2), last_notes="parsed leniently: undeclared entity &nbsp;"),
            source("T2", "feed", "https://user:secret@private.example.org/feed.xml?token=abc",
                   "https://private.example.org/feed.xml", next_due_at=NOW),
            source("T1", "feed", "https://gone.example.com/feed", "https://gone.example.com/feed", "Removed",
                   next_due_at=NOW, removed_at=ago(days=1)),
        ]
        session.add_all(sources)
        session.flush()
        ok, retrying, _failing, paused, _new, removed = (s.id or 0 for s in sources)
        for team, channel, source_id in (("T1", "C2", ok), ("T1", "C1", ok), ("T1", "C1", retrying),
                                         ("T2", "C9", paused), ("T1", "C3", removed)):
            session.add(Subscription(team_id=team, channel_id=channel, source_id=source_id, created_at=ago(days=9)))
        session.add(Watch(team_id="T1", channel_id="C7", term="Acme", term_key="acme", created_at=ago(days=9)))
        for n in range(4):  # items 0-2 through the blog, item 2 again and item 3 through the board
            item = Item(team_id="T1", source_id=ok if n < 3 else retrying, kind="news", external_id=f"e{n}",
                        url=f"https://blog.example.com/{n}", url_key=f"k{n}", title=f"Item {n}",
                        first_seen_at=ago(hours=n), updated_at=ago(hours=n), content_hash=f"h{n}")
            session.add(item)
            session.flush()
            links = [ok] if n < 2 else [ok, retrying] if n == 2 else [retrying]
            for source_id in links:
                session.add(ItemLink(team_id="T1", item_id=item.id or 0, source_id=source_id,
                                     external_id=f"e{n}-{source_id}", content_hash=f"h{n}",
                                     first_seen_at=ago(hours=n)))
        for n, (status, channel) in enumerate((("pending", "C5"), ("sending", "C5"), ("sending", "C6"),
                                              ("sent", "C8"), ("held", "C8"))):
            session.add(Delivery(team_id="T3", channel_id=channel, kind="digest", dedupe_key=f"d{n}", status=status,
                                 next_attempt_at=NOW, created_at=ago(hours=1)))


@pytest.fixture
def seeded(db_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    seed(engine)
    yield {"DATABASE_URL": db_url, "BRIEFBOT_NOW": NOW.isoformat()}


def run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, ["sources", "list", *args], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


GOLDEN = Path(__file__).parent / "fixtures" / "sources_list_golden.json"  # printed by main at 506d82f (the ORM listing)
NO_TOKEN = "no Slack token is set (SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth)"


@pytest.mark.parametrize("args", ["", "--team T2", "--team T3", "--json", "--team T2 --json"])
def test_the_output_is_byte_for_byte_as_before(seeded: dict[str, str], args: str) -> None:
    assert run(seeded, *args.split()) == json.loads(GOLDEN.read_text("utf-8"))[args]


def test_with_a_token_only_the_other_workspaces_are_warned_about(seeded: dict[str, str], slack: Any) -> None:
    env = seeded | {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": slack.api_url}  # the token's workspace: T1
    output = run(env)
    assert output == json.loads(GOLDEN.read_text("utf-8"))["token"]
    assert [line.split(" (")[0] for line in output.splitlines() if line.startswith("warning:")] == [
        "warning: nothing can be posted to workspace T2", "warning: nothing can be posted to workspace T3"]


def test_what_the_golden_output_shows(seeded: dict[str, str]) -> None:
    """The states the golden file covers, said plainly: every status, counts of distinct items, channels sorted,
    the removed source left out, the credentials in a spec not shown, warnings for follows, watches and waiting
    deliveries."""
    listed = json.loads(run(seeded, "--json"))
    assert [(s["id"], s["team_id"], s["status"], s["items"], s["channels"], s["unpostable"]) for s in listed] == [
        (1, "T1", "ok", 3, ["C1", "C2"], NO_TOKEN), (2, "T1", "retrying", 2, ["C1"], NO_TOKEN),
        (3, "T1", "failing", 0, [], None), (4, "T2", "paused", 0, ["C9"], NO_TOKEN), (5, "T2", "new", 0, [], None)]
    table = run(seeded)
    assert "secret" not in table and "token=abc" not in table
    # C3 follows the removed source (its follow left behind), C7 watches a term: alerts would go there too.
    assert [line.partition("): ")[0] for line in table.splitlines() if line.startswith("warning:")] == [
        "warning: nothing can be posted to workspace T1 (channels C1, C2, C3, C7",
        "warning: nothing can be posted to workspace T2 (channel C9",
        "warning: nothing can be posted to workspace T3 (channels C5, C6, 3 deliveries waiting"]


def test_the_orm_listing_and_the_plain_one_agree(seeded: dict[str, str], engine: Engine) -> None:
    """Until storage/sources.list_sources reads through source_health itself, the two must list alike."""
    with session_scope(engine) as session:
        orm = [h.as_dict() for h in list_sources(session=session)]
        orm_t2 = [h.as_dict() for h in list_sources(session=session, team_id="T2")]
    with engine.connect() as connection:
        assert [h.as_dict() for h in list_source_health(connection)] == orm
        assert [h.as_dict() for h in list_source_health(connection, "T2")] == orm_t2
    assert len(orm) == 5 and len(orm_t2) == 2
