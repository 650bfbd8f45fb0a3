"""The output guard every LLM draft passes: no foreign links, no Slack mentions, a headline that fits. Pure.

Policy, per field:
- headline, summary, why_it_matters: *cleaned*. Slack specials and mentions are removed; a link that is not one
  of the brief's own source URLs is removed (Slack link markup keeps its label); the headline is cut to
  HEADLINE_MAX characters at a word boundary. If cleaning leaves a field too short to be valid, the whole
  draft is *rejected*: a brief with its substance cut out is worse than the built-in writer's.
- entities, places: an element that contained a link or mention is *dropped*: it was not a name.
- event_type: *rejected* if it contains a link or mention: it is a label, and a cleaned label means nothing.

A "link" is anything with a scheme (`https://…`, `mailto:…`), anything starting `www.`, and a domain with a
path (`evil.example/x`). A bare domain (`Amazon.com`) is left alone: it is usually a company's name.
HTML entities are decoded first, so `&lt;!channel&gt;` cannot slip through as text that a later step unescapes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Set

from pydantic import ValidationError

from bot.briefs.model import HEADLINE_MAX, BriefDraft

# <!channel>, <@U123|name>, <#C123|general>, <!subteam^S1|@team>, <https://x|label>, <mailto:a@b.c>
_SLACK_TOKEN = re.compile(r"<([!@#][^<>|]*|[a-z][a-z0-9+.-]*:[^<>|\s]*)(?:\|([^<>]*))?>", re.IGNORECASE)
_LINK = re.compile(
    r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.|\bmailto:)[^\s<>\"'|]*"  # scheme, www., mailto
    r"|\b(?:[a-z0-9-]+\.)+[a-z]{2,}/[^\s<>\"'|]*",  # a domain with a path
    re.IGNORECASE,
)
_PLAIN_MENTION = re.compile(r"(?<![\w@])@(?:channel|here|everyone)\b", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


class UnsafeDraftError(ValueError):
    """The draft cannot be made safe by cleaning; the message says which field and why."""


def check_draft(draft: BriefDraft, allowed_urls: Set[str]) -> BriefDraft:
    """The draft with foreign links and mentions removed and the headline fitted, or UnsafeDraftError."""
    event_type, changed = clean_text(draft.event_type, allowed_urls)
    if changed:
        raise UnsafeDraftError(f"event_type {draft.event_type!r} contains a link or a Slack mention")
    try:
        return BriefDraft(
            headline=fit_headline(clean_text(draft.headline, allowed_urls)[0]),
            summary=clean_text(draft.summary, allowed_urls)[0],
            why_it_matters=clean_text(draft.why_it_matters, allowed_urls)[0],
            entities=_clean_names(draft.entities, allowed_urls),
            places=_clean_names(draft.places, allowed_urls),
            event_type=event_type,
        )
    except ValidationError as exc:
        fields = ", ".join(str(e["loc"][0]) for e in exc.errors() if e["loc"])
        raise UnsafeDraftError(f"too little left of {fields} once links and Slack mentions were removed") from exc


def clean_text(text: str, allowed_urls: Set[str]) -> tuple[str, bool]:
    """(cleaned text, whether anything was removed). Allowed URLs and their Slack markup stay as they are."""
    removed = False

    def slack_token(match: re.Match[str]) -> str:
        nonlocal removed
        target, label = match.group(1), match.group(2)
        if target[0] not in "!@#" and target.strip() in allowed_urls:
            return match.group(0)
        removed = True
        return "" if target[0] in "!@#" or label is None else label

    def link(match: re.Match[str]) -> str:
        nonlocal removed
        url = match.group(0).rstrip(_TRAILING)
        if url in allowed_urls:
            return match.group(0)
        removed = True
        return match.group(0)[len(url):]  # keep the sentence's own punctuation

    def mention(match: re.Match[str]) -> str:
        nonlocal removed
        removed = True
        return ""

    out = _SLACK_TOKEN.sub(slack_token, html.unescape(text))
    out = _LINK.sub(link, out)  # also reaches the labels of kept Slack links
    out = _PLAIN_MENTION.sub(mention, out)
    return (_tidy(out) if removed else out), removed


def fit_headline(headline: str, limit: int = HEADLINE_MAX) -> str:
    """At most `limit` characters, cut at a word boundary and marked with an ellipsis."""
    if len(headline) <= limit:
        return headline
    cut = headline[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:–—-") + "…"


def _clean_names(names: list[str], allowed_urls: Set[str]) -> list[str]:
    kept = []
    for name in names:
        cleaned, changed = clean_text(name, allowed_urls)
        if not changed and cleaned.strip():
            kept.append(cleaned.strip())
    return kept


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r" +([.,;:!?)>])", r"\1", text)
    text = re.sub(r"\(\s*\)", "", text)
    return text.strip()
