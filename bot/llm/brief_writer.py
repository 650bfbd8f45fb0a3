"""The LLM brief writer: one prompt per subject, structured output (negotiated: `structured.py`), one repair,
the output guard, all within a deadline (`deadline.py`).

Any failure ends in LLMUnavailable, LLMTooSlow or LLMBadOutput, and the caller uses the built-in writer instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from openai import APIStatusError, OpenAI, OpenAIError, omit
from openai.types.chat import ChatCompletionMessageParam
from pydantic import ValidationError

from bot.briefs.guard import UnsafeDraftError, check_draft
from bot.briefs.model import BriefDraft, BriefInput, RelatedRef, SourceRef, WrittenBrief, hashable
from bot.core.normalize import one_line
from bot.llm.client import LLMBadOutput, LLMError, LLMTooSlow, LLMUnavailable, client_bound
from bot.llm.deadline import DeadlinePassed, within
from bot.llm.prompts import Prompt, PromptError, render, render_repair
from bot.llm.replies import completion_text, unusable, usage_tokens
from bot.llm.structured import Mode, current_mode, refuses_mode, request_options, step_down

log = logging.getLogger(__name__)

PROMPT_FOR = {"signal": "brief_signal", "story": "brief_story"}
HASH_SCHEME = 1  # bump when input_hash changes what it covers
MAX_ITEMS = 12
MAX_ITEM_TEXT = 1200
MAX_RELATED = 3  # related stories or signals shown to the writer
RELATED_TEXT = 300
MIN_REPEATED_SENTENCE = 20  # characters of a sentence's words: shorter ones are not dropped as repeats
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_SCHEMA_KEYS = {"type", "properties", "items", "description"}  # what every strict-mode server accepts
# The grammar schema's limits (characters; items): within BriefDraft's, and what the prompts ask for.
GRAMMAR_LENGTHS = {"headline": (8, 90), "summary": (10, 400), "why_it_matters": (5, 300), "event_type": (2, 40)}
GRAMMAR_LIST_ITEMS, GRAMMAR_NAME_LENGTH = 6, 60
LOCAL_MAX_TOKENS = 600  # outside json_schema mode (local servers): a brief is ~250; a runaway costs CPU minutes
REASONS = {
    "new_metro": "first postings in a metro area where the company had none before",
    "new_function": "first postings for a job function the company had not hired for before",
    "new_function_in_metro": "first postings for this job function in this metro area",
    "surge": "far more postings than usual",
    "pullback": "a pullback: most of the roles the company had open in this job function and metro closed within "
                "days (below, the postings counted and quoted are the roles that closed, and the usual figure is "
                "how many were open when the period began)",
}


class LLMBriefWriter:
    """`write(inp)` → WrittenBrief(writer="llm"), or LLMUnavailable / LLMTooSlow / LLMBadOutput."""

    def __init__(self, client: OpenAI, model: str, prompts: Mapping[str, Prompt], *,
                 temperature: float | None = 0.2) -> None:
        missing = sorted(set(PROMPT_FOR.values()) - set(prompts))
        if missing:
            raise PromptError(f"the brief writer needs prompt(s) {', '.join(missing)}")
        self.client, self.model, self.prompts, self.temperature = client, model, prompts, temperature
        self.bound = client_bound(client)  # one request; a brief (with its repair) gets two

    def prompt_for(self, inp: BriefInput) -> Prompt:
        return self.prompts[PROMPT_FOR[inp.subject]]

    def input_hash(self, inp: BriefInput) -> str:
        return input_hash(inp, self.prompt_for(inp), self.model)

    def write(self, inp: BriefInput) -> WrittenBrief:
        with within(2 * self.bound):
            return self._write(inp)

    def _write(self, inp: BriefInput) -> WrittenBrief:
        prompt = self.prompt_for(inp)
        messages = render(prompt, conditions(inp), **prompt_values(inp))
        allowed = {item.url for item in inp.items if item.url} | {r.url for r in inp.related if r.url}
        usage = [0, 0]
        content = self._complete(messages, usage)
        try:
            draft = accept(content, allowed)
        except ValueError as first:
            log.info("brief %s: invalid reply (%s); one repair request", prompt.name, first)
            messages = [*messages, {"role": "assistant", "content": content}, render_repair(prompt, str(first))]
            content = self._complete(messages, usage)
            try:
                draft = accept(content, allowed)
            except ValueError as second:
                raise LLMBadOutput(f"{prompt.name}: still invalid after one repair: {second}") from second
        log.info("brief %s v%s by %s: %d prompt + %d completion tokens", prompt.name, prompt.version, self.model,
                 *usage)
        return WrittenBrief(draft=draft, writer="llm", prompt_name=prompt.name, prompt_version=prompt.version,
                            model=self.model, prompt_tokens=usage[0], completion_tokens=usage[1],
                            input_hash=input_hash(inp, prompt, self.model))

    def _complete(self, messages: list[ChatCompletionMessageParam], usage: list[int]) -> str:
        """One reply's text, in the best structured-output mode this endpoint accepts. Every failure, whatever
        its type, ends in an LLMError."""
        mode = current_mode(self.client, self.model)
        try:
            while True:
                try:
                    with within(self.bound):
                        completion = self._create(messages, mode)
                    break
                except APIStatusError as exc:
                    fallback = step_down(self.client, self.model, mode) if refuses_mode(exc) else None
                    if fallback is None:
                        raise
                    log.warning("%s at %s refuses %s output (%s); trying %s", self.model, self.client.base_url,
                                mode.name.lower(), exc.message, fallback.name.lower())
                    mode = fallback
            prompt_tokens, completion_tokens = usage_tokens(completion)
            text = completion_text(self.model, completion)
        except DeadlinePassed as exc:
            raise LLMTooSlow(f"{self.model}: {exc} (the bound: {self.bound:g} s a request)") from exc
        except OpenAIError as exc:
            raise LLMUnavailable(f"{self.model}: {type(exc).__name__}: {exc}") from exc
        except LLMError:
            raise
        except Exception as exc:  # the client let an unparsable reply through (JSONDecodeError and the like)
            raise unusable(self.model, exc) from exc
        usage[0] += prompt_tokens
        usage[1] += completion_tokens
        return text

    def _create(self, messages: list[ChatCompletionMessageParam], mode: Mode) -> Any:
        # Typed Any: what comes back is whatever the endpoint sent, parsed; `replies` reads it with care.
        options = request_options(mode, draft_schema(), grammar_schema())
        return self.client.chat.completions.create(
            model=self.model, messages=messages,
            temperature=omit if self.temperature is None else self.temperature,
            max_tokens=omit if mode == Mode.JSON_SCHEMA else LOCAL_MAX_TOKENS, **options,
        )


def accept(content: str, allowed_urls: set[str]) -> BriefDraft:
    """The reply as a guarded draft, or ValueError with a message fit to send back in the repair request."""
    text = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", content)  # some servers fence JSON even in JSON mode
    try:
        data = json.loads(text, strict=False)  # a raw newline inside a string is a small model's, not an attack
    except json.JSONDecodeError as exc:
        raise ValueError(f"the reply is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ValueError("the reply must be one JSON object")
    try:
        draft = BriefDraft.model_validate(_plain(data))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'reply'}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"the JSON does not fit the brief's fields ({problems})") from exc
    try:
        return check_draft(draft, allowed_urls)
    except UnsafeDraftError as exc:
        raise ValueError(f"{exc}; write plain text without links or mentions") from exc


def _plain(value: Any) -> Any:
    """Strings with control characters removed (NUL cannot be stored in PostgreSQL) and line breaks and tabs
    made spaces, all through the reply's lists and objects."""
    if isinstance(value, str):
        return one_line(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def draft_schema() -> dict[str, Any]:
    """BriefDraft's JSON schema in the strict subset: every field required, no extras, limits in the text."""
    schema = _strict(BriefDraft.model_json_schema())
    schema.pop("description", None)  # the class docstring speaks to developers, not to the model
    return schema


def grammar_schema() -> dict[str, Any]:
    """The strict schema with length limits a grammar can enforce, for servers that constrain generation
    by it (llama.cpp): a field can then be neither empty nor endless. Tighter than BriefDraft's own limits
    (which still validate the reply) so that a small local model's worst case stays a few hundred tokens."""
    schema = draft_schema()
    for name, (shortest, longest) in GRAMMAR_LENGTHS.items():
        schema["properties"][name]["pattern"] = _plain_text(shortest, longest)
    for name in ("entities", "places"):
        schema["properties"][name]["maxItems"] = GRAMMAR_LIST_ITEMS
        schema["properties"][name]["description"] = re.sub(
            r"at most \d+ items", f"at most {GRAMMAR_LIST_ITEMS} items", schema["properties"][name]["description"],
            flags=re.IGNORECASE)
        schema["properties"][name]["items"]["pattern"] = _plain_text(1, GRAMMAR_NAME_LENGTH)
    return schema


def _plain_text(shortest: int, longest: int) -> str:
    """A pattern for plain text of that length without '/', '<', '>' or '@': no link, Slack token or mention
    can be written, so the guard has nothing to reject (small models like to invent URLs). llama.cpp reads a
    pattern in place of minLength/maxLength, so the length is in it too."""
    return f"^[^/<>@\"\\\\]{{{shortest},{longest}}}$"


def _strict(node: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in node.items() if k in _SCHEMA_KEYS}
    limit = (f"at most {node['maxLength']} characters" if "maxLength" in node
             else f"at most {node['maxItems']} items" if "maxItems" in node else "")
    described = out.get("description", "")
    if limit and "at most" not in described:
        out["description"] = f"{described.rstrip('.')} ({limit})." if described else f"{limit.capitalize()}."
    if "properties" in node:
        out["properties"] = {k: _strict(v) for k, v in node["properties"].items()}
        out["required"] = list(node["properties"])
        out["additionalProperties"] = False
    if isinstance(node.get("items"), dict):
        out["items"] = _strict(node["items"])
    return out


def prompt_values(inp: BriefInput) -> dict[str, str]:
    """The placeholders' values. Missing facts say so rather than leaving holes the model may fill."""
    def given(value: str) -> str:
        return value.strip() or "not given"

    common = {"count": str(inp.total_items()),
              "items": format_items(inp.items, total=inp.total_items(), read=inp.earlier),
              "related": format_related(inp.related)}
    if inp.subject == "signal":
        return {**common, "company": given(_flat(inp.company)), "reason": REASONS.get(inp.reason, given(inp.reason)),
                "function_label": given(inp.function_label), "main_function_label": given(inp.main_function_label),
                "metro": given(_flat(inp.metro)), "cities": given(_flat(", ".join(inp.cities))),
                "window_days": str(inp.window_days), "baseline": f"{inp.baseline:g}"}
    return {**common, "outlets": given(_flat(", ".join(inp.outlets))), "first_seen": _when(inp.first_at),
            "last_seen": _when(inp.last_at)}


def conditions(inp: BriefInput) -> frozenset[str]:
    """Which of the prompt's conditional rules the input calls for: updating an earlier brief (a re-brief), and
    mentioning the related news or signals shown (`format_related`'s lines)."""
    shown = {r.kind for r in inp.related[:MAX_RELATED]}
    return frozenset({"earlier_brief"} if "brief" in shown else set()) | (
        {"related"} if shown - {"brief"} else set())


def format_items(items: tuple[SourceRef, ...], *, total: int | None = None, read: tuple[SourceRef, ...] = ()) -> str:
    """Numbered items, two lines each. Whitespace is flattened so no item can fake another's header. `total`:
    how many the subject holds, when more than the items given (the brief cites only the newest). `read`: the
    items a re-brief's earlier brief was written from (not shown again): what they said is not sent again."""
    lines, seen = [], set[str]()
    for item in read:
        seen.add(_sentence_key(item.title))
        _unseen(_flat(item.text), seen)
    for number, item in enumerate(items[:MAX_ITEMS], start=1):
        seen.add(_sentence_key(item.title))
        text = _unseen(_flat(item.text), seen)
        if len(text) > MAX_ITEM_TEXT:
            text = text[:MAX_ITEM_TEXT].rsplit(" ", 1)[0] + " …"
        lines.append(f"[{number}] outlet: {_flat(item.outlet) or 'unknown'} | date: {_when(item.published_at)}"
                     f" | title: {_flat(item.title) or 'untitled'}")
        lines.append(f"text: {text or '(none)'}")
    hidden = max(len(items), total or 0) - min(len(items), MAX_ITEMS)
    if hidden > 0:
        lines.append(f"({hidden} more items not shown)")
    return "\n".join(lines)


def _unseen(text: str, seen: set[str]) -> str:
    """The text without the sentences an earlier item (or its own title) already said: syndicated copies of one
    wire story, and job postings' boilerplate, carry the same sentences, and the writer reads each once. Short
    sentences stay (they say too little to be sure they are the same). Adds this text's sentences to `seen`."""
    kept = []
    for sentence in _SENTENCE_END.split(text):
        key = _sentence_key(sentence)
        if len(key) < MIN_REPEATED_SENTENCE or key not in seen:
            kept.append(sentence)
        seen.add(key)
    return " ".join(kept) if kept or not text else "(repeats earlier reports)"


def _sentence_key(sentence: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", sentence.casefold()).split())


def format_related(related: tuple[RelatedRef, ...]) -> str:
    """The company's other half (news for a signal, signals for a story), one flattened line each, or "none"."""
    lines = [f"- {_flat(r.headline)[:RELATED_TEXT] or 'untitled'} ({_flat(r.detail)[:RELATED_TEXT]}"
             + (f"; {_when(r.published_at)}" if r.published_at else "") + ")" for r in related[:MAX_RELATED]]
    return "\n".join(lines) or "none"


def input_hash(inp: BriefInput, prompt: Prompt, model: str) -> str:
    """sha256 over the prompt (name, version, file digest), the model and the input as canonical JSON."""
    payload = {"scheme": HASH_SCHEME, "prompt": [prompt.name, prompt.version, prompt.digest], "model": model,
               "input": hashable(inp)}
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_jsonable)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _jsonable(value: object) -> str:
    if isinstance(value, datetime):  # one instant, one string, whatever zone it came in
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    raise TypeError(f"cannot hash {type(value).__name__}")


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).date().isoformat() if value and value.tzinfo else (
        value.date().isoformat() if value else "unknown")


def _flat(text: str) -> str:
    return " ".join(text.split())
