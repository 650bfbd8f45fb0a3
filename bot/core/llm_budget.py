"""A workspace's daily LLM token budget: how much it has, how much it used today, whether it is spent, and how
that is said to people (a brief's writer note, an answer's note, status lines). Pure: no I/O, no clock; the
caller passes `now`.

The budget day is the UTC day: use counts from 00:00 UTC and a spent budget comes back at the next 00:00 UTC,
whatever the workspace's own time zone (one rule for every workspace and every worker)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_TOKENS = 2**31 - 1  # workspaces.llm_daily_tokens is an INTEGER column (PostgreSQL's is 32-bit)
DEFAULT_WORDS = ("default", "reset", "clear")  # what clears a workspace's own budget
RESET_AT = "00:00 UTC"
_TOKENS = re.compile(r"(?P<digits>[0-9]{1,3}(?:[,_][0-9]{3})+|[0-9]+)(?P<unit>[kKmM]?)")
_UNITS = {"": 1, "k": 1_000, "m": 1_000_000}
_SHOWN = 30  # how much of a bad value an error message repeats


class BudgetInputError(ValueError):
    """A budget someone typed that is not one: the message says why and what to type, in one line."""


@dataclass(frozen=True, slots=True)
class LLMBudget:
    """One workspace's LLM budget for the UTC day that holds `day_start`."""

    team_id: str
    limit: int  # tokens a UTC day: the workspace's own, or the default
    used: int  # tokens its briefs recorded since day_start
    own: bool  # the workspace's own budget (workspaces.llm_daily_tokens), not the setting's default
    day_start: datetime

    @property
    def spent(self) -> bool:
        return self.used >= self.limit

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def resets_at(self) -> datetime:
        return self.day_start + timedelta(days=1)

    def as_dict(self) -> dict[str, object]:
        return {"team_id": self.team_id, "budget": self.limit, "own": self.own, "used_today": self.used,
                "left": self.left, "spent": self.spent, "resets_at": self.resets_at.isoformat()}


def day_start(now: datetime) -> datetime:
    """00:00 UTC of the UTC day `now` falls in."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def make_budget(*, team_id: str, own_limit: int | None, default_limit: int, used: int, now: datetime) -> LLMBudget:
    """The budget in force: the workspace's own when it has one (0 included), else the default."""
    limit = default_limit if own_limit is None else own_limit
    return LLMBudget(team_id=team_id, limit=max(0, limit), used=max(0, used), own=own_limit is not None,
                     day_start=day_start(now))


def tokens(n: int) -> str:
    return f"{n:,} token" + ("" if n == 1 else "s")


def writer_note(budget: LLMBudget) -> str:
    """Why the built-in writer wrote this workspace's brief, stored beside the brief and shown with its alert."""
    if budget.limit == 0:
        return ("this workspace's daily LLM token budget is 0 (set with briefbot workspaces budget), so the built-in "
                "writer writes all its briefs")
    return (f"this workspace's daily LLM token budget of {tokens(budget.limit)} is spent ({budget.used:,} used "
            f"today); the built-in writer stands in until it resets at {RESET_AT}")


def answer_note(budget: LLMBudget) -> str:
    """The note on an extractive answer given because the workspace's budget is spent (or 0)."""
    if budget.limit == 0:
        return ("This workspace does not use the LLM (its daily LLM budget is 0), so these are the stored briefs "
                "and items that best match.")
    return (f"This workspace's daily LLM budget of {tokens(budget.limit)} is spent until {RESET_AT}, so these are "
            "the stored briefs and items that best match.")


def limit_label(budget: LLMBudget) -> str:
    """'500,000 tokens a day (the default)', '0 (LLM off for this workspace)'."""
    if budget.limit == 0:
        return "0 (LLM off for this workspace)"
    return f"{tokens(budget.limit)} a day ({'its own' if budget.own else 'the default'})"


def use_line(budget: LLMBudget) -> str:
    """Today's use against the budget, for status lines and App Home; past it, what happens until when."""
    if budget.limit == 0:
        return ("off for this workspace (its budget is 0): briefs use the built-in writer and questions get the "
                "stored sources")
    used = f"{budget.used:,} of {tokens(budget.limit)} today ({'its own budget' if budget.own else 'the default'})"
    if budget.spent:
        return f"{used}; spent: briefs use the built-in writer until {RESET_AT}"
    return f"{used}; resets at {RESET_AT}"


def parse_tokens(text: str) -> int | None:
    """A budget as typed: a whole number of tokens (500000, 500,000, 500_000, 500k, 2M), or `default` (None)
    to go back to the setting's default. BudgetInputError, one line, for anything else."""
    value = text.strip()
    if value.lower() in DEFAULT_WORDS:
        return None
    shown = repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "…")
    usage = f"give a whole number of tokens from 0 to {MAX_TOKENS:,} (e.g. 200000 or 200k), or default"
    if value.startswith("-") and _TOKENS.fullmatch(value[1:]):
        raise BudgetInputError(f"{shown} is negative; {usage}")
    match = _TOKENS.fullmatch(value)
    if match is None:
        raise BudgetInputError(f"{shown} is not a number of tokens; {usage}")
    digits = re.sub(r"[,_]", "", match["digits"]).lstrip("0") or "0"
    # A thousand digits are no budget: refused by length before int() (which refuses past 4,300 digits itself).
    if len(digits) > len(str(MAX_TOKENS)) or int(digits) * _UNITS[match["unit"].lower()] > MAX_TOKENS:
        raise BudgetInputError(f"{shown} is more than {MAX_TOKENS:,} tokens; {usage}")
    return int(digits) * _UNITS[match["unit"].lower()]
