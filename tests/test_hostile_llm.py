"""Issue 11, items 9 and 10: a hostile or broken LLM endpoint costs one brief its LLM text (the built-in writer
stands in, saying why) and one answer its LLM text (the extractive answer), never the analysis or the command;
structured output is negotiated with servers that refuse `json_schema` as llama-cpp-python does; and every
call, streamed or not, ends within its deadline however slowly the server drips.

All through the real openai client against tests/llm_server.py's local server."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from bot.ask.extractive import CUT_SHORT, LLM_FAILED
from bot.briefs.model import BriefDraft
from bot.cli import main
from bot.context import Context, build_context
from bot.llm.brief_writer import LLMBriefWriter, grammar_schema
from bot.llm.client import LLMBadOutput, LLMTooSlow, build_client
from bot.llm.deadline import request_bound
from bot.llm.embeddings import Embedder
from bot.llm.fallback import LLMWithFallback
from bot.llm.prompts import load_all
from bot.settings import Settings
from bot.storage.briefs import list_briefs
from bot.storage.db import build_engine, session_scope, upgrade
from tests.conftest import context_for, make_settings
from tests.llm_server import (
    FakeLLM,
    Reply,
    chunk,
    completion,
    dripped,
    embeddings,
    error,
    events,
    html_page,
    invalid_json,
    streamed,
)
from tests.test_ask_answers import NOW, conversation, history, make_ctx
from tests.test_llm_writer import GOOD, JSON_SCHEMA_FORMAT, MODEL, PROMPTS_DIR, SCHEMA, SIGNAL, settings
from tests.test_signal_update import seed_seattle_hiring

COMPLETION = completion(json.dumps(GOOD)).body



def brief_writer(llm: FakeLLM, *, timeout: float = 5.0, max_retries: int = 0, model: str = MODEL) -> LLMBriefWriter:
    client = build_client(settings(openai_base_url=llm.base_url), timeout=timeout, max_retries=max_retries)
    return LLMBriefWriter(client, model, load_all(PROMPTS_DIR))


def with_fallback(writer: LLMBriefWriter) -> LLMWithFallback:
    return LLMWithFallback(writer, budget=no_budget_read)  # bound to no workspace: no budget is read


def no_budget_read(team_id: str) -> Any:
    raise AssertionError(f"a writer bound to no workspace read {team_id}'s budget")


# Item 9a: replies that are not what they claim to be.

HOSTILE_REPLIES = {
    "html-page": (html_page(), "the reply is not a chat completion (text: '<!doctype html>"),
    "choices-null": (Reply(body={**COMPLETION, "choices": None}), "the reply has no list of choices"),
    "choices-empty": (Reply(body={**COMPLETION, "choices": []}), "the reply has no choices"),
    "a-string": (Reply(body=json.dumps("Sure! Here is your brief.")),
                 "the reply is not a chat completion (text: 'Sure! Here is your brief.')"),
    "a-list": (Reply(body=[COMPLETION]), "the reply is not a chat completion (list)"),
    "message-null": (Reply(body={**COMPLETION, "choices": [{"index": 0, "message": None}]}),
                     "the reply's first choice has no message"),
    "content-number": (Reply(body={**COMPLETION, "choices": [{"index": 0, "message": {"content": 42}}]}),
                       "the reply's message content is int, not text"),
    "invalid-json": (invalid_json(), "the reply is not JSON"),
    "empty-body": (Reply(body=""), "the reply is not JSON"),
}


@pytest.mark.parametrize("case", HOSTILE_REPLIES)
def test_a_reply_that_is_no_completion_gets_the_builtin_writer_with_the_reason(llm: FakeLLM, case: str) -> None:
    reply, reason = HOSTILE_REPLIES[case]
    llm.enqueue(reply)
    written = with_fallback(brief_writer(llm)).write(SIGNAL)
    assert written.writer == "builtin"
    assert (written.note or "").startswith(f"LLM reply unusable: {MODEL}: {reason}"), written.note
    assert len(llm.requests) == 1  # no repair request: there was no content to repair


@pytest.mark.parametrize("usage", [None, "n/a", {"prompt_tokens": None, "completion_tokens": "12"}, [1, 2]],
                         ids=["null", "string", "null-counts", "list"])
def test_a_usage_of_another_shape_counts_as_none_and_the_brief_stands(llm: FakeLLM, usage: Any) -> None:
    llm.enqueue(Reply(body={**COMPLETION, "usage": usage}))
    written = with_fallback(brief_writer(llm)).write(SIGNAL)
    assert written.writer == "llm" and written.draft == BriefDraft(**GOOD)
    assert (written.prompt_tokens, written.completion_tokens) == (0, 0)


def test_an_error_inside_a_200_is_a_failure_like_any_other(llm: FakeLLM) -> None:
    llm.enqueue(Reply(body={"error": {"message": "model overloaded", "type": "server_error"}}))
    written = with_fallback(brief_writer(llm)).write(SIGNAL)
    assert written.writer == "builtin" and "the reply has no list of choices" in (written.note or "")


def test_a_hostile_endpoint_costs_each_brief_only_its_llm_text(settings: Settings, engine: Engine, clock: Any,
                                                               llm: FakeLLM) -> None:
    """Through analysis, on both databases: the HTML page that used to abort the workspace's analysis."""
    seed_seattle_hiring(engine, clock)
    llm.respond = lambda body: html_page()
    ctx = build_context(make_settings(settings.database_url, openai_base_url=llm.base_url,
                                      briefbot_brief_model="test-model", briefbot_llm_max_retries=0))
    ctx.clock = clock
    report = ctx.analyse()
    assert len(report.briefs) == 1
    with session_scope(engine) as session:
        (brief,) = list_briefs(session=session)
    assert brief.writer == "builtin"
    assert (brief.writer_note or "").startswith("LLM reply unusable: test-model: the reply is not a chat completion")
    ctx.engine.dispose()


