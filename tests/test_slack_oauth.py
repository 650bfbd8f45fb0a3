"""Multi-workspace OAuth end to end: the real Bolt app (OAuth mode: SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, no
SLACK_BOT_TOKEN) on uvicorn, installed through /slack/install and /slack/oauth_redirect against the fake Slack's
oauth.v2.access; then scheduled work's clients (`SlackClients.for_team`), token rotation for that work, and slash
commands authorized through the installation store. On SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.context import Context
from bot.settings import Settings
from bot.slack.app import BOT_SCOPES
from bot.slack.clients import SlackClients
from bot.slack.delivery import Deliverer
from bot.storage.db import session_scope
from bot.storage.models import Brief, Delivery, Workspace
from tests.conftest import SLACK_SECRET, context_for, make_settings, serving, wait_for
from tests.slack_requests import command_body, event, event_body, sign
from tests.slack_server import SlackServer

CLIENT_ID, CLIENT_SECRET = "111.222", "shh"
STATE_COOKIE = "slack-app-oauth-state"


@pytest.fixture
def oauth_settings(db_url: str, slack: SlackServer) -> Settings:
    slack.client_id, slack.client_secret = CLIENT_ID, CLIENT_SECRET  # the fake checks what Bolt sends
    return make_settings(db_url, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET,
                         slack_signing_secret=SLACK_SECRET, slack_api_url=slack.api_url,
                         briefbot_channel_post_interval=0.0, briefbot_slack_timeout=2.0)


@pytest.fixture
def oauth_ctx(oauth_settings: Settings, clock: Any) -> Iterator[Context]:
    ctx: Context = context_for(oauth_settings, clock)
    yield ctx
    ctx.engine.dispose()


@pytest.fixture
def base(oauth_ctx: Context) -> Iterator[str]:
    """`briefbot serve`'s ASGI app in OAuth mode on uvicorn at 127.0.0.1."""
    with serving(oauth_ctx) as url:
        yield url


@pytest.fixture
def http(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=10, follow_redirects=False) as client:
        yield client


def begin_install(http: httpx.Client) -> tuple[str, dict[str, list[str]]]:
    """GET /slack/install: the state (from the Set-Cookie the browser keeps) and the authorize URL's query."""
    page = http.get("/slack/install")
    assert page.status_code == 200, page.text
    cookie = re.search(rf"{STATE_COOKIE}=([^;]+)", page.headers.get("set-cookie", ""))
    assert cookie, page.headers
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page.text)
    assert link and "Add to Slack" in page.text, page.text
    return cookie.group(1), parse_qs(urlsplit(html.unescape(link.group(1))).query, keep_blank_values=True)


def callback(http: httpx.Client, state: str, *, code: str = "x", cookie: str | None = None) -> httpx.Response:
    """Slack's redirect back to us, from the browser that started the install (it sends the state cookie)."""
    return http.get("/slack/oauth_redirect", params={"code": code, "state": state},
                    headers={"Cookie": f"{STATE_COOKIE}={cookie or state}"})


def install(http: httpx.Client) -> None:
    state, _ = begin_install(http)
    done = callback(http, state)
    assert done.status_code == 200, done.text


def rows(engine: Engine, sql: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(text(sql)).mappings()]


# ---- install ------------------------------------------------------------------------------------------------------


def test_install_page_links_to_slack_with_a_state_our_client_id_and_the_bot_scopes(http: httpx.Client) -> None:
    state, query = begin_install(http)
    assert query["client_id"] == [CLIENT_ID]
    assert query["state"] == [state]
    assert query["scope"][0].split(",") == list(BOT_SCOPES)
    assert query["user_scope"] == [""]  # bot-only: no user tokens are collected
    second, _ = begin_install(http)
    assert second != state  # every visit gets its own state


