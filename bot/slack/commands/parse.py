"""Parsing `/brief` text into a subcommand and its argument. Pure: no Slack, no database."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.inputs import clean_line
from bot.core.routing import ALERT_POLICIES

USAGE: dict[str, str] = {
    "help": "`/brief help`: what briefbot can do",
    "follow": "`/brief follow SPEC [every|stories|digest]`: follow a source in this channel, e.g. a feed URL, "
              "`greenhouse:acme`, `lever:acme`, `news:\"acme robotics\"` or a careers page URL; alerts on every new "
              "story (a news search: only stories several outlets carry), or in the digest only",
    "import": "`/brief import URL [every|stories|digest]`: follow here every feed the OPML file at URL lists (a feed "
              "reader's export); says what was added, already followed, or refused and why",
    "unfollow": "`/brief unfollow SPEC`: stop following a source here (the spec, or its number in `/brief list`)",
    "watch": "`/brief watch TERM`: alert this channel on any brief that mentions a company or keyword",
    "unwatch": "`/brief unwatch TERM`: stop watching a term",
    "list": "`/brief list`: this channel's follows, watches and digest, with source health",
    "status": "`/brief status`: how briefbot is doing in this workspace",
    "digest": "`/brief digest daily HH:MM | weekly DAY HH:MM | off`: a digest of the best briefs on a schedule, "
              "in the workspace's time zone (add a zone like `Europe/Berlin` to set it)",
    "mute": "`/brief mute [COMPANY]`: hold this channel's alerts (digests still come), or one company's",
    "unmute": "`/brief unmute [COMPANY]`: alerts again",
    "ask": "`/brief ask QUESTION`: ask about what briefbot has seen",
    "alias": "`/brief alias \"NAME\" \"COMPANY\"`: treat NAME as another name of COMPANY in this workspace (quote "
             "names with spaces); `/brief alias` alone lists the aliases",
    "unalias": "`/brief unalias NAME`: stop treating NAME as another company's name",
    "company": "`/brief company NAME`: one company's page: its names, open hiring signals, open roles by function "
               "and metro, recent news and aliases",
}
NEEDS_ARGUMENT = frozenset({"follow", "import", "unfollow", "watch", "unwatch", "digest", "ask", "unalias", "company"})
NO_ARGUMENT = frozenset({"help", "list", "status"})
ARGUMENT_MAX = 500
_QUOTES = dict.fromkeys(map(ord, "“”„‟«»"), '"')
_NAME = re.compile(r'"([^"]*)"|([^\s"]+)')


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    arg: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    """Wrong usage: what to show instead of running anything."""

    text: str


def parse(text: str) -> Command | Usage:
    """`follow https://…` → Command("follow", "https://…"); wrong usage → that subcommand's usage line; an
    unknown subcommand (or none) → the help text. The text is read as one line, without control or invisible
    characters (no column holds a NUL, and a zero-width space would make a watch that never matches)."""
    words = clean_line(text or "").split(None, 1)
    if not words:
        return Usage(help_text())
    name = words[0].lower()
    raw = words[1].strip() if len(words) > 1 else ""
    if name in ("follow", "import"):  # `follow <https://…> digest`: the URL is wrapped, the policy word is not
        head, _, last = raw.rpartition(" ")
        if head.strip() and last.lower() in ALERT_POLICIES:
            raw = f"{_unwrap(head.strip())} {last}"
    arg = _unescape(_unwrap(raw))
    if name not in USAGE:
        return Usage(f"I don't know `{_safe_word(name)}`.\n" + help_text())
    if name in NEEDS_ARGUMENT and not arg:
        return Usage("Usage: " + USAGE[name])
    if name in NO_ARGUMENT and arg:
        return Usage("Usage: " + USAGE[name])
    if len(arg) > ARGUMENT_MAX:
        return Usage(f"That is longer than {ARGUMENT_MAX} characters. Usage: " + USAGE[name])
    if name == "alias" and arg and len(company_names(arg) or ()) != 2:
        return Usage("Usage: " + USAGE[name])
    if name in ("unalias", "company") and not one_name(arg):
        return Usage("Usage: " + USAGE[name])
    return Command(name, arg)


def company_names(arg: str) -> list[str] | None:
    """`"ByteDance Ltd" TikTok` → ["ByteDance Ltd", "TikTok"]: quoted names (straight or curly quotes, which
    Slack's editor may put in) and single words; None when a quote is left open or a name is empty."""
    text = arg.translate(_QUOTES)
    if text.count('"') % 2:
        return None
    names = [" ".join((m.group(1) if m.group(1) is not None else m.group(2)).split()) for m in _NAME.finditer(text)]
    return names if all(names) else None


def one_name(arg: str) -> str:
    """The one company name in `arg`: quoted or not (`/brief unalias Meta Platforms`); "" when there is none."""
    names = company_names(arg)
    if names is not None and len(names) == 1:
        return names[0]
    return "" if '"' in arg.translate(_QUOTES) else " ".join(arg.split())


def help_text() -> str:
    return "*briefbot* watches news and job sources and briefs this channel on what matters.\n" + "\n".join(
        "• " + line for line in USAGE.values())


def _unwrap(arg: str) -> str:
    """Slack turns a pasted URL into `<https://…>` or `<https://…|label>`; take the URL back out."""
    if arg.startswith("<") and arg.endswith(">") and " " not in arg:
        return arg[1:-1].split("|", 1)[0]
    return arg


def _unescape(arg: str) -> str:
    """Slack sends a command's text with `&`, `<` and `>` escaped (a pasted URL's `&` too): read them as typed,
    so `/brief mute AT&T` names what the Mute button names, and `?a=1&b=2` stays one URL."""
    return arg.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _safe_word(word: str) -> str:
    return "".join(ch for ch in word[:30] if ch.isalnum() or ch in "-_")
