"""Security: "Slack requests with forged, missing or stale signatures are refused."

Every surface Slack posts to (slash commands, Events API callbacks, block_actions and view_submission payloads, and
the url_verification handshake) is sent to the real Bolt app (`briefbot serve`'s ASGI app on uvicorn) with its
WebClient on the recording fake Web API. Each forgery must be refused with 401/403 *and* change nothing: no call
reaches the fake Slack (no post, no response_url reply, no modal), no row changes in any table, and no request
reaches the feed a `/brief follow` names. The same body, correctly signed, is then sent as the positive control:
it must be accepted and have its effect, so that each "nothing happened" check is shown able to see something.
Runs on SQLite and PostgreSQL (the app's database is the one whose rows must not change).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from bot.context import Context
from bot.demo.server import LocalServer, Route
from bot.settings import Settings
from bot.slack.blocks.alert import ASK_ACTION
from bot.slack.blocks.ask import ask_modal
from tests.conftest import SLACK_SECRET, context_for, make_settings, serving, wait_for
from tests.feeds import numbered, rss
from tests.slack_requests import (
    BOT_USER_ID,
    action_body,
    command_body,
    event,
    event_body,
    sign,
    view_submission_body,
)
from tests.slack_server import SlackServer

QUIET = 0.3  # how long a refused request gets to do anything in the background before "nothing happened" is read
STALE = 6 * 60  # Slack's rule, and Bolt's: a timestamp more than five minutes from now is refused
CHALLENGE = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"  # Slack's own example challenge
ALERT_TS = "1700000000.000100"
TS_HEADER, SIG_HEADER = "X-Slack-Request-Timestamp", "X-Slack-Signature"


# ---- the app under test ---------------------------------------------------------------------------------------------


@dataclass
class Bot:
    """The served app, what it talks to, and how to read whether anything happened."""

    base: str
    slack: SlackServer
    engine: Engine
    feed: LocalServer

    def post(self, body: str, headers: dict[str, str]) -> httpx.Response:
        return httpx.post(self.base + "/slack/events", content=body, headers=headers, timeout=10)

    def state(self) -> dict[str, Any]:
        """Everything a request could change: the row count of every table, every call the fake Slack received
        (Web API methods, response_url posts, opened modals) and every request the feed server answered."""
        with self.engine.connect() as conn:
            counts = {name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
                      for name in sorted(inspect(conn).get_table_names())}
        return {"rows": counts, "slack": [c.method for c in self.slack.calls()],
                "modals": len(self.slack.opened_views), "feed": len(self.feed.requests)}


@pytest.fixture(scope="module")
def feed() -> Iterator[LocalServer]:
    """Shared by the module's tests (its requests are counted as a difference, never as a total)."""
    with LocalServer({"/feed.xml": Route(body=rss(numbered(2), title="Signed Wire"))}) as server:
        yield server


@pytest.fixture
def bot(db_url: str, slack: SlackServer, feed: LocalServer, clock: Any) -> Iterator[Bot]:
    settings: Settings = make_settings(db_url, slack_bot_token="xoxb-test", slack_signing_secret=SLACK_SECRET,
                                       slack_api_url=slack.api_url, briefbot_channel_post_interval=0.0,
                                       briefbot_slack_timeout=2.0)
    ctx: Context = context_for(settings, clock)
    with serving(ctx) as base:
        yield Bot(base, slack, ctx.engine, feed)
    ctx.engine.dispose()


# ---- what each surface sends, and the effect a genuine request has ---------------------------------------------------


@dataclass(frozen=True)
class Surface:
    name: str
    body: Callable[[Bot], str]  # the request as Slack sends it
    took_effect: Callable[[Bot, httpx.Response], bool]  # the genuine request did what it does


def _follow(bot: Bot) -> str:
    return command_body(f"follow {bot.feed.url('/feed.xml')}", response_url=bot.slack.hook_url("follow"))


def _followed(bot: Bot, _: httpx.Response) -> bool:
    state = bot.state()
    return bool(state["rows"]["sources"] == 1 and state["feed"] and bot.slack.hooks("follow"))


def _mention(bot: Bot) -> str:
    return event_body(event("app_mention", text=f"<@{BOT_USER_ID}> anything new on Kestrel?"))


