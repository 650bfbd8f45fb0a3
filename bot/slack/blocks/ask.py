"""Asking: the "Ask a follow-up" modal, and the suggested questions offered on the Messages tab. Pure."""

from __future__ import annotations

from typing import Any

from bot.slack.escape import plain

ASK_MODAL = "brief_ask_modal"
MAX_QUESTION = 1000  # characters: what the modal accepts, and where any question is cut
PROMPTS_TITLE = "Ask about what briefbot has seen"


def ask_modal(metadata: str) -> dict[str, Any]:
    """The modal the "Ask a follow-up" button opens; `metadata` (the alert's brief, channel and ts) comes back
    with its submission."""
    return {
        "type": "modal", "callback_id": ASK_MODAL, "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Ask a follow-up"},
        "submit": {"type": "plain_text", "text": "Ask"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [{"type": "input", "block_id": "question", "label": {"type": "plain_text", "text": "Your question"},
                    "element": {"type": "plain_text_input", "action_id": "text", "multiline": True,
                                "max_length": MAX_QUESTION, "placeholder": {
                                    "type": "plain_text", "text": "e.g. What else has this company posted lately?"}}},
                   {"type": "context", "elements": [{"type": "mrkdwn", "text": (
                       "The answer is posted in the alert's thread, citing the stored items it rests on.")}]}],
    }


def suggested_prompts(names: list[str]) -> list[dict[str, str]]:
    """Up to four questions for a new conversation: two standing ones, then one for each recent company."""
    prompts = [{"title": "This week", "message": "What changed this week at the companies we follow?"},
               {"title": "New cities", "message": "Which companies started hiring in a new city this month?"}]
    for name in names[:2]:
        prompts.append({"title": plain(name, 30), "message": f"What else is new with {name}?"})
    return prompts[:4]
