"""The fake Slack (tests/slack_server.py) and the request helpers (tests/slack_requests.py), exercised through the
real slack_sdk WebClient, WebhookClient, SignatureVerifier and a Bolt App, so that the tests built on them test
something real."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt import Ack, App, Respond, Say
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.models.metadata import Metadata
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.conftest import corpus_path
from tests.slack_requests import action_body, command_body, event, event_body, sign
from tests.slack_server import SlackServer, validate_blocks, validate_view

SECRET = "test-signing-secret"


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer() as server:
        yield server


@pytest.fixture
def client(slack: SlackServer) -> WebClient:
    return WebClient(token="xoxb-test", base_url=slack.api_url, timeout=5)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


# ---- messages, threads, history -----------------------------------------------------------------------------------


def test_post_update_and_history_with_metadata(slack: SlackServer, client: WebClient) -> None:
    meta = Metadata(event_type="briefbot_alert", event_payload={"brief_id": 7})
    first = client.chat_postMessage(channel="C1", text="first", blocks=[section("*first*")], metadata=meta)
    second = client.chat_postMessage(channel="C1", text="second")
    assert first["ok"] and first["channel"] == "C1"
    assert first["ts"] < second["ts"] and first["ts"].startswith("1700000000.")
    # slack_sdk sends chat.postMessage as JSON: blocks and metadata arrive as a list and a dict
    call = slack.calls("chat.postMessage")[0]
    assert call.token == "xoxb-test"
    assert call.params["blocks"] == [section("*first*")]
    assert call.params["metadata"] == {"event_type": "briefbot_alert", "event_payload": {"brief_id": 7}}

    updated = client.chat_update(channel="C1", ts=first["ts"], text="first, edited")
    assert updated["message"]["text"] == "first, edited"
    assert updated["message"]["blocks"] == [section("*first*")]  # kept: chat.update without blocks keeps them

    plain = client.conversations_history(channel="C1")
    assert [m["text"] for m in plain["messages"]] == ["second", "first, edited"]  # newest first
    assert all("metadata" not in m for m in plain["messages"])
    full = client.conversations_history(channel="C1", include_all_metadata=True)
    assert full["messages"][1]["metadata"]["event_payload"] == {"brief_id": 7}
    assert [m["text"] for m in slack.messages("C1")] == ["first, edited", "second"]  # oldest first
    assert slack.block_errors == []


def test_update_of_a_missing_message_fails(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.chat_update(channel="C1", ts="1.000001", text="x")
    assert raised.value.response["error"] == "message_not_found"


def test_history_honours_oldest_limit_and_cursor(slack: SlackServer, client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=f"m{i}")["ts"] for i in range(5)]
    client.chat_postMessage(channel="C2", text="elsewhere")
    after = client.conversations_history(channel="C1", oldest=stamps[1])
    assert [m["text"] for m in after["messages"]] == ["m4", "m3", "m2"]
    page = client.conversations_history(channel="C1", limit=2)
    assert [m["text"] for m in page["messages"]] == ["m4", "m3"] and page["has_more"]
    rest = client.conversations_history(channel="C1", limit=10, cursor=page["response_metadata"]["next_cursor"])
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1", "m0"] and not rest["has_more"]


def test_thread_replies_stay_out_of_history(slack: SlackServer, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="alert")["ts"]
    reply = client.chat_postMessage(channel="C1", text="grew", thread_ts=parent)["ts"]
    assert [m["text"] for m in slack.messages("C1")] == ["alert"]
    assert slack.messages("C1")[0]["reply_count"] == 1
    assert [(m["ts"], m["text"]) for m in slack.replies("C1", parent)] == [(reply, "grew")]
    history = client.conversations_history(channel="C1")
    assert [m["text"] for m in history["messages"]] == ["alert"]
    thread = client.conversations_replies(channel="C1", ts=parent)
    assert [m["text"] for m in thread["messages"]] == ["alert", "grew"]


def test_posting_to_a_user_lands_in_their_dm(slack: SlackServer, client: WebClient) -> None:
    answer = client.chat_postMessage(channel="U7", text="hi")
    assert answer["channel"] == "D7"
    assert [m["text"] for m in slack.messages("D7")] == ["hi"] == [m["text"] for m in slack.messages("U7")]


def test_form_encoded_blocks_are_decoded(slack: SlackServer, client: WebClient) -> None:
    blocks = [section("hello")]
    client.api_call("chat.postMessage", data={"channel": "C1", "text": "hello", "blocks": json.dumps(blocks)})
    assert slack.calls("chat.postMessage")[0].params["blocks"] == blocks
    assert slack.messages("C1")[0]["blocks"] == blocks


# ---- faults ----------------------------------------------------------------------------------------------------


def test_429_surfaces_with_retry_after_and_is_used_up(slack: SlackServer, client: WebClient) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="x")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"
    assert slack.messages("C1") == []
    client.chat_postMessage(channel="C1", text="x")  # the fault was for one call only
    assert len(slack.messages("C1")) == 1 and slack.count("chat.postMessage") == 2


def test_rate_limit_retry_handler_retries_after_the_header(slack: SlackServer) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.api_url, timeout=5)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    slack.fail("chat.postMessage", retry_after=0)
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    assert slack.count("chat.postMessage") == 2 and len(slack.posts()) == 1


def test_committed_500_stores_the_message(slack: SlackServer, client: WebClient) -> None:
    slack.fail("chat.postMessage", status=500, commit=True)
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="posted but unheard")
    assert raised.value.response.status_code == 500
    assert [m["text"] for m in slack.messages("C1")] == ["posted but unheard"]
    assert len(slack.posts()) == 1


def test_uncommitted_503_with_an_empty_body_stores_nothing(slack: SlackServer, client: WebClient) -> None:
    slack.fail("chat.postMessage", status=503, body="")
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="x")
    assert raised.value.response.status_code == 503
    assert slack.messages("C1") == [] and slack.posts() == []


def test_committed_delay_past_the_client_timeout(slack: SlackServer) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.api_url, timeout=1)
    slack.fail("chat.postMessage", delay=5, commit=True)
    started = time.monotonic()
    with pytest.raises(TimeoutError):  # urllib's read timeout; slack_sdk does not retry it by default
        client.chat_postMessage(channel="C1", text="late")
    assert time.monotonic() - started < 4
    assert [m["text"] for m in slack.messages("C1")] == ["late"]
    assert slack.count("chat.postMessage") == 1


def test_faults_for_one_channel_and_error_answers(slack: SlackServer, client: WebClient) -> None:
    slack.fail("chat.postMessage", error="channel_not_found", channel="C2")
    assert client.chat_postMessage(channel="C1", text="fine")["ok"]
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C2", text="x")
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "channel_not_found"
    slack.removed_channels.add("C3")
    slack.archived_channels.add("C4")
    for channel, error in (("C3", "not_in_channel"), ("C4", "is_archived")):
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel=channel, text="x")
        assert raised.value.response["error"] == error
    info = client.conversations_info(channel="C4")["channel"]
    assert info["is_archived"] and info["is_member"]
    assert not client.conversations_info(channel="C3")["channel"]["is_member"]
    assert [call.params["channel"] for call in slack.posts()] == ["C1"]


# ---- auth, users, views, OAuth -----------------------------------------------------------------------------------


def test_auth_test_maps_tokens_to_teams(slack: SlackServer) -> None:
    slack.tokens = {"xoxb-T1": "T1", "xoxb-T2": "T2"}
    answer = WebClient(token="xoxb-T2", base_url=slack.api_url).auth_test()
    assert (answer["team_id"], answer["user_id"], answer["bot_id"]) == ("T2", "UBOT", "BBOT")
    for token in ("xoxb-unknown", None):
        with pytest.raises(SlackApiError) as raised:
            WebClient(token=token, base_url=slack.api_url).auth_test()
        assert raised.value.response["error"] == "invalid_auth"


def test_users_info_timezones(slack: SlackServer, client: WebClient) -> None:
    slack.timezones["U2"] = "Europe/Berlin"
    assert client.users_info(user="U1")["user"]["tz"] == "America/Los_Angeles"
    berlin = client.users_info(user="U2")["user"]
    assert berlin["tz"] == "Europe/Berlin" and berlin["tz_offset"] in (3600, 7200)


def test_views_publish_records_the_home_tab(slack: SlackServer, client: WebClient) -> None:
    view = {"type": "home", "blocks": [section("Following 3 sources")]}
    answer = client.views_publish(user_id="U1", view=view)
    assert answer["view"]["id"].startswith("V")
    assert slack.home("U1")["blocks"] == view["blocks"]  # type: ignore[index]
    assert slack.block_errors == []
    client.views_publish(user_id="U1", view={"type": "home", "blocks": [{"type": "divider"}] * 101})
    assert slack.block_errors == ["views.publish: blocks: 101 blocks, more than the 100 a home allows"]


def test_oauth_install_and_token_refresh(slack: SlackServer) -> None:
    slack.rotation = True
    slack.install_team = ("T9", "Nine")
    anonymous = WebClient(base_url=slack.api_url)
    install = anonymous.oauth_v2_access(client_id="111.222", client_secret="s3cret", code="abc")
    assert install["team"] == {"id": "T9", "name": "Nine"} and install["bot_user_id"] == "UBOT"
    assert install["access_token"].startswith("xoxb-") and install["expires_in"] == 43_200
    assert slack.calls("oauth.v2.access")[0].params["client_secret"] == "s3cret"  # from the Basic header
    assert WebClient(token=install["access_token"], base_url=slack.api_url).auth_test()["team_id"] == "T9"
    refreshed = anonymous.oauth_v2_access(client_id="111.222", client_secret="s3cret", grant_type="refresh_token",
                                          refresh_token=install["refresh_token"])
    assert refreshed["access_token"] not in ("", install["access_token"]) and refreshed["team"]["id"] == "T9"
    with pytest.raises(SlackApiError):
        anonymous.oauth_v2_access(client_id="1", client_secret="2", grant_type="refresh_token", refresh_token="nope")


# ---- response_url hooks, Block Kit checks -----------------------------------------------------------------------


def test_hooks_record_posts_and_run_out(slack: SlackServer) -> None:
    hook = WebhookClient(slack.hook_url("cmd"))
    assert hook.send(text="working on it", response_type="ephemeral").status_code == 200
    assert slack.hooks("cmd") == [{"text": "working on it", "response_type": "ephemeral"}]
    for _ in range(4):
        hook.send(text="again")
    assert hook.send(text="sixth").status_code == 404  # Slack allows five uses of a response_url
    assert len(slack.hooks()) == 6 and slack.hooks("other") == []


def test_block_validation_catches_a_long_section(slack: SlackServer, client: WebClient) -> None:
    assert validate_blocks([SectionBlock(text="x" * 3000).to_dict()]) == []
    problem = "blocks[0] (section): text attribute cannot exceed 3000 characters"
    assert validate_blocks([section("x" * 3001)]) == [problem]
    client.chat_postMessage(channel="C1", text="too long", blocks=[section("x" * 3001)])
    assert slack.block_errors == [f"chat.postMessage: {problem}"]


@pytest.mark.parametrize(("blocks", "problem"), [
    ([{"type": "divider"}] * 51, "51 blocks, more than the 50"),
    ([{"type": "section", "text": {"type": "mrkdwn", "text": "a"}, "acessory": {}}], "acessory: unknown field"),
    ([{"type": "section", "text": "bare"}], "bare string"),
    ([{"type": "section", "text": {"type": "mrkdwn", "text": ""}}], "empty text"),
    ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "cannot exceed 150"),
    ([{"type": "sectoin"}], "unknown block type"),
    ([section("y" * 2900)] * 5, "msg_blocks_too_long"),
])
def test_block_validation_problems(blocks: list[dict[str, Any]], problem: str) -> None:
    errors = validate_blocks(blocks)
    assert len(errors) == 1 and problem in errors[0], errors


def test_view_validation_allows_100_home_blocks() -> None:
    assert validate_view({"type": "home", "blocks": [{"type": "divider"}] * 100}) == []
    assert validate_view({"type": "message", "blocks": []}) == ["view.type: 'message', not home or modal"]


def test_blocks_without_fallback_text_are_flagged(slack: SlackServer, client: WebClient) -> None:
    with pytest.warns(UserWarning, match="top-level `text`"):  # slack_sdk warns too
        client.chat_postMessage(channel="C1", blocks=[section("no fallback")])
    assert slack.block_errors == [
        "chat.postMessage: blocks without a top-level text fallback (notifications and screen readers get nothing)"]


# ---- signing and payload helpers ---------------------------------------------------------------------------------


def test_signature_verifies_with_slack_sdk() -> None:
    body = command_body("help", response_url="http://127.0.0.1:9/hooks/x")
    headers = sign(SECRET, body)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)
    stale = sign(SECRET, body, timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(body, stale)
    assert sign(SECRET, event_body(event("app_mention")))["Content-Type"] == "application/json"


def test_command_body_has_a_real_commands_fields() -> None:
    fields = parse_qs(command_body("follow hn", channel_id="C9", response_url="http://h/hooks/c"))
    assert fields["command"] == ["/brief"] and fields["text"] == ["follow hn"] and fields["channel_id"] == ["C9"]
    sample = json.loads(corpus_path("slack", "payloads", "app-backend", "slash-commands",
                                    "SlashCommandPayload.json").read_text())
    assert set(sample) - set(fields) == {"enterprise_id", "enterprise_name"}  # absent outside Enterprise Grid


def test_event_body_matches_the_events_api_wrapper_schema() -> None:
    import jsonschema

    schema_file: Path = corpus_path("slack", "events-api", "slack_common_event_wrapper_schema.json")
    schema = json.loads(schema_file.read_text())
    kinds = ("app_home_opened", "channel_left", "group_left", "member_joined_channel", "channel_archive",
             "group_archive", "channel_unarchive", "group_unarchive", "app_mention", "message.im",
             "app_uninstalled", "tokens_revoked")
    for kind in kinds:
        jsonschema.validate(json.loads(event_body(event(kind))), schema)
    first, second = (json.loads(event_body(event("app_mention"))) for _ in range(2))
    assert first["event_id"] != second["event_id"] and first["event"]["ts"] != second["event"]["ts"]
    assert json.loads(event_body(event("app_mention"), event_id="Ev1"))["event_id"] == "Ev1"


def test_event_constructors() -> None:
    dm = event("message.im", user="U5", text="what is new?")
    assert (dm["type"], dm["channel_type"], dm["channel"], dm["text"]) == ("message", "im", "D5", "what is new?")
    assert event("app_home_opened", tab="messages")["tab"] == "messages"
    with pytest.raises(ValueError, match="no constructor"):
        event("reaction_added")


def test_bolt_accepts_the_signed_requests(slack: SlackServer) -> None:
    """The helpers' payloads go through a real Bolt App: command → ack + respond (response_url), app_mention →
    say (chat.postMessage), block_actions → ack + respond; a bad signature is refused."""
    app = App(client=WebClient(token="xoxb-test", base_url=slack.api_url), signing_secret=SECRET,
              process_before_response=True)
    seen: list[str] = []

    @app.command("/brief")
    def brief(ack: Ack, respond: Respond, command: dict[str, Any]) -> None:
        ack(text="working on it")
        respond(text=f"you said {command['text']}")

    @app.event("app_mention")
    def on_mention(say: Say, event: dict[str, Any]) -> None:
        say(text="hello", thread_ts=event["ts"])

    @app.action("mute")
    def mute(ack: Ack, respond: Respond, body: dict[str, Any]) -> None:
        ack()
        seen.append(body["actions"][0]["value"])
        respond(text="muted", replace_original=False)

    def dispatch(body: str, headers: dict[str, str]) -> int:
        return app.dispatch(BoltRequest(body=body, headers=dict[str, str | Sequence[str]](headers))).status

    body = command_body("status", response_url=slack.hook_url("cmd"))
    assert dispatch(body, sign(SECRET, body)) == 200
    assert dispatch(body, sign("wrong", body)) == 401
    mention = event("app_mention", channel="C2")
    body = event_body(mention)
    assert dispatch(body, sign(SECRET, body)) == 200
    body = action_body("mute", "TikTok", response_url=slack.hook_url("act"))
    assert dispatch(body, sign(SECRET, body)) == 200

    assert slack.hooks("cmd") == [{"text": "you said status"}]
    assert [m["text"] for m in slack.replies("C2", mention["ts"])] == ["hello"]
    assert seen == ["TikTok"] and slack.hooks("act") == [{"text": "muted", "replace_original": False}]
    assert slack.count("auth.test") == 1 and slack.block_errors == []
