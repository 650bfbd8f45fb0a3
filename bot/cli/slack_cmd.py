"""`briefbot run` (Socket Mode with the scheduler in one process) and `briefbot serve` (HTTP for Slack,
behind uvicorn; run `briefbot worker` beside it)."""

from __future__ import annotations

import threading

import click

from bot.cli.common import context, load_settings, sole_scheduler
from bot.slack.clients import check_tokens


def register(group: click.Group) -> None:
    @group.command("run")
    def run() -> None:
        """Socket Mode: the Slack app and the scheduler in one process; no public URL needed (one workspace)."""
        from slack_bolt.adapter.socket_mode import SocketModeHandler
        from slack_sdk.errors import SlackApiError

        from bot.slack.app import SlackNotConfigured, build_app
        from bot.worker.scheduler import build_scheduler

        check_tokens(load_settings(), socket_mode=True)  # a wrong, refused or unverifiable token stops here
        ctx = context()
        try:
            app = build_app(ctx, socket_mode=True)
        except SlackNotConfigured as exc:
            raise click.ClickException(str(exc)) from exc
        token = ctx.settings.slack_app_token
        assert token is not None  # build_app checked
        with sole_scheduler(ctx.settings):
            scheduler = build_scheduler(ctx, background=True)
            scheduler.start()
            try:
                handler = SocketModeHandler(app, token.get_secret_value())
                handler.connect()  # type: ignore[no-untyped-call]  # apps.connections.open, then the WebSocket
                # Said after connecting, so a refused token is never preceded by "connected". slack_sdk keeps
                # trying a WebSocket that would not open (every 10 s), so that case starts, and says so.
                state = "connected over Socket Mode" if handler.client.is_connected() else (
                    "Socket Mode connection not open yet; retrying")
                click.echo(f"briefbot: {state}; {ctx.writer_label()}. Ctrl-C stops.")
                threading.Event().wait()  # the Socket Mode client's threads do the work
            except (KeyboardInterrupt, SystemExit):
                click.echo("stopped")
            except SlackApiError as exc:  # apps.connections.open refused the app-level token
                raise click.ClickException(f"Slack refused SLACK_APP_TOKEN ({exc.response.get('error')}); copy the "
                                           "app-level token (xapp-…) again from Basic Information") from exc
            finally:
                scheduler.shutdown(wait=False)

    @group.command("serve")
    @click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
    @click.option("--port", type=int, default=None, help="Port (default: PORT, else 3000).")
    @click.option("--workers", type=int, default=None, help="Processes (default: WEB_CONCURRENCY, else 2).")
    def serve(host: str, port: int | None, workers: int | None) -> None:
        """HTTP mode for Slack (events, commands, buttons, OAuth install) under uvicorn. No scheduler here:
        run `briefbot worker` beside it."""
        import uvicorn

        from bot.slack.app import SlackNotConfigured, build_app

        check_tokens(load_settings(), socket_mode=False)
        ctx = context()  # migrates once, before the workers start
        try:
            build_app(ctx)
        except SlackNotConfigured as exc:
            raise click.ClickException(str(exc)) from exc
        uvicorn.run("bot.slack.web:create_asgi", factory=True, host=host, port=port or ctx.settings.port,
                    workers=workers or ctx.settings.web_concurrency, proxy_headers=True, log_level="info")
