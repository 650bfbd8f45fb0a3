"""Prompt files: loaded by name from prompts/, validated at start-up, rendered into chat messages.

A prompt file is a small front matter (`name:`, `version:`, `description:`), a `---` line, then three
sections under `## system`, `## user` and `## repair` headings, and optionally `## system when <condition>`
sections: rules that apply only to some inputs (a re-brief's earlier brief, related news or signals), added to
the system message only when the input has what they speak of, so no call pays for rules about inputs it does
not have. Placeholders are `{name}`; literal braces are doubled.
Which placeholders a prompt must use is the code's side of the contract (`CONTRACTS`): a
file that uses an unknown one, or leaves one out, fails at load time, not when a brief is first written.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # typed dicts only: loading the prompts at start-up needs no OpenAI library
    from openai.types.chat import ChatCompletionMessageParam, ChatCompletionUserMessageParam

DATA_START = "<<<SOURCE ITEMS>>>"
DATA_END = "<<<END SOURCE ITEMS>>>"
SECTIONS = ("system", "user", "repair")
FRONT_MATTER_KEYS = ("name", "version", "description")
REPAIR_PLACEHOLDERS = frozenset({"error"})

# What the code fills in for each prompt. A new prompt file needs an entry here, and the code that fills it.
CONTRACTS: Mapping[str, frozenset[str]] = {
    "brief_signal": frozenset({"company", "reason", "function_label", "main_function_label", "metro", "cities",
                               "window_days", "count", "baseline", "items", "related"}),
    "brief_story": frozenset({"outlets", "first_seen", "last_seen", "count", "items", "related"}),
    "answer": frozenset({"today", "question", "history", "items"}),
}

# The conditions a prompt's `## system when <condition>` sections may name (the code decides which hold).
CONDITIONS: Mapping[str, frozenset[str]] = {
    "brief_signal": frozenset({"earlier_brief", "related"}),
    "brief_story": frozenset({"earlier_brief", "related"}),
    "answer": frozenset(),
}
_WHEN = "system when "

# Placeholders filled with text from feeds (or earlier answers): each must sit inside the data block, where the
# system section tells the model it is untrusted data.
UNTRUSTED: Mapping[str, frozenset[str]] = {
    "brief_signal": frozenset({"company", "metro", "cities", "items", "related"}),  # a metro may be a city
    "brief_story": frozenset({"outlets", "items", "related"}),
    "answer": frozenset({"history", "items"}),
}

_VERSION = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_HEADING = re.compile(r"^##\s+(\S.*?)\s*$")
_MARKER_RUN = (re.compile(r"<{3,}"), re.compile(r">{3,}"))


class PromptError(ValueError):
    """A prompt file that cannot be used; the message names the file and the problem."""


_Fail = Callable[[str], PromptError]  # builds the error for one file


@dataclass(frozen=True, slots=True)
class Prompt:
    name: str
    version: str
    description: str
    system: str  # static: no placeholders, so feed text can never reach it
    user: str  # template
    repair: str  # template over {error}
    placeholders: frozenset[str]  # those of the user template
    digest: str  # sha256 of the file, so an edit without a version bump still changes the input hash
    when: tuple[tuple[str, str], ...] = ()  # (condition, static rules) in file order: added when it holds

    def system_for(self, conditions: frozenset[str] = frozenset()) -> str:
        """The system message for an input of which `conditions` hold."""
        if unknown := conditions - CONDITIONS.get(self.name, frozenset()):
            raise PromptError(f"prompt {self.name}: unknown condition(s) {', '.join(sorted(unknown))}")
        return "\n".join([self.system, *(rules for condition, rules in self.when if condition in conditions)])

    def full_system(self) -> str:
        """Every rule the prompt holds, conditional ones included (for checks, not for sending)."""
        return self.system_for(CONDITIONS.get(self.name, frozenset()))


def default_directory() -> Path:
    """The repository's prompts/ folder (present in a checkout or an editable install)."""
    return Path(__file__).resolve().parents[2] / "prompts"


def load_prompt(name: str, directory: Path | None = None) -> Prompt:
    folder = _folder(directory)
    path = folder / f"{name}.md"
    if not path.is_file():
        raise PromptError(f"{path}: no such prompt file")
    return parse_prompt(path.read_text(encoding="utf-8"), path=path)


def load_all(directory: Path | None = None) -> dict[str, Prompt]:
    """Load and validate every prompt file (every *.md but README.md), and require one per contract.

    Call at start-up, so a broken prompt stops the bot before any brief is written."""
    folder = _folder(directory)
    files = [p for p in sorted(folder.glob("*.md")) if p.name != "README.md"]
    prompts = {p.stem: parse_prompt(p.read_text(encoding="utf-8"), path=p) for p in files}
    missing = sorted(set(CONTRACTS) - set(prompts))
    if missing:
        raise PromptError(f"{folder}: missing prompt file(s) {', '.join(m + '.md' for m in missing)}")
    return prompts


