"""How briefs are written, as `/brief status`, App Home and `briefbot status` tell people."""

from __future__ import annotations

from pathlib import Path

from bot.context import build_context
from tests.conftest import make_settings


def label(tmp_path: Path, **overrides: object) -> str:
    return build_context(make_settings(f"sqlite:///{tmp_path / 'w.db'}", **overrides)).writer_label()


def test_the_label_says_which_writer_writes_what(tmp_path: Path) -> None:
    assert label(tmp_path, openai_base_url=None, openai_api_key=None).startswith(
        "the built-in writer (no LLM is configured")
    llm = label(tmp_path, openai_base_url="http://127.0.0.1:9/v1", briefbot_brief_model="m1")
    assert llm == ("LLM m1, with the built-in writer when it fails and for a story one outlet has reported so far "
                   "(BRIEFBOT_LLM_SINGLE_REPORTS)")
    every = label(tmp_path, openai_base_url="http://127.0.0.1:9/v1", briefbot_brief_model="m1",
                  briefbot_llm_single_reports=True)
    assert every == "LLM m1, with the built-in writer when it fails"
