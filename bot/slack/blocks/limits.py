"""Block Kit limits, and checks that a message or view stays within them.

The builders keep to these limits by construction; `check_message` and `check_view` say where a payload does
not, so tests (and a cautious caller) can prove it. The checks also round-trip every block through slack_sdk's
own models, which know the per-element rules we do not repeat here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from bot.slack.model import Message

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 3000  # a context element is a text object; Slack caps text objects at 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
BLOCK_ID = 255
MESSAGE_TEXT = 4000  # recommended for the top-level text; Slack truncates past 40,000
BLOCK_TEXT_BUDGET = 12000  # cumulative text across a message's blocks; longer messages are refused or cut


def check_message(message: Message) -> list[str]:
    """Every limit `message` breaks, as readable strings; [] when it is fine to post."""
    problems = _check_blocks(message.blocks, MESSAGE_BLOCKS)
    if not message.text.strip():
        problems.append("text: the top-level fallback text is empty")
    if len(message.text) > MESSAGE_TEXT:
        problems.append(f"text: {len(message.text)} characters > {MESSAGE_TEXT}")
    total = sum(len(text) for block in message.blocks for text in _texts(block))
    if total > BLOCK_TEXT_BUDGET:
        problems.append(f"blocks: {total} characters of text > {BLOCK_TEXT_BUDGET}")
    return problems


def check_view(view: dict[str, Any]) -> list[str]:
    """Every limit a Home tab or modal view breaks; [] when it is fine to publish."""
    problems: list[str] = []
    if view.get("type") not in ("home", "modal"):
        problems.append(f"view: type {view.get('type')!r} is neither home nor modal")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        return [*problems, "view: blocks is not a list"]
    return problems + _check_blocks(blocks, VIEW_BLOCKS)


def _check_blocks(blocks: list[dict[str, Any]], max_blocks: int) -> list[str]:
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"blocks: {len(blocks)} > {max_blocks}")
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"block {index} ({block.get('type')}, {block.get('block_id')})"
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in seen:
                problems.append(f"{where}: block_id repeated")
            seen.add(block_id)
        problems.extend(f"{where}: {problem}" for problem in _check_block(block))
        problems.extend(f"{where}: {problem}" for problem in _round_trip(block))
    return problems


def _check_block(block: dict[str, Any]) -> Iterator[str]:
    if len(block.get("block_id") or "") > BLOCK_ID:
        yield f"block_id longer than {BLOCK_ID}"
    kind = block.get("type")
    if kind == "header":
        text = block.get("text") or {}
        if text.get("type") != "plain_text":
            yield "header text is not plain_text"
        yield from _length("header text", text.get("text", ""), HEADER_TEXT, allow_empty=False)
    elif kind == "section":
        yield from _check_section(block)
    elif kind == "context":
        elements = block.get("elements") or []
        if not 0 < len(elements) <= CONTEXT_ELEMENTS:
            yield f"context has {len(elements)} elements (1..{CONTEXT_ELEMENTS})"
        for element in elements:
            if element.get("type") in ("mrkdwn", "plain_text"):
                yield from _length("context text", element.get("text", ""), CONTEXT_TEXT, allow_empty=False)
    elif kind == "actions":
        yield from _check_actions(block)


def _check_section(block: dict[str, Any]) -> Iterator[str]:
    text, fields = block.get("text"), block.get("fields")
    if text is None and not fields:
        yield "section has neither text nor fields"
    if text is not None:
        yield from _length("section text", text.get("text", ""), SECTION_TEXT, allow_empty=False)
    if fields is not None:
        if len(fields) > SECTION_FIELDS:
            yield f"section has {len(fields)} fields > {SECTION_FIELDS}"
        for field in fields:
            yield from _length("field text", field.get("text", ""), FIELD_TEXT, allow_empty=False)


def _check_actions(block: dict[str, Any]) -> Iterator[str]:
    elements = block.get("elements") or []
    if not 0 < len(elements) <= ACTIONS_ELEMENTS:
        yield f"actions has {len(elements)} elements (1..{ACTIONS_ELEMENTS})"
    action_ids = [element.get("action_id") for element in elements]
    if len(set(action_ids)) != len(action_ids):
        yield "action_id repeated within a block"
    for element in elements:
        yield from _length("action_id", element.get("action_id") or "", ACTION_ID, allow_empty=True)
        if element.get("type") == "button":
            yield from _length("button text", (element.get("text") or {}).get("text", ""), BUTTON_TEXT, False)
            yield from _length("button value", element.get("value") or "", BUTTON_VALUE, allow_empty=True)


def _length(what: str, text: str, limit: int, allow_empty: bool) -> Iterator[str]:
    if len(text) > limit:
        yield f"{what}: {len(text)} characters > {limit}"
    if not allow_empty and not text.strip():
        yield f"{what}: empty"


def _round_trip(block: dict[str, Any]) -> Iterator[str]:
    try:
        parsed = Block.parse(block)
        if parsed is None:
            yield "slack_sdk does not know this block type"
            return
        parsed.to_dict()
    except (SlackObjectFormationError, TypeError, ValueError, KeyError) as exc:
        yield f"slack_sdk: {exc}"


def _texts(node: Any) -> Iterator[str]:
    """Every text object's text within a block (what Slack counts towards a message's text budget)."""
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            yield node["text"]
            return
        for value in node.values():
            yield from _texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value)