# Item 9a: streamed answers that are not what they claim to be.

HOSTILE_STREAMS = {
    "garbage-events": events("<html>", "not json at all"),
    "string-chunks": events(json.dumps("Kestrel is hiring"), json.dumps("in Kent")),
    "list-chunks": events(json.dumps([1, 2, 3])),
    "choices-empty": events(chunk(choices=[]), chunk(choices=[])),
    "choices-null": events(chunk(choices=None)),
    "null-deltas": events(chunk(None), chunk(None)),
    "null-content": events(chunk({"role": "assistant", "content": None})),
    "html-page": html_page(),
    "error-event": events(json.dumps({"error": {"message": "the model crashed"}}), done=False),
}


@pytest.fixture
def ask_ctx(db_url: str, llm: FakeLLM) -> Iterator[Context]:
    context = make_ctx(db_url, openai_base_url=llm.base_url)
    history(context.engine)
    yield context
    context.engine.dispose()


@pytest.fixture
def quick_ctx(db_url: str, llm: FakeLLM) -> Iterator[Context]:
    """Answers with a 1 s timeout and no retries: a 2 s bound a request."""
    configured = make_settings(db_url, openai_base_url=llm.base_url, briefbot_answer_model="answer-model",
                               briefbot_llm_timeout=1.0, briefbot_llm_max_retries=0)
    context: Context = context_for(configured, lambda: NOW)
    history(context.engine)
    context.asker()  # built before any test times a call
    yield context
    context.engine.dispose()


