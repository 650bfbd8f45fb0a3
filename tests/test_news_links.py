"""News and hiring together: the pure matcher, and on real databases a signal's brief that cites the news about
its company and a story's brief that mentions the company's open signal, each workspace on its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.analysis.run import analyse
from bot.core.companies import CompanyIdentity
from bot.core.news_links import SignalFacts, StoryFacts, company_names, signals_in_story, stories_about
from bot.settings import Settings
from bot.storage.models import Brief
from tests.history import add_items, item, source
from tests.test_hostile_ingest import WRITER
from tests.test_signal_update import board, post_as

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TIKTOK = CompanyIdentity(aliases={"bytedance": "tiktok"}, written=(("TikTok", "tiktok"), ("ByteDance", "bytedance")))


def story(n: int, headline: str, *, titles: tuple[str, ...] = (), entities: tuple[str, ...] = (),
          outlets: tuple[str, ...] = ("A", "B"), days_ago: int = 1) -> StoryFacts:
    return StoryFacts(story_id=n, headline=headline, titles=titles, entities=entities, outlets=outlets,
                      last_at=NOW - timedelta(days=days_ago))


def test_a_story_is_about_a_company_it_names_under_any_of_its_names() -> None:
    names = company_names(TIKTOK, "tiktok", ["TikTok Inc.", "TT"])  # "TT" is too short to look for
    assert sorted(names) == ["ByteDance", "TikTok", "TikTok Inc."]
    stories = [
        story(1, "ByteDance plans Seattle fulfillment centre", outlets=("A", "B", "C")),
        story(2, "Warehouse market cools", titles=("TikTok Shop leases space in Kent",)),
        story(3, "Retail roundup", entities=("TikTok Inc",)),  # its brief named the company
        story(4, "Tiktoks of the clock: watchmakers hire", outlets=("A",)),  # not the company, whole words only
        story(5, "TikTok opens Dallas office", days_ago=60),  # too old for this window
    ]
    found = stories_about(stories, key="tiktok", names=names, identity=TIKTOK, since=NOW - timedelta(days=30),
                          limit=5)
    assert [s.story_id for s in found] == [1, 2, 3]  # the most widely reported first


def test_a_story_finds_the_open_signals_of_the_companies_it_names() -> None:
    signals = [SignalFacts(1, "TikTok", ("TikTok", "ByteDance"), "fulfillment and logistics", "Seattle", 14, "surge",
                           NOW),
               SignalFacts(2, "Orchard Foods", ("Orchard Foods",), "sales", "Boise", 3, "new_metro", NOW)]
    assert [s.signal_id for s in signals_in_story(story(1, "ByteDance expands in Kent"), signals, TIKTOK)] == [1]
    assert signals_in_story(story(2, "Orchards bloom early"), signals, TIKTOK) == []


def kestrel_signal_and_story(engine: Engine, clock: Any, team: str, *, hiring: bool = True) -> None:
    """Kestrel Commerce's three new warehouse roles around Seattle (a new-metro signal), and two outlets'
    reports of its Kent fulfillment centre (a story)."""
    jobs = board(engine, clock, team=team)
    post_as(engine, clock, jobs, "Kestrel Commerce", ["Software Engineer"], "Bellingham", backfill=True)
    clock.now += timedelta(days=1)
    if hiring:
        post_as(engine, clock, jobs, "Kestrel Commerce", ["Warehouse Associate", "Forklift Operator", "Picker"],
                "Kent")
    news = source(engine, team, f"https://news.example/{team}/feed", clock())
    add_items(engine, [
        item(team, news, "Kestrel Commerce leases fulfillment center in Kent", url=f"https://news.example/{team}/1",
             at=clock() - timedelta(hours=3), outlet="The Harbor Ledger"),
        item(team, news, "Kestrel Commerce leases Kent fulfillment center", url=f"https://news.example/{team}/2",
             at=clock() - timedelta(hours=2), outlet="Puget Business Journal"),
    ])


def test_a_companys_signal_and_its_news_meet_in_their_briefs(settings: Settings, engine: Engine, clock: Any) -> None:
    kestrel_signal_and_story(engine, clock, "T1")
    kestrel_signal_and_story(engine, clock, "T2", hiring=False)  # the same news, no hiring signal
    analyse(engine=engine, clock=clock, settings=settings, writer=WRITER)
    with Session(engine) as session:
        briefs = {(b.team_id, b.subject): b for b in session.exec(select(Brief))}
    signal, story_brief = briefs[("T1", "signal")], briefs[("T1", "story")]
    assert "In the news: 2 outlets report “Kestrel Commerce leases" in signal.summary
    cited = [s for s in signal.sources if s.get("related") == "story"]
    assert len(cited) == 1 and cited[0]["url"].startswith("https://news.example/T1/")
    assert "Also hiring: Kestrel Commerce, 3 fulfillment and logistics roles around Seattle" in story_brief.summary
    assert ("T2", "signal") not in briefs and "Also hiring" not in briefs[("T2", "story")].summary