def _answered(bot: Bot, _: httpx.Response) -> bool:
    return bool(bot.slack.posts() and bot.state()["rows"]["slack_events"] == 1)


def _ask_button(bot: Bot) -> str:
    return action_body(ASK_ACTION, "1", response_url=bot.slack.hook_url("ask"), message_ts=ALERT_TS)


def _modal_opened(bot: Bot, _: httpx.Response) -> bool:
    return bool(bot.slack.opened_views and bot.slack.count("views.open"))


def _modal_submission(bot: Bot) -> str:
    modal = ask_modal(json.dumps({"brief": None, "channel": "C1", "ts": ALERT_TS}))
    values = {"question": {"text": {"type": "plain_text_input", "value": "What else has Kestrel posted?"}}}
    return view_submission_body(modal, values)


def _asked_in_thread(bot: Bot, _: httpx.Response) -> bool:
    return any(m["text"] == "<@U1> asked: What else has Kestrel posted?" for m in bot.slack.replies("C1", ALERT_TS))


def _url_verification(_: Bot) -> str:
    return json.dumps({"token": "verification-token", "challenge": CHALLENGE, "type": "url_verification"})


def _challenge_answered(_: Bot, response: httpx.Response) -> bool:
    return response.status_code == 200 and CHALLENGE in response.text


SURFACES = [
    Surface("slash command /brief follow", _follow, _followed),
    Surface("event app_mention", _mention, _answered),
    Surface("block_actions Ask button", _ask_button, _modal_opened),
    Surface("view_submission Ask modal", _modal_submission, _asked_in_thread),
    Surface("url_verification", _url_verification, _challenge_answered),
]


# ---- forgeries ------------------------------------------------------------------------------------------------------


def _without(*names: str) -> Callable[[str], tuple[str, dict[str, str]]]:
    def forge(body: str) -> tuple[str, dict[str, str]]:
        headers = sign(SLACK_SECRET, body)
        for name in names:
            del headers[name]
        return body, headers
    return forge


def _signed_at(offset: int) -> Callable[[str], tuple[str, dict[str, str]]]:
    def forge(body: str) -> tuple[str, dict[str, str]]:
        return body, sign(SLACK_SECRET, body, timestamp=int(time.time()) + offset)
    return forge


def _wrong_secret(body: str) -> tuple[str, dict[str, str]]:
    return body, sign("not-the-signing-secret", body)


def _tampered_body(body: str) -> tuple[str, dict[str, str]]:
    # Signed, then one field changed in transit; every surface's body carries the verification token.
    tampered = body.replace("verification-token", "verification-tokeN", 1)
    assert tampered != body
    return tampered, sign(SLACK_SECRET, body)


def _timestamp_swapped(body: str) -> tuple[str, dict[str, str]]:
    # A captured request replayed later with a fresh timestamp header but the old signature.
    headers = sign(SLACK_SECRET, body, timestamp=int(time.time()) - STALE)
    headers[TS_HEADER] = str(int(time.time()))
    return body, headers


def _version(prefix: str) -> Callable[[str], tuple[str, dict[str, str]]]:
    def forge(body: str) -> tuple[str, dict[str, str]]:
        headers = sign(SLACK_SECRET, body)
        headers[SIG_HEADER] = prefix + headers[SIG_HEADER].removeprefix("v0=")
        return body, headers
    return forge


FORGERIES: dict[str, Callable[[str], tuple[str, dict[str, str]]]] = {
    "signed with another secret": _wrong_secret,
    "no signature header": _without(SIG_HEADER),
    "no timestamp header": _without(TS_HEADER),
    "signed more than five minutes ago": _signed_at(-STALE),
    "signed more than five minutes in the future": _signed_at(STALE),
    "timestamp header changed after signing": _timestamp_swapped,
    "body changed after signing": _tampered_body,
    "v1= version prefix": _version("v1="),
}


# ---- tests ----------------------------------------------------------------------------------------------------------


