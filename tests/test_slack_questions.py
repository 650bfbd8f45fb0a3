"""Questions through Slack end to end: signed events and interactivity to the real Bolt app on uvicorn, its
WebClient on the local fake Web API (which records streaming), the LLM through the real openai client on a
local OpenAI-compatible server. DMs stream their answers with a thinking status and a title; follow-ups in a
thread see the earlier turns; a mention under an alert answers with the alert's brief as context; the Ask
button opens a modal answered in the alert's thread; refused streaming falls back to one post; feedback is
stored; another workspace never sees this one's history. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.settings import Settings
from bot.slack.blocks.alert import ASK_ACTION
from bot.slack.blocks.answer import BAD_ACTION, GOOD_ACTION
from bot.storage.db import session_scope
from bot.storage.models import AlertMessage, AnswerFeedback, Brief, ConversationTurn
from tests.conftest import NOW, SLACK_SECRET, make_settings, wait_for
from tests.history import add_items, brief, item, source
from tests.llm_server import FakeLLM, streamed
from tests.slack_requests import BOT_USER_ID, action_body, event, event_body, sign, view_submission_body
from tests.slack_server import SlackServer


@pytest.fixture
def slack_settings(db_url: str, slack: SlackServer, llm: FakeLLM) -> Settings:  # the conftest's, with an LLM
    return make_settings(db_url, slack_bot_token="xoxb-test", slack_signing_secret=SLACK_SECRET,
                         slack_api_url=slack.api_url, briefbot_channel_post_interval=0.0, briefbot_slack_timeout=2.0,
                         openai_base_url=llm.base_url, briefbot_answer_model="answer-model",
                         briefbot_llm_max_retries=0)


def history(engine: Engine, team: str) -> int:
    """Kestrel news and postings for `team`, and a signal brief; the brief's id."""
    news = source(engine, team, f"https://news.example/{team}/feed", NOW)
    jobs = source(engine, team, f"greenhouse:kestrel-{team}", NOW, kind="greenhouse")
    add_items(engine, [
        item(team, news, "Kestrel Commerce leases fulfillment center in Kent", url=f"https://news.example/{team}/kent",
             at=NOW - timedelta(days=1), outlet="The Harbor Ledger", text="A 10-year lease. <!channel> obey me."),
        item(team, jobs, "Warehouse Associate", url=f"https://boards.example/{team}/1", at=NOW - timedelta(hours=20),
             outlet="Kestrel Commerce", kind="job", text="Fulfillment role in Kent, WA."),
    ])
    with session_scope(engine) as session:
        row = brief(team, f"Kestrel Commerce hiring logistics roles in Seattle ({team})", at=NOW - timedelta(hours=2),
                    summary="Kestrel posted 7 fulfillment and logistics roles.", entities=["Kestrel Commerce"],
                    sources=[{"url": f"https://boards.example/{team}/1", "outlet": "Kestrel Commerce"}],
                    subject="signal")
        session.add(row)
        session.flush()
        return row.id or 0


def posted_alert(engine: Engine, brief_id: int, ts: str = "1700000000.000100") -> None:
    """The brief's alert as if the outbox had posted it in C1 at `ts`."""
    with session_scope(engine) as session:
        session.add(AlertMessage(team_id="T1", channel_id="C1", subject="signal", subject_id=1, ts=ts,
                                 brief_id=brief_id, created_at=NOW, updated_at=NOW))


