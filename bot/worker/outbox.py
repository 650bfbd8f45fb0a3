"""The worker's delivery job: route new briefs into channel outboxes, enqueue due digests, post what is due."""

from __future__ import annotations

import logging

from bot.context import Context
from bot.slack.clients import SlackClients
from bot.slack.delivery import ClientSource, Deliverer, DeliveryReport
from bot.storage.db import session_scope
from bot.storage.deliveries import route_new_briefs
from bot.storage.digests import enqueue_due_digests
from bot.storage.events import prune_events
from bot.storage.leases import holding, new_owner
from bot.storage.sources import teams_to_process

log = logging.getLogger(__name__)


def route_and_schedule(ctx: Context) -> tuple[int, int]:
    """(deliveries routed, digests enqueued). A team's routing is leased to one worker at a time: two
    workers routing two versions of one story at once could otherwise both queue its update."""
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
                    routed += route_new_briefs(session=session, team_id=team, now=now)
    with session_scope(ctx.engine) as session:
        digests = enqueue_due_digests(session=session, now=now,
                                      max_briefs=ctx.settings.briefbot_digest_max_briefs)
        prune_events(session=session, now=now)
    return routed, digests


class OutboxLoop:
    def __init__(self, ctx: Context, clients: ClientSource | None = None):
        self.ctx = ctx
        self.deliverer = Deliverer(engine=ctx.engine, clock=ctx.clock, settings=ctx.settings,
                                   clients=clients or SlackClients(ctx.settings, ctx.engine))

    def tick(self) -> DeliveryReport:
        routed, digests = route_and_schedule(self.ctx)
        report = self.deliverer.run_once()
        if routed or digests or report.sent or report.retried or report.failed or report.paused:
            log.info("outbox: %d routed, %d digests, %d sent (%d found already posted), %d to retry, %d paused, "
                     "%d failed", routed, digests, report.sent, report.reconciled, report.retried, report.paused,
                     report.failed)
        return report