def test_callback_completes_the_install_and_stores_the_workspace(
        http: httpx.Client, slack: SlackServer, oauth_ctx: Context) -> None:
    state, _ = begin_install(http)
    done = callback(http, state, code="the-code")
    assert done.status_code == 200, done.text
    exchange = slack.calls("oauth.v2.access")
    assert [(c.params.get("code"), c.params.get("client_id"), c.params.get("client_secret")) for c in exchange] == [
        ("the-code", CLIENT_ID, CLIENT_SECRET)]
    token = next(t for t, team in slack.tokens.items() if team == "T1" and t != "xoxb-test")
    installations = rows(oauth_ctx.engine, "SELECT client_id, team_id, team_name, bot_token, bot_user_id, bot_id, "
                                           "bot_scopes, app_id FROM slack_installations")
    assert installations == [{"client_id": CLIENT_ID, "team_id": "T1", "team_name": "Test Team", "bot_token": token,
                              "bot_user_id": "UBOT", "bot_id": "BBOT", "bot_scopes": ",".join(slack.scopes),
                              "app_id": "A1"}]
    bots = rows(oauth_ctx.engine, "SELECT client_id, team_id, bot_token, bot_refresh_token FROM slack_bots")
    assert bots == [{"client_id": CLIENT_ID, "team_id": "T1", "bot_token": token, "bot_refresh_token": None}]
    assert rows(oauth_ctx.engine, "SELECT count(*) AS n FROM slack_oauth_states") == [{"n": 0}]  # consumed


def test_a_reused_forged_or_other_browsers_state_is_refused(
        http: httpx.Client, slack: SlackServer, oauth_ctx: Context) -> None:
    state, _ = begin_install(http)
    assert callback(http, state).status_code == 200
    assert slack.count("oauth.v2.access") == 1

    reused = callback(http, state)  # the state was consumed by the first callback
    forged = callback(http, "forged-state-never-issued")  # the browser cookie matches, the store never issued it
    fresh, _ = begin_install(http)
    other_browser = callback(http, fresh, cookie="someone-elses-state")  # issued, but not to this browser
    for refused in (reused, forged, other_browser):
        assert refused.status_code in (400, 401), refused.text
    assert slack.count("oauth.v2.access") == 1  # no refused callback reached Slack
    assert len(rows(oauth_ctx.engine, "SELECT id FROM slack_bots")) == 1
    # The other browser did not use up the state: the browser it was issued to can still finish.
    assert callback(http, fresh).status_code == 200
    assert slack.count("oauth.v2.access") == 2


# ---- clients for scheduled work -----------------------------------------------------------------------------------


def test_for_team_gives_each_installed_workspace_its_own_token_and_nothing_to_others(
        http: httpx.Client, slack: SlackServer, oauth_settings: Settings, oauth_ctx: Context) -> None:
    install(http)
    slack.install_team = ("T2", "Second Team")
    install(http)
    tokens = {row["team_id"]: row["bot_token"] for row in rows(oauth_ctx.engine, "SELECT * FROM slack_bots")}
    assert set(tokens) == {"T1", "T2"} and tokens["T1"] != tokens["T2"]

    clients = SlackClients(oauth_settings, oauth_ctx.engine)
    for team in ("T1", "T2"):
        client = clients.for_team(team)
        assert client is not None and client.token == tokens[team]
        assert client.auth_test()["team_id"] == team  # the fake knows which workspace a token belongs to
    assert clients.for_team("T9") is None  # not installed: no token, and never another workspace's
    assert not any(c.params.get("grant_type") for c in slack.calls("oauth.v2.access"))  # no rotation without it


