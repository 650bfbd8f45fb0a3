"""Strings from outside (Slack payloads, command text) checked at the boundary, before they reach a query or a
column. Pure: no Slack, no database, no settings.

Identifiers (team, channel, user ids, message timestamps) are either well formed or refused: a clipped id would
name something else. Free text (watch terms, a company to mute, a question) is cleaned of characters no column
should hold (NUL, other control characters, invisible direction and zero-width marks) and then measured against
the column it goes into; the caller says what to do when it is too long.
"""

from __future__ import annotations

import re

# Column sizes in bot/storage/models.py that Slack input is written to.
ID_MAX = 32  # workspaces.team_id, channels.channel_id, *.user_id
TS_MAX = 32  # conversation_turns.thread_ts, message_ts
WATCH_TERM_MAX = 200  # watches.term / term_key
MUTE_COMPANY_MAX = 300  # mutes.company / company_key

# Slack ids are upper-case letters and digits (T…, E…, C…, G…, D…, U…, W…, B…); underscores are allowed for
# briefbot's own placeholders such as T_LOCAL. Anything else is not an id Slack sent.
_SLACK_ID = re.compile(r"[A-Za-z0-9_]{1,32}")
# A message timestamp: seconds, a dot, microseconds ("1700000000.000100").
_SLACK_TS = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,11})?")

# Direction controls (they reorder what follows, so text can read differently from what it is) and zero-width
# characters (they hide inside words and split what looks like one word in two).
INVISIBLE = frozenset({
    *range(0x202A, 0x202F),  # LRE, RLE, PDF, LRO, RLO
    *range(0x2066, 0x206A),  # LRI, RLI, FSI, PDI
    0x200E, 0x200F, 0x061C,  # LRM, RLM, ALM
    *range(0x200B, 0x200E),  # zero-width space, non-joiner, joiner
    0x2060, 0xFEFF, 0x180E,  # word joiner, zero-width no-break space (BOM), Mongolian vowel separator
})
_CONTROLS = frozenset({*range(0x00, 0x20), *range(0x7F, 0xA0)})  # C0, DEL and C1
_DROP: dict[int, None] = dict.fromkeys(INVISIBLE | (_CONTROLS - {0x09, 0x0A, 0x0D}))
_AS_SPACE: dict[int, str] = dict.fromkeys((0x09, 0x0A, 0x0D), " ")


def slack_id(value: object) -> str:
    """`value` if it is a well-formed Slack id (at most 32 characters), else ""."""
    text = value.strip() if isinstance(value, str) else ""
    return text if _SLACK_ID.fullmatch(text) else ""


def slack_ts(value: object) -> str:
    """`value` if it is a well-formed Slack message timestamp, else ""."""
    text = value.strip() if isinstance(value, str) else ""
    return text if len(text) <= TS_MAX and _SLACK_TS.fullmatch(text) else ""


def has_hidden(text: str) -> bool:
    """Whether `text` holds a control character (tabs and line breaks included) or an invisible one."""
    return any(ord(c) in _CONTROLS or ord(c) in INVISIBLE for c in text)


def strip_invisible(text: str) -> str:
    """`text` without direction controls and zero-width characters; everything else as it was."""
    return text.translate(dict.fromkeys(INVISIBLE))


def clean_line(text: str) -> str:
    """One line of user text: control and invisible characters dropped, tabs and line breaks read as spaces,
    runs of whitespace collapsed."""
    return " ".join(text.translate(_AS_SPACE).translate(_DROP).split())



def row_id(value: object) -> int | None:
    """A row id from a button's value: ASCII digits only ("²" is a digit to str.isdigit but not to int), and
    few enough to fit a BIGINT; None otherwise."""
    text = value.strip() if isinstance(value, str) else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None
