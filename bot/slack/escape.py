"""Text for Slack: escaping feed and LLM strings, safe link targets, and cutting text without breaking markup.

Every string that comes from a feed or an LLM goes through `escape` (or `plain`/`link`/`mrkdwn`, which call it)
before it reaches a message, so that it is shown as it was written and can do nothing else:
- Escaping `<` and `>` makes `<!channel>`, `<@U123>` and `<http://evil|click>` inert; a word joiner defuses bare
  `https://…` and `www.…`, which Slack would otherwise link; bare "@channel" is inert in bot posts as long as
  `link_names` stays off.
- Direction controls (U+202A–E, U+2066–9, U+200E/F, U+061C) and zero-width characters (U+200B–D, U+2060, U+FEFF)
  are removed first: they make text read differently from what it is ("moc.live" shown as "evil.com"), and they
  hide inside words. The only invisible character in the result is the word joiner `escape` itself inserts.
- Slack mrkdwn has no backslash escape, so the style markers `*`, `_`, `~` and the backtick are swapped for
  look-alikes (∗ ˍ ∼ ˋ) wherever they could open or close a style: feed text then cannot make words bold,
  italic, struck or code, and so cannot dress itself up as one of the bot's own bold labels ("*Source:*").
  Look-alikes, not zero-width characters, because Slack's rules for where a style may start are not
  documented and zero-width spaces are the known trick to *start* a style mid-word; Slack only ever reads the
  ASCII markers. A marker inside a word (`snake_case`, `f*ck`) cannot style anything and is kept as written.
  A `>` that starts a line (a block quote) becomes ˃ the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from bot.core.inputs import strip_invisible

ELLIPSIS = "…"
MAX_URL_LENGTH = 2000  # longer targets are dropped: one link must not eat a message's whole text budget

# One unit that a cut must keep whole: a `<...>` link or mention we wrote, an entity, or one character.
_ATOM = re.compile(r"<[^<>\n]*>|&(?:#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z]+);|.", re.DOTALL)
_CONTROL: dict[int, str | None] = dict.fromkeys((*range(0x00, 0x20), 0x7F))
_MRKDWN_CONTROL = {**_CONTROL, ord("\n"): "\n", ord("\t"): " "}  # keep line breaks in multi-line text
# Characters that would end or split `<url|label>` (or a URL in it), percent-encoded instead.
_URL_ENCODE = {c: f"%{c:02X}" for c in (*range(0x00, 0x21), 0x7F, ord("|"), ord("<"), ord(">"), ord('"'))}
# What Slack auto-links in text: a scheme followed by "//", or a "www." host.
_BARE_LINK = re.compile(r"(?i)(?:https?|ftp)(?=://)|www(?=\.)")  # anywhere: `_https://…_` is italic, still a link
WORD_JOINER = "\u2060"
_HOST_FORBIDDEN = frozenset(' "<>|\\^`{}') | {chr(c) for c in (*range(0x00, 0x20), 0x7F)}
# Slack's style markers and the look-alikes shown instead: ASTERISK OPERATOR, MODIFIER LETTER LOW MACRON,
# TILDE OPERATOR, MODIFIER LETTER GRAVE ACCENT.
STYLE_LOOKALIKES = {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"}
# A marker with a letter or digit on both sides is inside a word, where Slack never starts or ends a style.
_STYLE_MARKER = re.compile(r"(?<![^\W_])[*_~`]|[*_~`](?![^\W_])|`")
# `>` that starts a line makes the line a block quote; MODIFIER LETTER RIGHT ARROWHEAD shows instead.
_QUOTE_MARKER = re.compile(r"(?m)^([^\S\n]*)>")
QUOTE_LOOKALIKE = "\u02c3"


def escape(text: str) -> str:
    """Outside text as inert Slack mrkdwn: invisible characters removed, style markers that could style swapped
    for look-alikes, `&`, `<` and `>` encoded (the only characters Slack decodes), and bare URLs defused:
    Slack turns `https://…` and `www.…` in text into links, so a feed could otherwise put a clickable link of
    its choosing in a message. A word joiner (invisible) after the scheme or `www` stops that; the bot's own
    links are `<url|label>`, built by `link`."""
    visible = strip_invisible(text)
    unstyled = _STYLE_MARKER.sub(lambda m: STYLE_LOOKALIKES[m.group(0)], visible)
    unstyled = _QUOTE_MARKER.sub(lambda m: m.group(1) + QUOTE_LOOKALIKE, unstyled)
    escaped = unstyled.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BARE_LINK.sub(lambda m: m.group(0) + WORD_JOINER, escaped)


def safe_url(url: str) -> str | None:
    """An http(s) URL with a host, safe inside `<url|label>`; None for anything else (javascript:, slack:, mailto:…)."""
    candidate = url.strip()
    if not candidate.lower().startswith(("http://", "https://")) or len(candidate) > MAX_URL_LENGTH:
        return None
    try:
        host = urlsplit(candidate).hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    if not host or any(c in _HOST_FORBIDDEN for c in host):
        return None
    encoded = candidate.translate(_URL_ENCODE)
    return encoded if len(encoded) <= MAX_URL_LENGTH else None


def link(url: str, label: str, *, label_limit: int = 200) -> str:
    """`<url|label>` with the label escaped and cut to label_limit; just the label when the URL is not safe."""
    text = truncate_mrkdwn(escape(" ".join(label.split())), label_limit)
    target = safe_url(url)
    if target is None:
        return text
    return f"<{target}|{text}>" if text else f"<{target}>"


def plain(text: str, limit: int) -> str:
    """For plain_text fields: whitespace collapsed, control characters dropped, escaped, cut to limit with "…".

    plain_text is escaped too, so that no `<!…>` ever reaches a payload whatever field it lands in.
    """
    return truncate_mrkdwn(escape(" ".join(text.split()).translate(_CONTROL)), limit)


def mrkdwn(text: str, limit: int) -> str:
    """A raw multi-line string as mrkdwn: escaped, trimmed, cut to limit without splitting an entity."""
    return truncate_mrkdwn(escape(text.strip().translate(_MRKDWN_CONTROL)), limit)


def truncate_mrkdwn(text: str, limit: int) -> str:
    """Cut already-escaped mrkdwn to at most limit characters, ending with "…", never inside `&amp;` or `<…|…>`."""
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    budget = limit - len(ELLIPSIS)
    end = 0
    for atom in _ATOM.finditer(text):
        if atom.end() > budget:
            break
        end = atom.end()
    return text[:end].rstrip() + ELLIPSIS


def join_within(
    items: Sequence[str],
    limit: int,
    *,
    sep: str = "\n",
    max_items: int | None = None,
    more: Callable[[int], str] = lambda hidden: f"…and {hidden} more",
) -> str:
    """Join already-escaped items, keeping whole items only, so that the result fits in limit characters.

    When some items are left out (too long, or beyond max_items), `more(hidden)` ends the text.
    """
    shown_max = len(items) if max_items is None else min(max_items, len(items))
    best, used = 0, 0
    for count in range(shown_max + 1):
        if count:
            used += len(items[count - 1]) + (len(sep) if count > 1 else 0)
        if used > limit:
            break
        hidden = len(items) - count
        tail = (len(sep) if count else 0) + len(more(hidden)) if hidden else 0
        if used + tail <= limit:
            best = count
    hidden = len(items) - best
    text = sep.join(items[:best])
    if hidden:
        text = f"{text}{sep}{more(hidden)}" if best else more(hidden)
    return truncate_mrkdwn(text, limit)