def test_expiring_rotating_token_is_refreshed_once_for_scheduled_work(
        http: httpx.Client, slack: SlackServer, oauth_settings: Settings, oauth_ctx: Context) -> None:
    slack.rotation = True
    install(http)
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=oauth_ctx.engine)
    bot = store.find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_refresh_token and bot.bot_token_expires_at
    assert bot.bot_token_expires_at > time.time() + 11 * 3600  # 12 h tokens
    first_token, first_refresh = bot.bot_token, bot.bot_refresh_token

    def refreshes() -> list[Any]:
        return [c for c in slack.calls("oauth.v2.access") if c.params.get("grant_type") == "refresh_token"]

    clients = SlackClients(oauth_settings, oauth_ctx.engine)
    fresh = clients.for_team("T1")
    assert fresh is not None and fresh.token == first_token and refreshes() == []  # 12 h left: nothing to do

    bot.bot_token_expires_at = int(time.time()) + 30 * 60  # inside the 120-minute window
    store.save_bot(bot)
    assert len(rows(oauth_ctx.engine, "SELECT id FROM slack_bots")) == 1  # the same row, updated

    client = clients.for_team("T1")
    assert [(c.params.get("refresh_token"), c.params.get("client_id"), c.params.get("client_secret"))
            for c in refreshes()] == [(first_refresh, CLIENT_ID, CLIENT_SECRET)]
    stored = rows(oauth_ctx.engine, "SELECT bot_token, bot_refresh_token FROM slack_bots WHERE team_id = 'T1'")
    assert len(stored) == 1
    new_token, new_refresh = stored[0]["bot_token"], stored[0]["bot_refresh_token"]
    assert new_token != first_token and new_refresh != first_refresh and new_refresh
    assert client is not None and client.token == new_token
    assert slack.tokens[new_token] == "T1"
    saved = store.find_bot(enterprise_id=None, team_id="T1")
    assert saved is not None and saved.bot_token_expires_at and saved.bot_token_expires_at > time.time() + 11 * 3600

    again = clients.for_team("T1")  # the new token has 12 h left
    assert again is not None and again.token == new_token and len(refreshes()) == 1
    other = SlackClients(oauth_settings, oauth_ctx.engine).for_team("T1")  # another process reads the saved token
    assert other is not None and other.token == new_token and len(refreshes()) == 1


def test_a_refused_refresh_for_one_workspace_does_not_stop_deliveries_to_another(
        http: httpx.Client, slack: SlackServer, oauth_settings: Settings, oauth_ctx: Context) -> None:
    slack.rotation = True
    install(http)
    slack.install_team = ("T2", "Second Team")
    install(http)
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=oauth_ctx.engine)
    bot = store.find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None
    bot.bot_token_expires_at = int(time.time()) - 60  # expired: no fallback to the old token either
    store.save_bot(bot)
    slack.fail("oauth.v2.access", error="invalid_refresh_token", times=5)  # T1's refresh token was revoked
    t2_token = rows(oauth_ctx.engine, "SELECT bot_token FROM slack_bots WHERE team_id = 'T2'")[0]["bot_token"]
    now = oauth_ctx.clock()
    with session_scope(oauth_ctx.engine) as session:
        for team in ("T1", "T2"):  # T1's alert is first in the outbox
            session.add(Workspace(team_id=team, created_at=now))
            session.flush()
            brief = Brief(team_id=team, subject="story", subject_id=1, subject_version=1, headline=f"News for {team}",
                          summary="What happened.", why_it_matters="Why it matters.", event_type="other",
                          writer="llm", input_hash=team, created_at=now)
            session.add(brief)
            session.flush()
            session.add(Delivery(team_id=team, channel_id="C1", kind="alert", subject="story", subject_id=1,
                                 brief_id=brief.id, dedupe_key=f"alert:{team}", next_attempt_at=now, created_at=now))
    deliverer = Deliverer(engine=oauth_ctx.engine, clock=oauth_ctx.clock, settings=oauth_settings,
                          clients=SlackClients(oauth_settings, oauth_ctx.engine))
    deliverer.run_once()
    with Session(oauth_ctx.engine) as session:
        status = {d.team_id: (d.status, d.lease_owner) for d in session.exec(select(Delivery))}
    assert status["T2"] == ("sent", None)
    assert status["T1"][0] == "pending" and status["T1"][1] is None  # left for a later attempt, not leased
    assert [p.token for p in slack.posts()] == [t2_token]


