"""The outbox worker: posts due deliveries to Slack, at most one message per second per channel, and keeps
each one until Slack confirms it.

Exactly once: a delivery is marked `sending` before its post and `sent` with the message's ts after. A post
whose answer never came (a crash, a timeout, a 5xx) stays `sending`, and before any retry the channel is
searched for the message's metadata (`delivery_id`), so an alert that did reach Slack is never posted again."""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.clock import Clock
from bot.settings import Settings
from bot.slack.blocks.alert import alert_message, growth_reply
from bot.slack.blocks.digest import digest_message
from bot.slack.blocks.first_look import first_look_message, first_look_view
from bot.slack.blocks.more import more_message, more_view
from bot.slack.clients import SlackUnreachable, error_code
from bot.slack.model import DigestView, Growth, Message
from bot.slack.views import alert_view
from bot.storage.briefs import team_brief, team_briefs
from bot.storage.db import session_scope
from bot.storage.deliveries import (
    MORE,
    alert_message_for,
    alert_unsent,
    claim_deliveries,
    mark_crashed,
    mark_refused,
    mark_retry,
    mark_sending,
    mark_sent,
    release,
)
from bot.storage.first_look import LOOK, mark_look_sent
from bot.storage.models import AlertMessage, Delivery
from bot.storage.transactions import Engine, Session
from bot.storage.workspaces import workspace_timezone

log = logging.getLogger(__name__)
METADATA_TYPE = "briefbot_delivery"
CHANNEL_GONE = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
TOKEN_GONE = frozenset({"invalid_auth", "account_inactive", "token_revoked", "token_expired", "not_authed",
                        "team_access_not_granted", "missing_scope", "no_token"})
BLOCKS_REFUSED = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long", "msg_too_long"})
MAX_BACKOFF = timedelta(hours=1)
UNREACHABLE_WAIT = timedelta(minutes=1)
CLOCK_SKEW = timedelta(minutes=10)  # how far Slack's clock may be behind ours, when searching for a post
# A delivery that fails unexpectedly (its message can't be built, the database errs while recording it) is
# retried after 30 s, 1 min, 2 min, 4 min, and failed on its fifth attempt.
CRASH_ATTEMPTS = 5
CRASH_BACKOFF = timedelta(seconds=30)


class ClientSource(Protocol):
    def for_team(self, team_id: str) -> WebClient | None: ...


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    paused: int = 0
    failed: int = 0
    reconciled: int = 0  # unconfirmed posts found already in the channel
    errors: list[str] = field(default_factory=list)


class UndeliverableError(Exception):
    """This delivery can never be posted (its brief is gone); the message is the reason."""


class RetryLaterError(Exception):
    """Try this delivery again after `after`; `uncertain` when Slack may have posted it."""

    def __init__(self, reason: str, after: timedelta, *, uncertain: bool):
        super().__init__(reason)
        self.after, self.uncertain = after, uncertain