@pytest.mark.parametrize("case", HOSTILE_STREAMS)
def test_a_hostile_stream_gets_the_extractive_answer_and_a_log_line(ask_ctx: Context, llm: FakeLLM, case: str,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    llm.respond = lambda body: HOSTILE_STREAMS[case]  # the one retry on an empty answer gets the same
    shown: list[str] = []
    with caplog.at_level(logging.WARNING, logger="bot.ask.service"):
        answer = ask_ctx.asker().ask(conversation(), "Is Kestrel hiring warehouse staff?", on_text=shown.append)
    assert answer.writer == "extractive" and answer.note == LLM_FAILED
    assert "Warehouse Associate" in answer.text and answer.sources
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.ask.service"]
    assert line.startswith("answering extractively: answer-model: ")
    assert 1 <= len(llm.requests) <= 2


# Item 9b: structured output negotiated, as with llama-cpp-python's server.

GRAMMAR_FORMAT = {"type": "json_object", "schema": grammar_schema()}


def test_a_server_refusing_json_schema_gets_json_object_with_the_schema_and_it_is_remembered() -> None:
    with FakeLLM(formats=("text", "json_object")) as llm:
        llm.enqueue(completion(json.dumps(GOOD)), completion(json.dumps(GOOD)), completion(json.dumps(GOOD)))
        writer = brief_writer(llm, max_retries=1)
        written = with_fallback(writer).write(SIGNAL)
        assert written.writer == "llm" and written.draft == BriefDraft(**GOOD)
        formats = [r.get("response_format") for r in llm.requests]
        # json_schema refused with a 500, which the client retries once; then json_object with the schema
        assert formats == [JSON_SCHEMA_FORMAT, JSON_SCHEMA_FORMAT, GRAMMAR_FORMAT]
        assert llm.requests[2]["messages"] == llm.requests[0]["messages"]

        second = LLMBriefWriter(writer.client, MODEL, writer.prompts)  # another writer on the same client
        assert second.write(SIGNAL).writer == "llm"
        assert llm.requests[3]["response_format"] == GRAMMAR_FORMAT  # remembered: no refused request
        other = LLMBriefWriter(writer.client, "another-model", writer.prompts)
        assert other.write(SIGNAL).writer == "llm"
        # per model: another model on the same endpoint negotiates afresh
        assert [(r["model"], r["response_format"]) for r in llm.requests[4:]] == [
            ("another-model", JSON_SCHEMA_FORMAT), ("another-model", JSON_SCHEMA_FORMAT),
            ("another-model", GRAMMAR_FORMAT)]


def test_the_grammar_schema_bounds_every_field_and_rules_out_links_and_mentions() -> None:
    properties = grammar_schema()["properties"]
    draft = BriefDraft.model_json_schema()["properties"]
    assert set(properties) == set(SCHEMA["properties"])  # the same fields as json_schema's
    for name in ("headline", "summary", "why_it_matters", "event_type"):
        pattern = re.compile(properties[name]["pattern"])
        shortest, longest = draft[name]["minLength"], draft[name]["maxLength"]
        assert pattern.fullmatch("x" * shortest) and not pattern.fullmatch("x" * (shortest - 1))
        assert not pattern.fullmatch("x" * (longest + 1))
        for hostile in ("see https://evil.example now", "ask <!channel> now", "ping @here now", 'a "quote" x'):
            assert not pattern.fullmatch(hostile), (name, hostile)
    for name in ("entities", "places"):
        assert 0 < properties[name]["maxItems"] <= draft[name]["maxItems"]
        assert f"at most {properties[name]['maxItems']} items" in properties[name]["description"]
        assert re.fullmatch(properties[name]["items"]["pattern"], "Acme Logistics")
        assert not re.fullmatch(properties[name]["items"]["pattern"], "evil.example/x")


def test_control_characters_in_a_reply_are_removed_before_the_brief_is_stored(settings: Settings, engine: Engine,
                                                                              clock: Any, llm: FakeLLM) -> None:
    """NUL cannot be stored in PostgreSQL: a reply carrying one must cost nothing but the NUL."""
    seed_seattle_hiring(engine, clock)
    draft = {**GOOD, "headline": "Acme\u0000 Logistics\u0007 hires\nin Kent", "places": ["Kent\u0000", "Seattle"]}
    llm.enqueue(completion(json.dumps(draft)))
    ctx = build_context(make_settings(settings.database_url, openai_base_url=llm.base_url,
                                      briefbot_brief_model="test-model", briefbot_llm_max_retries=0))
    ctx.clock = clock
    assert len(ctx.analyse().briefs) == 1
    with session_scope(engine) as session:
        (brief,) = list_briefs(session=session)
    assert (brief.writer, brief.headline, brief.places) == ("llm", "Acme Logistics hires in Kent", ["Kent", "Seattle"])
    ctx.engine.dispose()


def test_a_server_refusing_both_json_modes_gets_instructions_only_and_repairs_stay_in_that_mode() -> None:
    with FakeLLM(formats=("text",)) as llm:
        llm.enqueue(completion("Here you go: Acme is hiring."), completion(json.dumps(GOOD)))
        written = with_fallback(brief_writer(llm)).write(SIGNAL)
        assert written.writer == "llm" and written.draft == BriefDraft(**GOOD)
        assert [r.get("response_format") for r in llm.requests] == [JSON_SCHEMA_FORMAT, GRAMMAR_FORMAT, None, None]
        assert "response_format" not in llm.requests[2]
        assert "max_tokens" not in llm.requests[0] and llm.requests[1]["max_tokens"] == llm.requests[2]["max_tokens"]
        assert llm.requests[3]["messages"][-1]["content"].startswith("Your previous reply could not be used")


def test_an_unrelated_500_changes_no_mode(llm: FakeLLM) -> None:
    llm.enqueue(error(500, "CUDA out of memory"), completion(json.dumps(GOOD)))
    writer = brief_writer(llm)
    assert with_fallback(writer).write(SIGNAL).writer == "builtin"
    assert with_fallback(writer).write(SIGNAL).writer == "llm"
    assert [r["response_format"] for r in llm.requests] == [JSON_SCHEMA_FORMAT, JSON_SCHEMA_FORMAT]


# Item 10: a deadline on every call.

def test_the_bound_is_the_clients_own_worst_case_plus_one_second() -> None:
    assert request_bound(5, 0) == 6
    assert request_bound(30, 2) == 30 * 3 + 0.5 + 1 + 1
    assert request_bound(10, 6) == 10 * 7 + (0.5 + 1 + 2 + 4 + 8 + 8) + 1


@pytest.mark.slow  # waits on purpose (a deadline, a drip, Retry-After or a quiet period)
@pytest.mark.parametrize("headers", [False, True], ids=["body", "status-line"])
def test_a_dripping_brief_ends_within_its_bound(llm: FakeLLM, headers: bool) -> None:
    llm.enqueue(dripped(completion(json.dumps(GOOD)), every=0.4, after=5, headers=headers))
    writer = brief_writer(llm, timeout=1.0, max_retries=0)  # a read every 0.4 s never trips the 1 s timeout
    started = time.monotonic()
    written = with_fallback(writer).write(SIGNAL)
    elapsed = time.monotonic() - started
    assert writer.bound == 2.0 and 1.9 <= elapsed < 4.5  # the lower bound proves the deadline; the upper one is
    # loose (about 2x) because a loaded 2-CPU runner can be slow, and the drip alone would take minutes
    assert written.writer == "builtin"
    assert written.note == (f"LLM too slow: {MODEL}: no complete reply within the call's deadline "
                            "(the bound: 2 s a request)")
    assert len(llm.requests) == 1  # the deadline is not retried


def test_a_retry_after_past_the_deadline_ends_the_call_now(llm: FakeLLM) -> None:
    llm.enqueue(error(429, "Rate limit reached", headers={"Retry-After": "30"}), completion(json.dumps(GOOD)))
    writer = with_fallback(brief_writer(llm, timeout=2.0, max_retries=2))
    started = time.monotonic()
    written = writer.write(SIGNAL)
    assert time.monotonic() - started < 2.5  # not 30 s of sleep before a retry that could not finish in time
    assert written.writer == "builtin"
    assert "HTTP 429, and the server asked to retry after 30 s, later than the call's deadline" in (written.note or "")
    assert len(llm.requests) == 1


def test_a_retry_after_within_the_deadline_is_still_honoured(llm: FakeLLM) -> None:
    llm.enqueue(error(429, "Rate limit reached", headers={"Retry-After": "1"}), completion(json.dumps(GOOD)))
    writer = with_fallback(brief_writer(llm, timeout=2.0, max_retries=1))
    started = time.monotonic()
    written = writer.write(SIGNAL)
    assert written.writer == "llm" and 0.9 <= time.monotonic() - started < 6  # upper bound loose for busy runners
    assert len(llm.requests) == 2


@pytest.mark.slow  # waits on purpose (a deadline, a drip, Retry-After or a quiet period)
def test_a_stream_that_stops_sending_keeps_what_was_streamed_and_says_so(quick_ctx: Context, llm: FakeLLM) -> None:
    reply = streamed("Kestrel Commerce leased a fulfillment center in Kent [1]. ", "It is hiring [2].")
    first_two = reply.body.index("It is hiring")  # the role event and the first sentence come at once
    llm.enqueue(dripped(reply, every=0.4, after=reply.body.rindex("data:", 0, first_two)))
    ctx = quick_ctx
    shown: list[str] = []
    started = time.monotonic()
    answer = ctx.asker().ask(conversation(), "What is Kestrel doing in Kent?", on_text=shown.append)
    elapsed = time.monotonic() - started
    assert 1.9 <= elapsed < 6  # the 2 s bound; the upper limit is loose for a loaded runner
    assert answer.writer == "llm" and answer.note == CUT_SHORT
    assert answer.text == "Kestrel Commerce leased a fulfillment center in Kent [1]."
    assert "".join(shown).startswith("Kestrel Commerce leased a fulfillment center in Kent [1].")
    assert [s.n for s in answer.sources] == [1]


@pytest.mark.slow  # waits on purpose (a deadline, a drip, Retry-After or a quiet period)
def test_a_stream_that_never_sends_text_falls_back_within_the_bound(quick_ctx: Context, llm: FakeLLM) -> None:
    llm.enqueue(dripped(streamed("Kestrel is hiring [1]."), every=0.4))
    started = time.monotonic()
    answer = quick_ctx.asker().ask(conversation(), "Is Kestrel hiring warehouse staff?")
    assert time.monotonic() - started < 6  # the 2 s bound, loosely: the drip alone would take far longer
    assert answer.writer == "extractive" and answer.note == LLM_FAILED and len(llm.requests) == 1


@pytest.mark.slow  # waits on purpose (a deadline, a drip, Retry-After or a quiet period)
def test_dripping_embeddings_end_within_the_bound(llm: FakeLLM) -> None:
    llm.enqueue(dripped(embeddings([[1.0, 0.0]]), every=0.4))
    client = build_client(settings(openai_base_url=llm.base_url), timeout=1.0, max_retries=0)
    started = time.monotonic()
    with pytest.raises(LLMTooSlow, match=r"no complete reply within the call's deadline \(the bound: 2 s a request\)"):
        Embedder(client, "test-embedding").embed(["Kestrel opens a site in Kent"])
    assert time.monotonic() - started < 4.5  # the 2 s bound, loosely: the drip alone would take far longer


def test_an_embedding_reply_of_any_shape_is_bad_output_not_a_crash(llm: FakeLLM) -> None:
    client = build_client(settings(openai_base_url=llm.base_url), timeout=5.0, max_retries=0)
    embedder = Embedder(client, "test-embedding")
    for reply in (html_page(), Reply(body=json.dumps("vectors")), Reply(body={"data": None}), invalid_json(),
                  Reply(body={"data": [{"index": 0, "embedding": None}]})):
        llm.enqueue(reply)
        with pytest.raises(LLMBadOutput):
            embedder.embed(["Kestrel opens a site in Kent"])


@pytest.mark.slow  # waits on purpose (a deadline, a drip, Retry-After or a quiet period)
def test_briefbot_ask_against_a_one_byte_every_2_s_endpoint(tmp_path: Path, llm: FakeLLM) -> None:
    """The issue's case: BRIEFBOT_LLM_TIMEOUT=5, no retries, a byte every 2 s. It ran past 60 s; now it answers
    extractively when the request's 6 s are up. On SQLite only: the service runs on both databases above."""
    db_url = f"sqlite:///{tmp_path / 'ask.db'}"
    upgrade(build_engine(make_settings(db_url)))
    context = make_ctx(db_url)
    history(context.engine)
    context.engine.dispose()
    llm.respond = lambda body: dripped(streamed("Kestrel is hiring [1]."), every=2.0)
    env = {"DATABASE_URL": db_url, "BRIEFBOT_DEFAULT_TEAM": "T1", "BRIEFBOT_NOW": NOW.isoformat(),
           "OPENAI_BASE_URL": llm.base_url, "BRIEFBOT_LLM_TIMEOUT": "5", "BRIEFBOT_LLM_MAX_RETRIES": "0"}
    started = time.monotonic()
    result = CliRunner().invoke(main, ["ask", "who", "is", "hiring", "in", "Kent?"], env=env, catch_exceptions=False)
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert 5.5 <= elapsed < 12  # the 6 s bound, plus the command's own start-up, loosely for a loaded runner
    assert "The LLM could not answer just now" in result.output and "Warehouse Associate" in result.output
    assert len(llm.requests) == 1


@pytest.mark.slow  # waits on purpose (a deadline, a drip, Retry-After or a quiet period)
def test_analysis_against_a_dripping_endpoint_finishes_with_builtin_briefs(settings: Settings, engine: Engine,
                                                                          clock: Any, llm: FakeLLM) -> None:
    """What kept `briefbot demo` stuck: analysis waits on each brief at most its bound, then moves on."""
    seed_seattle_hiring(engine, clock)
    llm.respond = lambda body: dripped(completion(json.dumps(GOOD)), every=0.4)
    ctx = build_context(make_settings(settings.database_url, openai_base_url=llm.base_url,
                                      briefbot_brief_model="test-model", briefbot_llm_timeout=1.0,
                                      briefbot_llm_max_retries=0))
    ctx.clock = clock
    started = time.monotonic()
    assert len(ctx.analyse().briefs) == 1
    assert time.monotonic() - started < 10  # the brief's 2 s bound, plus the analysis around it, loosely
    with session_scope(engine) as session:
        (brief,) = list_briefs(session=session)
    assert brief.writer == "builtin" and (brief.writer_note or "").startswith("LLM too slow")
    ctx.engine.dispose()


def test_the_llm_client_goes_through_the_environments_proxy(llm: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    """The deadline transport must not lose HTTP(S)_PROXY / NO_PROXY, which the openai client's own honours: a
    forward proxy on 127.0.0.1 carries the call to an endpoint whose host name only the proxy can reach."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import httpx

    proxied: list[str] = []

    class Proxy(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            proxied.append(self.path)  # a forward proxy is sent the whole URL
            target = self.path.replace("http://llm.invalid", llm.base_url.rsplit("/v1", 1)[0])
            body = self.rfile.read(int(self.headers["Content-Length"]))
            reply = httpx.post(target, content=body, headers={"Content-Type": "application/json"}, timeout=5,
                               trust_env=False)  # the proxy itself goes straight to the endpoint
            self.send_response(reply.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply.content)))
            self.end_headers()
            self.wfile.write(reply.content)

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        monkeypatch.setenv("NO_PROXY", "")
        llm.enqueue(completion(json.dumps(GOOD)))
        client = build_client(settings(openai_base_url="http://llm.invalid/v1"), timeout=5.0, max_retries=0)
        assert LLMBriefWriter(client, MODEL, load_all(PROMPTS_DIR)).write(SIGNAL).draft == BriefDraft(**GOOD)
        assert proxied == ["http://llm.invalid/v1/chat/completions"]

        monkeypatch.setenv("NO_PROXY", "llm.invalid")  # now straight to a host that does not resolve
        client = build_client(settings(openai_base_url="http://llm.invalid/v1"), timeout=5.0, max_retries=0)
        with pytest.raises(Exception, match=r"(?i)connect|resolve|name"):
            LLMBriefWriter(client, MODEL, load_all(PROMPTS_DIR)).write(SIGNAL)
        assert len(proxied) == 1
    finally:
        proxy.shutdown()