def parse_prompt(text: str, *, path: Path) -> Prompt:
    def fail(problem: str) -> PromptError:
        return PromptError(f"{path}: {problem}")

    head, sep, body = text.partition("\n---\n")
    if not sep:
        raise fail("no front matter: start with name:, version:, description: lines, then a --- line")
    meta = _front_matter(head, fail)
    if meta["name"] != path.stem:
        raise fail(f"name {meta['name']!r} does not match the file name {path.stem!r}")
    if not _VERSION.match(meta["version"]):
        raise fail(f"version {meta['version']!r} is not a number like 3 or 1.2")
    contract = CONTRACTS.get(path.stem)
    if contract is None:
        raise fail(f"no code fills this prompt (known prompts: {', '.join(sorted(CONTRACTS))})")
    sections = _sections(body, fail)
    when = tuple((title.removeprefix(_WHEN), text) for title, text in sections.items() if title.startswith(_WHEN))
    allowed = CONDITIONS.get(path.stem, frozenset())
    for condition, _ in when:
        if condition not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise fail(f"## {_WHEN}{condition}: unknown condition; this prompt's: {known}")
    static = [(f"{_WHEN}{c}", frozenset[str]()) for c, _ in when]
    for section, expected in (("system", frozenset[str]()), *static, ("user", contract),
                              ("repair", REPAIR_PLACEHOLDERS)):
        used = _placeholders(sections[section], section, fail)
        if unknown := used - expected:
            raise fail(f"## {section}: unknown placeholder(s) {_braced(unknown)}; allowed: {_braced(expected)}")
        if missing := expected - used:
            raise fail(f"## {section}: missing placeholder(s) {_braced(missing)}")
    if "items" in contract:
        _check_delimited(sections, UNTRUSTED.get(meta["name"], frozenset({"items"})), fail)
    return Prompt(name=meta["name"], version=meta["version"], description=meta["description"],
                  system=sections["system"].format_map({}), user=sections["user"], repair=sections["repair"],
                  placeholders=contract, digest=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                  when=tuple((c, rules.format_map({})) for c, rules in when))


def render(prompt: Prompt, conditions: frozenset[str] = frozenset(), /,
           **values: str) -> list[ChatCompletionMessageParam]:
    """The system message (with the rules of the `conditions` that hold) and the user message. Every value is
    data: marker look-alikes inside it are defused."""
    given = frozenset(values)
    if given != prompt.placeholders:
        raise PromptError(f"prompt {prompt.name}: missing {_braced(prompt.placeholders - given)}, "
                          f"unknown {_braced(given - prompt.placeholders)}")
    user = prompt.user.format_map({k: neutralise_markers(v) for k, v in values.items()})
    return [{"role": "system", "content": prompt.system_for(conditions)}, {"role": "user", "content": user}]


def render_repair(prompt: Prompt, error: str) -> ChatCompletionUserMessageParam:
    return {"role": "user", "content": prompt.repair.format_map({"error": neutralise_markers(error)})}


def neutralise_markers(text: str) -> str:
    """Runs of three or more angle brackets become guillemets, so no value can open or close the data block."""
    text = _MARKER_RUN[0].sub("«", text)
    return _MARKER_RUN[1].sub("»", text)


def _folder(directory: Path | None) -> Path:
    folder = directory if directory is not None else default_directory()
    if not folder.is_dir():
        raise PromptError(f"{folder}: prompts folder not found (set BRIEFBOT_PROMPTS_DIR to the prompts/ folder)")
    return folder


def _front_matter(head: str, fail: _Fail) -> dict[str, str]:
    meta: dict[str, str] = {}
    for number, line in enumerate(head.splitlines(), start=1):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        key = key.strip()
        if not colon or key not in FRONT_MATTER_KEYS:
            raise fail(f"front matter line {number}: expected one of {', '.join(FRONT_MATTER_KEYS)} as 'key: value'")
        if key in meta:
            raise fail(f"front matter: {key} given twice")
        meta[key] = value.strip()
    for key in FRONT_MATTER_KEYS:
        if not meta.get(key):
            raise fail(f"front matter: missing {key}")
    return meta


def _sections(body: str, fail: _Fail) -> dict[str, str]:
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in body.splitlines():
        heading = _HEADING.match(line)
        if heading:
            title = " ".join(heading.group(1).lower().split())
            if title not in SECTIONS and not (title.startswith(_WHEN) and title[len(_WHEN):].isidentifier()):
                raise fail(f"unknown section '## {heading.group(1)}' (sections: {', '.join(SECTIONS)}, "
                           f"'{_WHEN}<condition>')")
            if title in found:
                raise fail(f"section '## {title}' given twice")
            current = found[title] = []
        elif current is not None:
            current.append(line)
        elif line.strip():
            raise fail("text before the first '## system' heading")
    sections = {k: "\n".join(v).strip() for k, v in found.items()}
    for title in (*SECTIONS, *(t for t in sections if t.startswith(_WHEN))):
        if not sections.get(title):
            raise fail(f"missing or empty section '## {title}'")
    return sections


def _placeholders(template: str, section: str, fail: _Fail) -> frozenset[str]:
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:  # a lone { or }
        raise fail(f"## {section}: {exc} (write literal braces as {{{{ and }}}})") from exc
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            written = field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise fail(f"## {section}: placeholder {{{written}}} is not a plain {{name}}")
        names.add(field)
    return frozenset(names)


def _check_delimited(sections: dict[str, str], untrusted: frozenset[str], fail: _Fail) -> None:
    user = sections["user"]
    if user.count(DATA_START) != 1 or user.count(DATA_END) != 1:
        raise fail(f"## user: needs {DATA_START} and {DATA_END} exactly once each")
    start, end = user.index(DATA_START), user.index(DATA_END)
    for name in sorted(untrusted):
        placeholder = "{" + name + "}"
        if user.count(placeholder) != 1 or not start < user.index(placeholder) < end:
            raise fail(f"## user: {placeholder} holds feed text and must sit once between {DATA_START} and "
                       f"{DATA_END}")
    if DATA_START not in sections["system"] or DATA_END not in sections["system"]:
        raise fail(f"## system: must tell the model that {DATA_START} … {DATA_END} holds untrusted data")


def _braced(names: frozenset[str]) -> str:
    return ", ".join("{" + n + "}" for n in sorted(names)) or "none"
