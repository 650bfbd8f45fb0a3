"""Making an LLM's answer text safe to show, in one pass or as it streams: no URL the model wrote (every link
comes from the stored sources), no citation of a source that wasn't offered, no Slack markup or mention.
Pure; cleaning a text in pieces cut at whitespace gives the same result as cleaning it whole."""

from __future__ import annotations

import re

_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|co)/\S*")
_CITE = re.compile(r"\[(\d{1,3})\]")
_MENTION = re.compile(r"(?i)@(here|channel|everyone)\b")
_ANGLES = str.maketrans({"<": "‹", ">": "›"})
WORD_JOINER = "\u2060"


def clean(text: str, sources: int) -> str:
    """The text without URLs, `<…>` markup, mentions, or citations outside 1..sources."""
    text = _URL.sub("", text).translate(_ANGLES)
    text = _MENTION.sub(lambda m: f"@{WORD_JOINER}{m.group(1)}", text)
    return _CITE.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= sources else "", text)


def tidy(text: str) -> str:
    """Whitespace left by removed URLs or citations: no space before punctuation, no runs of spaces."""
    text = re.sub(r"[ \t]+([.,;:!?)])", r"\1", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"\(\s*\)", "", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def cited(text: str, sources: int) -> list[int]:
    """The source numbers the text cites, in first-cited order."""
    found: list[int] = []
    for match in _CITE.finditer(text):
        n = int(match.group(1))
        if 1 <= n <= sources and n not in found:
            found.append(n)
    return found


class StreamCleaner:
    """Cleans streamed text: `feed(delta)` gives what can be shown now (up to the last whitespace, so a URL
    or citation split across deltas is judged whole); `finish()` gives the rest."""

    def __init__(self, sources: int):
        self.sources = sources
        self._pending = ""
        self.shown = ""

    def feed(self, delta: str) -> str:
        self._pending += delta
        cut = max(self._pending.rfind(" "), self._pending.rfind("\n"))
        if cut < 0:
            return ""
        ready, self._pending = self._pending[:cut + 1], self._pending[cut + 1:]
        out = clean(ready, self.sources)
        self.shown += out
        return out

    def finish(self) -> str:
        out = clean(self._pending, self.sources)
        self._pending = ""
        self.shown += out
        return out