@pytest.mark.slow  # waits on purpose (a deadline, a drip, Retry-After or a quiet period)
@pytest.mark.parametrize("surface", SURFACES, ids=[s.name for s in SURFACES])
def test_forged_requests_are_refused_and_change_nothing(bot: Bot, surface: Surface) -> None:
    genuine = surface.body(bot)
    before = bot.state()
    answers = {}
    for forgery, forge in FORGERIES.items():
        sent, headers = forge(genuine)
        response = bot.post(sent, headers)
        answers[forgery] = response.status_code
        assert CHALLENGE not in response.text and "Looking at" not in response.text, (forgery, response.text)
    assert all(status in (401, 403) for status in answers.values()), f"{surface.name}: not refused: {answers}"
    time.sleep(QUIET)
    assert bot.state() == before, f"{surface.name}: a refused request changed something"

    # The control: the same request, signed as Slack signs it, is accepted and does what it does.
    accepted = bot.post(genuine, sign(SLACK_SECRET, genuine))
    assert accepted.status_code == 200, accepted.text
    wait_for(lambda: surface.took_effect(bot, accepted), timeout=10)


def test_a_timestamp_that_is_not_a_number_runs_nothing(bot: Bot) -> None:
    genuine = _follow(bot)
    headers = {**sign(SLACK_SECRET, genuine), TS_HEADER: "not-a-number"}
    before = bot.state()
    refused = bot.post(genuine, headers)
    assert not 200 <= refused.status_code < 300 and "Looking at" not in refused.text
    time.sleep(QUIET)
    assert bot.state() == before
    accepted = bot.post(genuine, sign(SLACK_SECRET, genuine))
    assert accepted.status_code == 200
    wait_for(lambda: _followed(bot, accepted), timeout=10)


def test_a_timestamp_that_is_not_a_number_is_answered_401(bot: Bot) -> None:
    body = _follow(bot)
    response = bot.post(body, {**sign(SLACK_SECRET, body), TS_HEADER: "not-a-number"})
    assert response.status_code in (401, 403), response.status_code


def test_a_signature_within_slacks_five_minutes_is_accepted(bot: Bot) -> None:
    """The other side of the staleness rule: clocks a little apart, or a request a little slow, still work."""
    for offset, hook in ((-4 * 60, "past"), (4 * 60, "future")):
        body = command_body("status", response_url=bot.slack.hook_url(hook))
        response = bot.post(body, sign(SLACK_SECRET, body, timestamp=int(time.time()) + offset))
        assert response.status_code == 200 and response.json()["text"] == "Checking…"
        assert wait_for(partial(bot.slack.hooks, hook))


# ---- OAuth mode: many workspaces, no SLACK_BOT_TOKEN -----------------------------------------------------------------


@pytest.fixture
def oauth_bot(db_url: str, slack: SlackServer, feed: LocalServer, clock: Any) -> Iterator[Bot]:
    slack.client_id, slack.client_secret = "111.222", "oauth-client-secret"
    settings: Settings = make_settings(db_url, slack_client_id="111.222", slack_client_secret="oauth-client-secret",
                                       slack_signing_secret=SLACK_SECRET, slack_api_url=slack.api_url,
                                       briefbot_channel_post_interval=0.0, briefbot_slack_timeout=2.0)
    ctx: Context = context_for(settings, clock)
    with serving(ctx) as base:
        yield Bot(base, slack, ctx.engine, feed)
    ctx.engine.dispose()


def test_in_oauth_mode_forged_commands_are_refused_before_any_installation_is_looked_up(oauth_bot: Bot) -> None:
    from tests.test_slack_oauth import install

    with httpx.Client(base_url=oauth_bot.base, timeout=10, follow_redirects=False) as browser:
        install(browser)
    genuine = _follow(oauth_bot)
    before = oauth_bot.state()
    answers = {forgery: oauth_bot.post(*forge(genuine)).status_code for forgery, forge in FORGERIES.items()}
    assert all(status in (401, 403) for status in answers.values()), f"not refused: {answers}"
    time.sleep(QUIET)
    assert oauth_bot.state() == before  # not even auth.test with the installed token: refused before authorization

    accepted = oauth_bot.post(genuine, sign(SLACK_SECRET, genuine))
    assert accepted.status_code == 200, accepted.text
    wait_for(lambda: _followed(oauth_bot, accepted), timeout=10)