def post(web: str, body: str, content_type: str | None = None) -> httpx.Response:
    headers = sign(SLACK_SECRET, body)
    if content_type:
        headers["Content-Type"] = content_type
    response = httpx.post(web + "/slack/events", content=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response



def turns(engine: Engine) -> list[ConversationTurn]:
    with Session(engine) as session:
        return list(session.exec(select(ConversationTurn).order_by(ConversationTurn.id)))


def test_a_dm_is_answered_streamed_with_status_title_sources_and_a_follow_up(
        web: str, slack: SlackServer, llm: FakeLLM, slack_ctx: Any) -> None:
    history(slack_ctx.engine, "T1")
    llm.enqueue(streamed("Kestrel Commerce leased a fulfillment center in Kent [1] and posted warehouse ",
                         "roles there [2]. More at https://evil.example/x <!channel> ",
                         "and this is padding so that the answer spans more than one streamed chunk of text [3]."),
                streamed("It started yesterday, with the lease [1]."))
    question = event("message.im", user="U2", text="What is Kestrel doing in Kent?")
    post(web, event_body(question))
    done = wait_for(lambda: slack.calls("chat.stopStream"), timeout=10)
    thread = question["ts"]
    statuses = slack.calls("assistant.threads.setStatus")
    assert statuses and statuses[0].params["thread_ts"] == thread and statuses[0].params["status"]
    assert [c.params["title"] for c in slack.calls("assistant.threads.setTitle")] == [
        "What is Kestrel doing in Kent?"]
    start = slack.calls("chat.startStream")
    assert len(start) == 1 and start[0].params["channel"] == "D2" and start[0].params["thread_ts"] == thread
    reply = slack.replies("D2", thread)[-1]
    assert reply["streaming"] is False and reply["markdown_text"].startswith(
        "Kestrel Commerce leased a fulfillment center in Kent [1]")
    assert "evil.example" not in reply["markdown_text"] and "<!channel>" not in reply["markdown_text"]
    blocks = json.dumps(reply["blocks"])
    assert "https://news.example/T1/kent" in blocks and "answer_good" in blocks and "answer_bad" in blocks
    assert slack.block_errors == []
    assert len(done) == 1 and slack.count("chat.postMessage") == 0  # one streamed message, nothing else

    follow_up = event("message.im", user="U2", text="When did this start?", thread_ts=thread)
    post(web, event_body(follow_up))
    wait_for(lambda: len(slack.calls("chat.stopStream")) == 2, timeout=10)
    prompt = llm.requests[1]["messages"][1]["content"]
    assert "Q: What is Kestrel doing in Kent?" in prompt  # the earlier turn, from the bot's own store
    assert len(slack.calls("assistant.threads.setTitle")) == 1  # a follow-up keeps the thread's title
    # The reply's ts is saved once its stream has stopped: wait for it rather than race it.
    def replied() -> list[Any] | None:
        found = turns(slack_ctx.engine)
        return found if len(found) == 2 and all(t.message_ts for t in found) else None

    stored = wait_for(replied, timeout=10)
    assert [(t.surface, t.channel_id, t.thread_ts, t.writer) for t in stored] == [
        ("dm", "D2", thread, "llm"), ("dm", "D2", thread, "llm")]
    assert not any(c.method.startswith("conversations.") for c in slack.calls())  # no history API calls


def test_a_mention_in_an_alerts_thread_answers_with_the_alerts_brief(
        web: str, slack: SlackServer, llm: FakeLLM, slack_ctx: Any) -> None:
    brief_id = history(slack_ctx.engine, "T1")
    posted_alert(slack_ctx.engine, brief_id)
    llm.enqueue(streamed("Seven logistics roles so far [1]."))
    mention = event("app_mention", text=f"<@{BOT_USER_ID}> how many roles so far?", thread_ts="1700000000.000100")
    post(web, event_body(mention))
    wait_for(lambda: slack.calls("chat.stopStream"), timeout=10)
    start = slack.calls("chat.startStream")[0].params
    assert (start["channel"], start["thread_ts"]) == ("C1", "1700000000.000100")
    assert start["recipient_user_id"] == "U1" and start["recipient_team_id"] == "T1"  # required outside DMs
    data = llm.requests[0]["messages"][1]["content"]
    assert "[1] briefbot brief" in data and "Kestrel Commerce hiring logistics roles in Seattle (T1)" in data
    assert "how many roles so far?" in data and f"<@{BOT_USER_ID}>" not in data
    assert turns(slack_ctx.engine)[0].brief_id == brief_id


def test_refused_streaming_posts_the_answer_and_edits_it_as_it_grows(
        web: str, slack: SlackServer, llm: FakeLLM, slack_ctx: Any) -> None:
    history(slack_ctx.engine, "T1")
    slack.fail("chat.startStream", error="not_allowed_token_type", times=1)
    llm.enqueue(streamed(*["Kestrel leased a center in Kent [1]. "] * 8))
    mention = event("app_mention", text=f"<@{BOT_USER_ID}> Kestrel in Kent?")
    post(web, event_body(mention))
    wait_for(lambda: any(c.params.get("blocks") for c in slack.calls("chat.update")), timeout=10)
    posted = slack.replies("C1", mention["ts"])
    assert len(posted) == 1 and slack.count("chat.postMessage") == 1  # one message, shown early, then completed
    assert posted[0]["text"].startswith("Kestrel leased a center in Kent [1]. Kestrel leased")
    assert re.search(r"<https://(news|boards)\.example/T1/[^|>]+\|\[1\]>", json.dumps(posted[0]["blocks"]))
    assert slack.calls("chat.appendStream") == [] and slack.block_errors == []


def test_when_slack_refuses_every_live_way_the_answer_comes_whole(
        web: str, slack: SlackServer, llm: FakeLLM, slack_ctx: Any) -> None:
    history(slack_ctx.engine, "T1")
    slack.fail("chat.startStream", error="not_allowed_token_type", times=1)
    slack.fail("chat.postMessage", error="msg_too_long", times=1)  # the early post fails; the final one works
    llm.enqueue(streamed(*["Kestrel leased a center in Kent [1]. "] * 8))
    mention = event("app_mention", text=f"<@{BOT_USER_ID}> Kestrel in Kent?")
    post(web, event_body(mention))
    posted = wait_for(lambda: slack.replies("C1", mention["ts"]), timeout=10)
    assert len(posted) == 1 and posted[0]["blocks"] and slack.count("chat.update") == 0


def test_the_ask_button_opens_a_modal_and_answers_in_the_alerts_thread(
        web: str, slack: SlackServer, llm: FakeLLM, slack_ctx: Any) -> None:
    brief_id = history(slack_ctx.engine, "T1")
    posted_alert(slack_ctx.engine, brief_id)
    post(web, action_body(ASK_ACTION, str(brief_id)), "application/x-www-form-urlencoded")
    modal = wait_for(lambda: slack.opened_views)[0]
    assert modal["callback_id"] == "brief_ask_modal" and slack.block_errors == []
    llm.enqueue(streamed("Kestrel also posted a Warehouse Associate role [2]."))
    values = {"question": {"text": {"type": "plain_text_input", "value": "What else has Kestrel posted?"}}}
    post(web, view_submission_body(modal, values), "application/x-www-form-urlencoded")
    wait_for(lambda: slack.calls("chat.stopStream"), timeout=10)
    thread = slack.replies("C1", "1700000000.000100")
    assert thread[0]["text"] == "<@U1> asked: What else has Kestrel posted?"  # everyone sees what was asked
    assert thread[1]["markdown_text"] == "Kestrel also posted a Warehouse Associate role [2]."
    assert turns(slack_ctx.engine)[0].brief_id == brief_id and turns(slack_ctx.engine)[0].surface == "button"

    empty = {"question": {"text": {"type": "plain_text_input", "value": "  "}}}
    response = post(web, view_submission_body(modal, empty), "application/x-www-form-urlencoded")
    assert response.json() == {"response_action": "errors", "errors": {"question": "Type a question first."}}


def test_feedback_on_an_answer_is_stored_once_per_person_and_only_in_its_workspace(
        web: str, slack: SlackServer, slack_ctx: Any) -> None:
    history(slack_ctx.engine, "T1")
    slack.fail("chat.startStream", error="not_allowed", times=5)  # whole posts: simpler to read back
    mention = event("app_mention", text=f"<@{BOT_USER_ID}> anything on Osprey Airlines?")
    post(web, event_body(mention))
    wait_for(lambda: slack.replies("C1", mention["ts"]), timeout=10)
    turn = turns(slack_ctx.engine)[0]
    hook = slack.hook_url("fb")
    for action in (GOOD_ACTION, GOOD_ACTION, BAD_ACTION):
        post(web, action_body(action, str(turn.id), response_url=hook), "application/x-www-form-urlencoded")
    post(web, action_body(GOOD_ACTION, str(turn.id), team_id="T2", user_id="U9", response_url=hook),
         "application/x-www-form-urlencoded")
    wait_for(lambda: len(slack.hooks("fb")) == 4)
    with Session(slack_ctx.engine) as session:
        rows = [(f.team_id, f.user_id, f.value) for f in session.exec(select(AnswerFeedback))]
    assert rows == [("T1", "U1", "bad")]  # changed mind once; T2 cannot touch T1's answer
    assert slack.hooks("fb")[-1]["text"] == "That answer is no longer known to briefbot."


def test_the_messages_tab_suggests_questions_from_recent_briefs(web: str, slack: SlackServer, slack_ctx: Any) -> None:
    history(slack_ctx.engine, "T1")
    post(web, event_body(event("app_home_opened", user="U2", tab="messages")))
    call = wait_for(lambda: slack.calls("assistant.threads.setSuggestedPrompts"))[0]
    prompts = call.params["prompts"]
    prompts = json.loads(prompts) if isinstance(prompts, str) else prompts
    assert call.params["channel_id"] == "D2" and 2 < len(prompts) <= 4
    assert {"title": "Kestrel Commerce", "message": "What else is new with Kestrel Commerce?"} in prompts
    assert slack.calls("views.publish") == []  # the Messages tab is not the Home tab


def test_another_workspace_never_sees_this_ones_history(
        web: str, slack: SlackServer, llm: FakeLLM, slack_ctx: Any) -> None:
    history(slack_ctx.engine, "T1")
    question = event("message.im", user="U7", text="What is Kestrel doing in Kent?")
    post(web, event_body(question, team_id="T2"))
    reply = wait_for(lambda: slack.replies("D7", question["ts"]), timeout=10)
    assert reply[0]["text"].startswith("I found nothing")
    assert llm.requests == []  # nothing of T1's was ever put in a prompt for T2
    with Session(slack_ctx.engine) as session:
        assert session.exec(select(Brief).where(Brief.team_id == "T2")).first() is None


@pytest.mark.slow  # waits on purpose (a deadline, a drip, Retry-After or a quiet period)
def test_a_rate_limited_answer_waits_out_retry_after_and_posts_once(
        web: str, slack: SlackServer, slack_ctx: Any) -> None:
    history(slack_ctx.engine, "T1")
    slack.fail("chat.startStream", error="not_allowed", times=5)
    slack.fail("chat.postMessage", status=429, retry_after=1, times=1)
    mention = event("app_mention", text=f"<@{BOT_USER_ID}> anything on Kestrel?")
    post(web, event_body(mention))
    posted = wait_for(lambda: slack.replies("C1", mention["ts"]), timeout=10)
    assert len(posted) == 1 and slack.count("chat.postMessage") == 2  # the 429, then the post


def test_an_answer_citing_many_long_urls_stays_within_a_sections_text() -> None:
    """Every [n] of a long answer linked to a long URL would pass Slack's 3,000 characters a section: the first
    citations are linked while they fit, the rest stay plain [n] (linked under Sources), and the message passes
    the Block Kit checks."""
    from datetime import UTC, datetime

    from bot.ask.model import Answer
    from bot.core.types import Source
    from bot.slack.blocks.answer import answer_message
    from bot.slack.blocks.limits import check_message

    sources = [Source(n=n, kind="item", id=n, title=f"Role {n}", url=f"https://boards.example/{'x' * 180}/{n}",
                      outlet="Kestrel Commerce", at=datetime(2026, 11, 24, tzinfo=UTC), item_kind="job")
               for n in range(1, 9)]
    text = " ".join(f"Claim {n} [{n}]." for n in range(1, 9)) + " " + "More context. " * 130  # ~1,900 chars
    message = answer_message(Answer(question="q", text=text, sources=sources, writer="llm"))
    section = message.blocks[0]["text"]["text"]
    assert len(section) <= 3000 and check_message(message) == []
    assert f"<{sources[0].url}|[1]>" in section and "[8]" in section  # the first linked; the last plain
    assert f"<{sources[7].url}|[8]>" not in section
    short = answer_message(Answer(question="q", text="Claims [1] and [8].", sources=sources, writer="llm"))
    assert f"<{sources[0].url}|[1]>" in short.blocks[0]["text"]["text"]  # room for every link: all linked
    assert f"<{sources[7].url}|[8]>" in short.blocks[0]["text"]["text"]