def test_a_refused_refresh_keeps_the_current_token_while_it_lasts(
        http: httpx.Client, slack: SlackServer, oauth_settings: Settings, oauth_ctx: Context,
        caplog: pytest.LogCaptureFixture) -> None:
    slack.rotation = True
    install(http)
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=oauth_ctx.engine)
    bot = store.find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_refresh_token
    bot.bot_token_expires_at = int(time.time()) + 30 * 60  # due for a refresh, still good for half an hour
    store.save_bot(bot)
    slack.fail("oauth.v2.access", error="invalid_refresh_token", times=1)
    client = SlackClients(oauth_settings, oauth_ctx.engine).for_team("T1")
    assert client is not None and client.token == bot.bot_token
    assert "invalid_refresh_token" in caplog.text and "until it expires" in caplog.text
    assert bot.bot_refresh_token not in caplog.text and CLIENT_SECRET not in caplog.text  # no secret in logs


def test_app_uninstalled_removes_the_workspace_and_its_clients(
        http: httpx.Client, slack: SlackServer, oauth_settings: Settings, oauth_ctx: Context) -> None:
    install(http)
    clients = SlackClients(oauth_settings, oauth_ctx.engine)
    assert clients.for_team("T1") is not None
    body = event_body(event("app_uninstalled"), team_id="T1")
    assert http.post("/slack/events", content=body, headers=sign(SLACK_SECRET, body)).status_code == 200
    # The listener runs after the ack, and deletes the bots and then the installations.
    wait_for(lambda: not rows(oauth_ctx.engine, "SELECT id FROM slack_bots WHERE team_id = 'T1' UNION ALL "
                                                "SELECT id FROM slack_installations WHERE team_id = 'T1'"))
    assert clients.for_team("T1") is None


# ---- requests from Slack ------------------------------------------------------------------------------------------


def brief_command(http: httpx.Client, slack: SlackServer, text_: str, *, team_id: str, hook: str) -> httpx.Response:
    body = command_body(text_, team_id=team_id, channel_id="C1", response_url=slack.hook_url(hook))
    return http.post("/slack/events", content=body, headers=sign(SLACK_SECRET, body))


def test_a_command_from_the_installed_workspace_is_answered_with_its_token(
        http: httpx.Client, slack: SlackServer, oauth_ctx: Context) -> None:
    install(http)
    token = rows(oauth_ctx.engine, "SELECT bot_token FROM slack_bots WHERE team_id = 'T1'")[0]["bot_token"]
    acked = brief_command(http, slack, "list", team_id="T1", hook="t1")
    assert acked.status_code == 200 and acked.json()["text"] == "Gathering this channel's follows…"
    reply = wait_for(lambda: slack.hooks("t1"))
    assert len(reply) == 1 and "This channel follows nothing yet" in reply[0]["text"]
    assert reply[0]["replace_original"] is True
    # Bolt authorized the request through the installation store: its auth.test used the installed token.
    assert token in {c.token for c in slack.calls("auth.test")}
    assert slack.block_errors == []


def test_a_command_from_a_workspace_that_never_installed_is_not_processed(
        http: httpx.Client, slack: SlackServer, oauth_ctx: Context) -> None:
    install(http)  # T1 is installed; T9 is not
    refused = brief_command(http, slack, "list", team_id="T9", hook="t9")
    assert refused.status_code == 200 and refused.text == ""  # no ack text: the listener never ran
    answered = brief_command(http, slack, "status", team_id="T1", hook="t1")
    assert answered.json()["text"] == "Checking…"
    wait_for(lambda: slack.hooks("t1"))  # T1's answer came through, so T9's would have by now too
    t9 = slack.hooks("t9")
    # Bolt tells the user to reinstall (through the response_url); nothing of /brief's own output.
    assert [h["text"] for h in t9] == [
        ":warning: We apologize, but for some unknown reason, your installation with this app is no longer "
        "available. Please reinstall this app into your workspace :bow:"]
    assert not any("follows" in h["text"] or "Gathering" in h["text"] for h in t9)
    assert rows(oauth_ctx.engine, "SELECT count(*) AS n FROM channels WHERE team_id = 'T9'") == [{"n": 0}]
