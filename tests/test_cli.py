"""The admin CLI, run in-process against a real database file and a real local HTTP server."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.cli.common import parse_since
from bot.demo.server import LocalServer, Route
from tests.feeds import numbered, rss

GREENHOUSE = {"jobs": [{"id": 11, "title": "Warehouse Associate", "absolute_url": "https://boards.greenhouse.io/k/jobs/11",
                        "location": {"name": "Seattle, WA"}, "updated_at": "2026-11-24T09:00:00-05:00",
                        "content": "&lt;p&gt;Pick &amp;amp; pack&lt;/p&gt;", "departments": [{"name": "Fulfillment"}]}],
              "meta": {"total": 1}}


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)  # no stray .env; ./data/ lands in tmp
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "BRIEFBOT_ALLOW_PRIVATE_URLS": "true",
           "BRIEFBOT_FETCH_DEADLINE": "5"}

    def run(*args: str, code: int = 0) -> Result:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return run


def test_add_poll_list_items_remove(cli: Any, server: LocalServer) -> None:
    server.route("/feed", Route(body=rss(numbered(3))))
    server.route("/blog", Route(body=b"<html><head><link rel='alternate' type='application/rss+xml' href='/feed'>"
                                     b"</head><body>blog</body></html>", content_type="text/html"))
    server.route("/gh", Route(body=json.dumps(GREENHOUSE).encode(), content_type="application/json"))

    added = json.loads(cli("sources", "add", server.url("/feed"), "--channel", "C1", "--json").output)
    assert added["kind"] == "feed" and added["title"] == "Test Wire" and added["created"]
    via_page = cli("sources", "add", server.url("/blog")).output
    assert "already followed" in via_page and "feed found on the page" in via_page  # the page leads to the same feed
    board = json.loads(cli("sources", "add", server.url("/gh"), "--kind", "greenhouse", "--json").output)
    assert board["kind"] == "greenhouse" and board["locator"] == server.url("/gh")

    polled = json.loads(cli("poll", "--json").output)
    assert polled["polled"] == 2 and polled["items_new"] == 4 and polled["errors"] == 0
    assert "nothing due" in cli("poll").output

    listing = json.loads(cli("sources", "list", "--json").output)
    assert [(s["kind"], s["items"], s["status"], s["channels"]) for s in listing] == [
        ("feed", 3, "ok", ["C1"]), ("greenhouse", 1, "ok", [])]
    assert "Test Wire" in cli("sources", "list").output

    jobs = json.loads(cli("items", "--source", str(board["id"]), "--json").output)
    assert jobs[0]["job_title"] == "Warehouse Associate" and jobs[0]["text"] == "Pick & pack"
    assert jobs[0]["locations"][0]["region"] == "Washington" and jobs[0]["department"] == "Fulfillment"
    assert len(json.loads(cli("items", "--limit", "2", "--json").output)) == 2
    assert json.loads(cli("items", "--since", "2099-01-01", "--json").output) == []

    cli("sources", "remove", str(added["id"]))
    assert [s["kind"] for s in json.loads(cli("sources", "list", "--json").output)] == ["greenhouse"]
    assert len(json.loads(cli("items", "--json").output)) == 4  # the history stays


@pytest.mark.parametrize(("args", "message"), [
    (["sources", "add", "ftp://example.com/feed"], "only http and https"),
    (["sources", "add", "bogus:thing"], "unknown source kind"),
    (["sources", "add", "not a spec"], "neither a URL nor kind:identifier"),
    (["sources", "remove", "999"], "no source with id 999"),
    (["items", "--since", "last tuesday"], "neither an ISO time"),
])
def test_bad_input_gets_one_line_and_a_non_zero_exit(cli: Any, args: list[str], message: str) -> None:
    result = cli(*args, code=2 if args[0] == "items" else 1)
    assert message in result.output
    assert "Traceback" not in result.output


def test_adding_an_unreachable_or_unreadable_url_says_why(cli: Any, server: LocalServer) -> None:
    server.route("/page", Route(body=b"<html><body>no feed here</body></html>", content_type="text/html"))
    assert "no feed link" in cli("sources", "add", server.url("/page"), code=1).output
    assert "HTTP 404" in cli("sources", "add", server.url("/missing"), code=1).output


def test_private_urls_are_refused_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             server: LocalServer) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = CliRunner().invoke(main, ["sources", "add", server.url("/feed")], env=env)
    assert result.exit_code == 1 and "loopback" in result.output and "BRIEFBOT_ALLOWED_NETWORKS" in result.output


def test_config_masks_secrets(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1234567890-secret-token")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-verysecretvalue123")
    output = cli("config").output
    assert "secret-token" not in output and "verysecret" not in output
    assert "SLACK_BOT_TOKEN" in output and "xoxb…" in output
    assert json.loads(cli("config", "--json").output)["BRIEFBOT_ALLOW_PRIVATE_URLS"] is True


def test_db_upgrade_reports_the_revision(cli: Any) -> None:
    from bot.storage.db import MIGRATIONS_DIR

    newest = max(p.name[:4] for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    assert f"database at revision {newest}" in cli("db", "upgrade").output


def test_signals_command_lists_what_the_postings_reveal(cli: Any, server: LocalServer) -> None:
    def board(jobs: list[tuple[int, str, str]]) -> bytes:
        return json.dumps({"jobs": [{"id": i, "title": t, "absolute_url": f"https://boards.greenhouse.io/k/jobs/{i}",
                                     "location": {"name": loc}, "company_name": "Kestrel Commerce"}
                                    for i, t, loc in jobs]}).encode()

    server.route("/gh", Route(body=board([(1, "Software Engineer", "San Francisco, CA")]),
                              content_type="application/json"))
    cli("sources", "add", server.url("/gh"), "--kind", "greenhouse")
    cli("poll")
    assert "no hiring signals yet" in cli("signals").output
    server.route("/gh", Route(body=board([(1, "Software Engineer", "San Francisco, CA"),
                                          (2, "Warehouse Associate", "Kent, WA"), (3, "Picker", "Seattle, WA"),
                                          (4, "Logistics Coordinator", "Tacoma, WA")]),
                              content_type="application/json"))
    cli("poll", "--all")
    found = json.loads(cli("signals", "--json").output)
    assert [(s["company"], s["metro"], s["reason"], s["item_count"]) for s in found] == [
        ("Kestrel Commerce", "Seattle", "new_metro", 3)]
    assert {i["url"] for i in found[0]["items"]} == {f"https://boards.greenhouse.io/k/jobs/{i}" for i in (2, 3, 4)}
    assert "fulfillment and logistics" in cli("signals").output


def test_stories_and_items_show_what_belongs_together(cli: Any, server: LocalServer) -> None:
    server.route("/a", Route(body=rss([("a1", "https://a.example/1", "Kestrel Commerce leases giant Kent warehouse")],
                                      title="Harbor Ledger")))
    lease = "Giant Kent warehouse lease for Kestrel Commerce"
    server.route("/b", Route(body=rss([("b1", "https://b.example/1", lease)], title="Metro Wire")))
    for path in ("/a", "/b"):
        cli("sources", "add", server.url(path))
    cli("poll")
    stories = json.loads(cli("stories", "--json").output)
    assert len(stories) == 1 and stories[0]["item_count"] == 2
    assert sorted(stories[0]["outlets"]) == ["Harbor Ledger", "Metro Wire"]
    items = json.loads(cli("items", "--json").output)
    assert {i["story_id"] for i in items} == {stories[0]["id"]} and all(i["signal_ids"] == [] for i in items)
    assert "Kestrel" in cli("stories").output


def test_small_things_a_new_user_hit_are_said_plainly(cli: Any, server: LocalServer) -> None:
    """Items newest first by the date shown (a feed lists its newest first, so storage order is the reverse);
    poll says when the next source is due and refuses an unknown source; one source is "1 source"; a listing
    filtered by --since says that none is that recent, not that none exist."""
    dates = ["Mon, 23 Nov 2026 10:00:00 GMT", "Mon, 23 Nov 2026 09:00:00 GMT", "Mon, 23 Nov 2026 08:00:00 GMT"]
    body = "".join(f"<item><guid>g{n}</guid><link>https://wire.example/{n}</link><title>Headline {n}</title>"
                   f"<pubDate>{d}</pubDate></item>" for n, d in enumerate(dates))
    server.route("/feed", Route(body=f"<rss version='2.0'><channel><title>Wire</title>{body}</channel></rss>".encode()))
    cli("sources", "add", server.url("/feed"))
    assert cli("poll").output.startswith("polled 1 source: 1 with news")
    titles = [row["title"] for row in json.loads(cli("items", "--json").output)]
    assert titles == ["Headline 0", "Headline 1", "Headline 2"]
    nothing = cli("poll").output
    assert nothing.startswith("nothing due: the next source (source 1) is due in ") and "poll --all" in nothing
    assert "briefbot: no source 42 (briefbot sources list shows them)" in cli("poll", "--source", "42", code=1).output
    assert cli("stories", "--since", "0h").output.startswith("no stories with 2+ items since 0h; older ones are")
    assert cli("briefs", "--since", "0h").output.startswith("no briefs yet; they are written after polls")
    assert cli("items", "--since", "0h").output.startswith("no items first seen since 0h (without filters")


@pytest.mark.parametrize(("value", "expected"), [
    ("today", datetime(2026, 12, 7, tzinfo=UTC)),
    (" Yesterday ", datetime(2026, 12, 6, tzinfo=UTC)),
    ("12h", datetime(2026, 12, 7, 3, 30, tzinfo=UTC)),
    ("2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),
])
def test_since_reads_today_and_yesterday_from_midnight_utc(value: str, expected: datetime) -> None:
    assert parse_since(value, datetime(2026, 12, 7, 15, 30, tzinfo=UTC)) == expected