class Deliverer:
    def __init__(self, *, engine: Engine, clock: Clock, clients: ClientSource, settings: Settings,
                 owner: str | None = None, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic):
        self.engine, self.clock, self.clients, self.settings = engine, clock, clients, settings
        self.owner = owner or f"deliver-{uuid.uuid4().hex[:12]}"
        self.sleep, self.monotonic = sleep, monotonic
        self._ready_at: dict[tuple[str, str], float] = {}  # per channel: when the next post may go

    def run_once(self, limit: int = 200) -> DeliveryReport:
        """Post what is due now: channels interleaved, each paced to BRIEFBOT_CHANNEL_POST_INTERVAL."""
        report = DeliveryReport()
        with session_scope(self.engine) as session:
            claimed = claim_deliveries(session=session, owner=self.owner, now=self.clock(),
                                       lease=self.settings.lease(), limit=limit,
                                       pace=timedelta(seconds=self.settings.briefbot_channel_post_interval))
        queues: dict[tuple[str, str], deque[Delivery]] = {}
        for delivery in claimed:
            queues.setdefault((delivery.team_id, delivery.channel_id), deque()).append(delivery)
        while queues:
            key = min(queues, key=lambda k: self._ready_at.get(k, 0.0))
            wait = self._ready_at.get(key, 0.0) - self.monotonic()
            if wait > 0:
                self.sleep(wait)
            delivery = queues[key].popleft()
            stop_channel = self._deliver_one(delivery, report)
            if stop_channel:  # rate limited or gone: leave the rest of this channel for later
                self._release(list(queues[key]), after=stop_channel)
                queues[key].clear()
            if not queues[key]:
                del queues[key]
        return report

    # One delivery ---------------------------------------------------------------------------------------

    def _deliver_one(self, delivery: Delivery, report: DeliveryReport) -> timedelta | None:
        """Post one delivery and record the outcome. Whatever goes wrong with this one (a database error while
        recording, a payload its message can't be built from) stays with it: it is retried with backoff and in
        the end failed, visibly, and the rest of the tick's deliveries are still posted."""
        try:
            return self._attempt(delivery, report)
        except Exception as exc:  # the boundary: one bad delivery must not stall the others
            self._crashed(delivery, exc, report)
            return None
        finally:
            self._ready_at[(delivery.team_id, delivery.channel_id)] = (
                self.monotonic() + self.settings.briefbot_channel_post_interval)

    def _attempt(self, delivery: Delivery, report: DeliveryReport) -> timedelta | None:
        # Unconfirmed: an earlier attempt may have posted it, until the channel shows it didn't.
        unconfirmed = delivery.status == "sending"
        try:
            client = self._client_for(delivery.team_id)
            if unconfirmed:
                found = self._already_posted(client, delivery)
                if found is not None:
                    self._mark_sent(delivery, found, report, reconciled=True)
                    return None
                unconfirmed = False
            ts = self._post(client, delivery)
        except RetryLaterError as retry:
            self._retry(delivery, retry, report, unconfirmed=unconfirmed or retry.uncertain)
            return retry.after if not retry.uncertain else None
        except SlackApiError as exc:
            return self._refused(delivery, error_code(exc), report, unconfirmed=unconfirmed)
        except UndeliverableError as exc:
            return self._refused(delivery, str(exc), report, unconfirmed=False)
        self._mark_sent(delivery, ts, report)
        return None

    def _client_for(self, team_id: str) -> WebClient:
        try:
            client = self.clients.for_team(team_id)
        except SlackUnreachable as exc:  # the token's workspace is unknown until Slack answers
            raise RetryLaterError(str(exc), UNREACHABLE_WAIT, uncertain=False) from exc
        if client is None:
            raise RetryLaterError("no Slack token for this workspace (not installed, or uninstalled)", MAX_BACKOFF,
                                  uncertain=False)
        return client

    def _post(self, client: WebClient, delivery: Delivery) -> str:
        with session_scope(self.engine) as session:
            if delivery.kind == "digest":
                message, thread_ts, alert = self._digest(session, delivery), None, None
            elif delivery.kind == LOOK:
                message, thread_ts, alert = self._first_look(delivery), None, None
            elif delivery.kind == MORE:
                message, thread_ts, alert = self._more(delivery), None, None
            else:
                brief = team_brief(session, team_id=delivery.team_id, brief_id=delivery.brief_id)
                if brief is None:
                    raise UndeliverableError("brief_missing")
                alert = alert_message_for(session=session, delivery=delivery)
                view = alert_view(session=session, brief=brief)
                if delivery.kind == "update" and alert is not None:
                    self._update(client, delivery, alert, alert_message(view))
                    growth = Growth(more_items=max(0, brief.item_count - alert.item_count),
                                    more_outlets=max(0, brief.outlet_count - alert.outlet_count))
                    message, thread_ts = growth_reply(view, growth), alert.ts
                elif delivery.kind == "update" and alert_unsent(session=session, delivery=delivery):
                    raise RetryLaterError("waiting for the first alert to be posted", timedelta(seconds=10),
                                          uncertain=False)
                else:
                    message, thread_ts = alert_message(view), None
        self._mark_sending(delivery)
        return self._send(client, delivery, message, thread_ts)

    def _send(self, client: WebClient, delivery: Delivery, message: Message, thread_ts: str | None) -> str:
        args: dict[str, Any] = {
            "channel": delivery.channel_id, "text": message.text, "blocks": message.blocks,
            "unfurl_links": False, "unfurl_media": False, "link_names": False,
            "metadata": {"event_type": METADATA_TYPE, "event_payload": {"delivery_id": delivery.id}},
        }
        if thread_ts:
            args["thread_ts"] = thread_ts
        try:
            response = _call(client.chat_postMessage, **args)
        except SlackApiError as exc:
            if error_code(exc) not in BLOCKS_REFUSED:
                raise
            log.warning("delivery %s: Slack refused the blocks (%s); posting the text alone", delivery.id,
                        error_code(exc))
            del args["blocks"]
            response = _call(client.chat_postMessage, **args)
        return str(response["ts"])

    def _update(self, client: WebClient, delivery: Delivery, alert: AlertMessage, message: Message) -> None:
        try:
            _call(client.chat_update, channel=delivery.channel_id, ts=alert.ts, text=message.text,
                  blocks=message.blocks)
        except SlackApiError as exc:
            if error_code(exc) in CHANNEL_GONE or error_code(exc) in TOKEN_GONE:
                raise
            # The alert was deleted or can't be edited any more: the thread reply still says what changed.
            log.info("delivery %s: could not update alert %s: %s", delivery.id, alert.ts, error_code(exc))

    def _digest(self, session: Session, delivery: Delivery) -> Message:
        ids = [int(i) for i in delivery.payload.get("brief_ids", [])]
        briefs = team_briefs(session=session, team_id=delivery.team_id, brief_ids=ids)
        views = tuple(alert_view(session=session, brief=brief) for brief in briefs)
        timezone = workspace_timezone(session=session, team_id=delivery.team_id)
        since = delivery.payload.get("since")
        return digest_message(DigestView(
            channel_id=delivery.channel_id, since=datetime.fromisoformat(since) if since else None,
            until=datetime.fromisoformat(delivery.payload["until"]), briefs=views, timezone=timezone))

    @staticmethod
    def _first_look(delivery: Delivery) -> Message:
        try:
            return first_look_message(first_look_view(delivery.payload))
        except ValueError as exc:  # a payload no retry will mend
            raise UndeliverableError(f"first look unreadable: {exc}"[:200]) from exc

    @staticmethod
    def _more(delivery: Delivery) -> Message:
        try:
            return more_message(more_view(delivery.payload))
        except ValueError as exc:  # a payload no retry will mend
            raise UndeliverableError(f"'more' message unreadable: {exc}"[:200]) from exc

    def _already_posted(self, client: WebClient, delivery: Delivery) -> str | None:
        """The ts of this delivery's message if an earlier, unconfirmed attempt did reach the channel."""
        started = delivery.attempt_started_at or delivery.created_at
        oldest = f"{started.timestamp() - CLOCK_SKEW.total_seconds():.6f}"
        try:
            if delivery.thread_ts:
                response = _call(client.conversations_replies, channel=delivery.channel_id, ts=delivery.thread_ts,
                                 oldest=oldest, include_all_metadata=True, limit=200)
            else:
                response = _call(client.conversations_history, channel=delivery.channel_id, oldest=oldest,
                                 include_all_metadata=True, limit=200)
        except SlackApiError as exc:
            if error_code(exc) in ("missing_scope", "not_allowed_token_type"):
                log.warning("delivery %s: can't read the channel to check an unconfirmed post (%s); posting again",
                            delivery.id, error_code(exc))
                return None
            raise
        for message in response.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if (message.get("metadata") or {}).get("event_type") == METADATA_TYPE and \
                    payload.get("delivery_id") == delivery.id:
                return str(message["ts"])
        return None

    # Recording outcomes ----------------------------------------------------------------------------------

    def _mark_sending(self, delivery: Delivery) -> None:
        with session_scope(self.engine) as session:
            row = mark_sending(session=session, delivery_id=delivery.id or 0, owner=self.owner, now=self.clock(),
                               lease=self.settings.lease())
            if row is None:
                raise RetryLaterError("lease lost to another worker", timedelta(0), uncertain=False)
            delivery.status, delivery.attempt_started_at, delivery.thread_ts = (
                row.status, row.attempt_started_at, row.thread_ts)

    def _mark_sent(self, delivery: Delivery, ts: str, report: DeliveryReport, *, reconciled: bool = False) -> None:
        with session_scope(self.engine) as session:
            if delivery.kind == LOOK:  # no alert to record: a first look stands on no brief
                mark_look_sent(session=session, delivery_id=delivery.id or 0, ts=ts, now=self.clock())
            else:
                mark_sent(session=session, delivery_id=delivery.id or 0, ts=ts, now=self.clock())
        report.sent += 1
        report.reconciled += int(reconciled)

    def _retry(self, delivery: Delivery, retry: RetryLaterError, report: DeliveryReport, *, unconfirmed: bool) -> None:
        with session_scope(self.engine) as session:
            mark_retry(session=session, delivery_id=delivery.id or 0, owner=self.owner,
                       at=self.clock() + retry.after, error=str(retry), unconfirmed=unconfirmed)
        report.retried += 1
        log.info("delivery %s to %s: %s; again in %ss", delivery.id, delivery.channel_id, retry,
                 int(retry.after.total_seconds()))

    def _refused(self, delivery: Delivery, error: str, report: DeliveryReport, *,
                 unconfirmed: bool) -> timedelta | None:
        """Slack said no. A channel the bot can't post to is paused; a refused token waits for a new one;
        anything else fails this delivery for good, visibly (App Home, `/brief status`)."""
        if error in TOKEN_GONE:
            refused = RetryLaterError(f"Slack refused the token: {error}", MAX_BACKOFF, uncertain=False)
            self._retry(delivery, refused, report, unconfirmed=unconfirmed)
            return MAX_BACKOFF
        gone = error in CHANNEL_GONE
        with session_scope(self.engine) as session:
            mark_refused(session=session, delivery_id=delivery.id or 0, owner=self.owner, now=self.clock(),
                         retry_at=self.clock() + MAX_BACKOFF, error=error, unconfirmed=unconfirmed,
                         channel_gone=gone)
        if gone:
            report.paused += 1
            log.warning("channel %s paused: %s", delivery.channel_id, error)
            return MAX_BACKOFF
        report.failed += 1
        report.errors.append(f"delivery {delivery.id}: {error}")
        log.error("delivery %s to %s failed: %s", delivery.id, delivery.channel_id, error)
        return None

    def _crashed(self, delivery: Delivery, exc: Exception, report: DeliveryReport) -> None:
        """An unexpected error on one delivery: one log line, then the retry path with backoff; after
        CRASH_ATTEMPTS attempts it fails for good (counted by `/brief status`). One that may have been posted
        (`sending`) is only ever retried, since its retry first looks for it in the channel."""
        error = f"{type(exc).__name__}: {str(exc)[:300]}"
        unconfirmed = delivery.status == "sending"
        try:
            with session_scope(self.engine) as session:
                crash = mark_crashed(session=session, delivery_id=delivery.id or 0, owner=self.owner,
                                     now=self.clock(), error=error, unconfirmed=unconfirmed,
                                     max_attempts=CRASH_ATTEMPTS, backoff=CRASH_BACKOFF, max_backoff=MAX_BACKOFF)
        except Exception as again:  # the database is down too: the lease expires on its own
            log.error("delivery %s to %s failed (%s) and could not be recorded (%s: %s); it is retried when its "
                      "lease ends", delivery.id, delivery.channel_id, error, type(again).__name__, again)
            return
        if crash is None:  # the lease was lost: another worker has it now
            return
        attempts, after = crash.attempts, crash.retry_after
        if after is not None:
            report.retried += 1
            log.error("delivery %s to %s failed (attempt %d of %d): %s; again in %ss", delivery.id,
                      delivery.channel_id, attempts, CRASH_ATTEMPTS, error, int(after.total_seconds()))
        else:
            report.failed += 1
            report.errors.append(f"delivery {delivery.id}: {error}")
            log.error("delivery %s to %s failed for good after %d attempts: %s", delivery.id, delivery.channel_id,
                      attempts, error)

    def _release(self, deliveries: list[Delivery], *, after: timedelta) -> None:
        if deliveries:
            with session_scope(self.engine) as session:
                release(session=session, delivery_ids=[d.id or 0 for d in deliveries], owner=self.owner,
                        not_before=self.clock() + after)


def _call(method: Callable[..., Any], **kwargs: Any) -> Any:
    """One Web API call, with the answers that mean "try again" turned into RetryLaterError."""
    try:
        return method(**kwargs)
    except SlackApiError as exc:
        status = exc.response.status_code
        if status == 429:
            after = int(exc.response.headers.get("Retry-After", exc.response.headers.get("retry-after", 30)) or 30)
            raise RetryLaterError("rate limited by Slack", timedelta(seconds=max(1, after)), uncertain=False) from exc
        if status >= 500:
            raise RetryLaterError(f"Slack answered HTTP {status}", timedelta(seconds=15), uncertain=True) from exc
        raise
    except (OSError, TimeoutError) as exc:  # URLError, connection reset, socket timeout
        raise RetryLaterError(f"no answer from Slack: {type(exc).__name__}", timedelta(seconds=15),
                              uncertain=True) from exc
