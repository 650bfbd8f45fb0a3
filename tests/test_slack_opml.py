"""`/brief import URL` through the real Bolt app (signed requests, the recording Slack Web API), with the OPML file
and its feeds on a local HTTP server and the SSRF guard on (only 127.0.0.1 allowed), on SQLite and PostgreSQL:
the channel follows what the file lists, the reply says what was added, already followed or refused and why,
and a second import adds nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from bot.demo.server import LocalServer, Route
from bot.settings import Settings
from bot.slack.commands.parse import USAGE
from bot.storage.models import Channel, Source, Subscription
from tests.conftest import SLACK_SECRET, make_settings
from tests.feeds import numbered, rss
from tests.slack_server import SlackServer
from tests.test_slack_commands import PostCommand, defused, post_command  # noqa: F401 - the fixture

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Market</title></head><body>
  <outline text="Market">
    <outline text="Kestrel Wire" type="rss" xmlUrl="{kestrel}"/>
    <outline text="Harbor Ledger" type="rss" xmlUrl="{ledger}"/>
  </outline>
  <outline text="Intranet" type="rss" xmlUrl="http://10.20.30.40/feed.xml"/>
  <outline text="Old FTP" type="rss" xmlUrl="ftp://files.example/feed.xml"/>
  <outline text="&lt;!channel&gt; *bold*" type="rss" xmlUrl="http://192.168.1.1/x"/>
</body></opml>
"""


@pytest.fixture
def slack_settings(db_url: str, slack: SlackServer) -> Settings:
    return make_settings(db_url, slack_bot_token="xoxb-test", slack_signing_secret=SLACK_SECRET,
                         slack_api_url=slack.api_url, briefbot_channel_post_interval=0.0, briefbot_slack_timeout=2.0,
                         briefbot_allow_private_urls=False, briefbot_allowed_networks="127.0.0.1/32")


@pytest.fixture
def opml_url(server: LocalServer) -> str:
    server.route("/kestrel.xml", Route(body=rss(numbered(2), title="Kestrel Wire")))
    server.route("/ledger.xml", Route(body=rss(numbered(2), title="Harbor Ledger")))
    body = OPML.format(kestrel=server.url("/kestrel.xml"), ledger=server.url("/ledger.xml"))
    server.route("/subs.opml", Route(body=body.encode(), content_type="text/x-opml"))
    return server.url("/subs.opml")


def test_import_follows_what_the_file_lists_and_says_what_was_refused(
        slack_ctx: Any, server: LocalServer, opml_url: str, post_command: PostCommand) -> None:  # noqa: F811
    ack, reply = post_command(f"import <{opml_url}> digest")
    assert ack["text"] == f"Reading the OPML file at `{defused(opml_url)} digest`…"  # as follow says it
    assert reply is not None
    lines = reply.splitlines()
    assert lines[0] == (f"Imported the OPML file at `{defused(opml_url)}` into this channel: 2 added, "
                        "0 already followed, 3 refused. Alerts for the feeds added: digest.")
    assert lines[1:4] == ["*Now following here* (2)", "• Kestrel Wire · feed", "• Harbor Ledger · feed"]
    assert lines[4] == "*Refused* (3)"
    assert lines[5].startswith("• Intranet: refused 10.20.30.40: it resolves to 10.20.30.40, a private")
    assert "&lt;!channel&gt; ∗bold∗: refused 192.168.1.1" in lines[6]  # escaped: no @channel, no mrkdwn
    assert lines[7] == "• outline 5 (Old FTP): only http and https feeds are followed, not ftp: URLs"
    assert server.hits["/kestrel.xml"] == server.hits["/ledger.xml"] == 0  # type="rss": not fetched now

    with Session(slack_ctx.engine) as session:
        sources = list(session.exec(select(Source)))
        subs = list(session.exec(select(Subscription)))
        channel = session.exec(select(Channel)).one()
    assert sorted((s.team_id, s.kind, s.title) for s in sources) == [
        ("T1", "feed", "Harbor Ledger"), ("T1", "feed", "Kestrel Wire")]
    assert sorted((s.channel_id, s.alert) for s in subs) == [("C1", "digest"), ("C1", "digest")]
    assert (channel.team_id, channel.channel_id) == ("T1", "C1")

    _, again = post_command(f"import {opml_url}")
    assert again is not None and again.splitlines()[:4] == [
        f"Imported the OPML file at `{defused(opml_url)}` into this channel: 0 added, 2 already followed, 3 refused.",
        "*Already followed here* (2)", "• Kestrel Wire · feed", "• Harbor Ledger · feed"]
    _, listing = post_command("list")
    assert listing is not None and "Kestrel Wire · feed · new · alerts: digest" in listing


def test_import_of_what_is_no_opml_file_says_why_and_follows_nothing(
        slack_ctx: Any, server: LocalServer, post_command: PostCommand) -> None:  # noqa: F811
    server.route("/feed.xml", Route(body=rss(numbered(1))))
    server.route("/laughs.opml", Route(body=b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><opml/>'))
    cases = [
        (server.url("/feed.xml"), "as OPML: not an OPML file: its root element is &lt;rss&gt;."),
        (server.url("/laughs.opml"), "as OPML: the file declares a DTD"),
        (server.url("/missing.opml"), "Couldn't fetch"),
        ("http://10.9.8.7/subs.opml", "Couldn't fetch"),
    ]
    for url, why in cases:
        _, reply = post_command(f"import {url}")
        assert reply is not None and why in reply and f"`{defused(url)}`" in reply, reply
    _, reply = post_command("import ftp://files.example/subs.opml")
    assert reply == ("Couldn't import `ftp\u2060://files.example/subs.opml`: only http and https URLs are fetched, "
                     f"not ftp: URLs.\nUsage: {USAGE['import']}")
    assert post_command("import", reply=False)[0]["text"] == "Usage: " + USAGE["import"]
    with Session(slack_ctx.engine) as session:
        assert list(session.exec(select(Source))) == [] and list(session.exec(select(Subscription))) == []
