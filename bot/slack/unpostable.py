"""Workspaces whose followed channels nothing can post to, and why: read by `sources list`, `briefbot status` and
the worker without loading the deliverer and its Block Kit builders, nor the table models (plain SQL,
`storage/post_targets`); `sources list` loads the Slack library only when some workspace has channels to check
(`lazy_tokens`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.settings import Settings
from bot.storage.post_targets import delivery_targets, waiting_deliveries

if TYPE_CHECKING:
    from bot.slack.clients import SlackClients
    from bot.storage.transactions import Engine  # annotations only: storage.transactions imports sqlmodel

__all__ = ["TokenCheck", "Unpostable", "find_unpostable", "lazy_tokens"]


class TokenCheck(Protocol):
    def unpostable_reason(self, team_id: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Unpostable:
    """A workspace whose channels follow sources (or wait for deliveries) that no token of briefbot's can post
    to, and why: shown by `sources list`, `briefbot status` and the worker's log instead of waiting silently."""

    team_id: str
    channels: tuple[str, ...]
    waiting: int  # deliveries due but not posted
    reason: str

    def describe(self) -> str:
        where = f"channel{'s' if len(self.channels) != 1 else ''} {', '.join(self.channels)}"
        waiting = f", {self.waiting} deliver{'y' if self.waiting == 1 else 'ies'} waiting" if self.waiting else ""
        return f"nothing can be posted to workspace {self.team_id} ({where}{waiting}): {self.reason}"


def find_unpostable(*, engine: Engine, tokens: TokenCheck, team_id: str | None = None) -> list[Unpostable]:
    """Every workspace (or just `team_id`) with channels to post to and no way to post there."""
    with engine.connect() as connection:
        targets = delivery_targets(connection, team_id)
        waiting = waiting_deliveries(connection, team_id)
    found = []
    for team in sorted(set(targets) | {t for t, _ in waiting}):
        reason = tokens.unpostable_reason(team)
        if reason:
            channels = targets.get(team, set()) | {c for t, c in waiting if t == team}
            found.append(Unpostable(team_id=team, channels=tuple(sorted(channels)), reason=reason,
                                    waiting=sum(n for (t, _), n in waiting.items() if t == team)))
    return found


class _LazyTokens:
    """`SlackClients(settings, engine)`, built (and slack_sdk imported) on the first check."""

    def __init__(self, settings: Settings, engine: Engine):
        self._settings, self._engine = settings, engine
        self._clients: SlackClients | None = None

    def unpostable_reason(self, team_id: str) -> str | None:
        if self._clients is None:
            from bot.slack.clients import SlackClients

            self._clients = SlackClients(self._settings, self._engine)
        return self._clients.unpostable_reason(team_id)


def lazy_tokens(settings: Settings, engine: Engine) -> TokenCheck:
    """The token check of `SlackClients`, for a command that checks at most once: the Slack library is loaded
    only if some workspace has channels to post to."""
    return _LazyTokens(settings, engine)
