"""The worker's delivery job: route new briefs into channel outboxes, enqueue due digests, post what is due."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from bot.context import Context
from bot.core.normalize import first_line
from bot.slack.clients import SlackClients
from bot.slack.delivery import Deliverer, DeliveryReport
from bot.slack.unpostable import Unpostable, find_unpostable
from bot.storage.db import session_scope
from bot.storage.deliveries import route_new_briefs
from bot.storage.digests import enqueue_due_digests
from bot.storage.events import prune_events
from bot.storage.first_look import enqueue_first_looks
from bot.storage.leases import Held, holding, new_owner
from bot.storage.sources import teams_to_process

log = logging.getLogger(__name__)
UNPOSTABLE_CHECK_SECONDS = 600.0  # how often the worker looks for follows nothing can post, and says so


def route_and_schedule(ctx: Context) -> tuple[int, int]:
    """(deliveries routed, digests enqueued). A team's routing is leased to one worker at a time: two
    workers routing two versions of one story at once could otherwise both queue its update. First looks of
    newly polled or newly followed job boards are routed with the briefs (counted as routed)."""
    now, owner = ctx.clock(), new_owner("route")
    with session_scope(ctx.engine) as session:
        teams = teams_to_process(session=session, team_id=None)
    routed = 0
    for team in teams:
        with holding(engine=ctx.engine, name=f"route:{team}", owner=owner, clock=ctx.clock,
                     lease=ctx.settings.lease()) as held:
            if held is None:
                continue  # another worker is routing this team's briefs now
            with session_scope(ctx.engine) as session:
                if held.fence(session, now):
                    routed += route_new_briefs(session=session, team_id=team, now=now,
                                               min_outlets=ctx.settings.briefbot_story_min_outlets,
                                               flood_limit=ctx.settings.briefbot_alerts_per_source)
            routed += _first_looks(ctx, team, held, now)
    with session_scope(ctx.engine) as session:
        digests = enqueue_due_digests(session=session, now=now,
                                      max_briefs=ctx.settings.briefbot_digest_max_briefs)
        prune_events(session=session, now=now)
    return routed, digests


def _first_looks(ctx: Context, team: str, held: Held, now: datetime) -> int:
    """The team's owed first looks, in a transaction of their own: one that cannot be built (a bad stored value)
    leaves the briefs routed, and is tried again on the next tick."""
    try:
        with session_scope(ctx.engine) as session:
            return enqueue_first_looks(session=session, team_id=team, now=now) if held.fence(session, now) else 0
    except Exception as exc:
        log.warning("first looks for %s failed: %s: %s", team, type(exc).__name__, first_line(exc))
        return 0


class OutboxLoop:
    def __init__(self, ctx: Context, clients: SlackClients | None = None, *,
                 monotonic: Callable[[], float] = time.monotonic):
        self.ctx = ctx
        self.clients = clients or SlackClients(ctx.settings, ctx.engine)
        self.deliverer = Deliverer(engine=ctx.engine, clock=ctx.clock, settings=ctx.settings, clients=self.clients)
        self.monotonic = monotonic
        self._unpostable_checked_at: float | None = None

    def tick(self) -> DeliveryReport:
        routed, digests = route_and_schedule(self.ctx)
        self.warn_unpostable()
        report = self.deliverer.run_once()
        if routed or digests or report.sent or report.retried or report.failed or report.paused:
            log.info("outbox: %d routed, %d digests, %d sent (%d found already posted), %d to retry, %d paused, "
                     "%d failed", routed, digests, report.sent, report.reconciled, report.retried, report.paused,
                     report.failed)
        return report

    def warn_unpostable(self) -> list[Unpostable]:
        """On the first tick and every UNPOSTABLE_CHECK_SECONDS after: one warning per workspace whose channels
        follow sources (or wait for deliveries) that no token of briefbot's can post, so a follow filed under
        the wrong workspace is said, not left waiting in silence. A failed check costs only the warning."""
        now = self.monotonic()
        if self._unpostable_checked_at is not None and now - self._unpostable_checked_at < UNPOSTABLE_CHECK_SECONDS:
            return []
        self._unpostable_checked_at = now
        try:
            found = find_unpostable(engine=self.ctx.engine, tokens=self.clients)
        except Exception as exc:  # a database hiccup here must not stop the deliveries that can be posted
            log.warning("could not check which workspaces can be posted to: %s: %s", type(exc).__name__, exc)
            return []
        for problem in found:
            log.warning("%s", problem.describe())
        return found
