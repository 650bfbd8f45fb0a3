"""Hiring signals on hand-built histories: what is a signal, and (as important) what is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.jobs import job_function, metro_of, metros_of
from bot.core.signals import Posting, SignalParams, detect_signals

NOW = datetime(2026, 11, 24, 18, tzinfo=UTC)
PARAMS = SignalParams()
_ids = iter(range(1, 10_000))


def posting(title: str, city: str, region: str, *, days_ago: float, backfill: bool = False,
            company: str = "Kestrel Commerce", department: str | None = None) -> Posting:
    place = {"city": city, "region": region, "country": "United States", "remote": False}
    return Posting(item_id=next(_ids), company=company, title=title, function=job_function(title, department),
                   metros=tuple(metros_of([place])), first_seen_at=NOW - timedelta(days=days_ago), backfill=backfill)


def summary(postings: list[Posting], now: datetime = NOW) -> list[tuple[str, str, str, str, int]]:
    return [(f.company, f.family, f.metro, f.reason, f.count) for f in detect_signals(postings, now=now, params=PARAMS)]


BACKFILL = [posting(t, c, r, days_ago=1, backfill=True) for t, c, r in [
    ("Senior Software Engineer, Checkout", "San Francisco", "California"),
    ("Staff Backend Engineer", "San Francisco", "California"),
    ("Product Marketing Manager", "New York", "New York"),
    ("Account Executive, Mid-Market", "New York", "New York"),
    ("Data Analyst", "San Francisco", "California"),
    ("Engineering Manager, Payments", "San Francisco", "California"),
]]
SEATTLE = [posting(t, c, "Washington", days_ago=0) for t, c in [
    ("Fulfillment Center Operations Manager", "Kent"), ("Warehouse Associate", "Kent"),
    ("Inbound Logistics Lead", "Seattle"), ("Inventory Control Specialist", "Kent"),
    ("Logistics Program Manager", "Seattle"), ("Outbound Shift Supervisor", "Kent"),
    ("Transportation Coordinator", "Seattle"),
]]


def test_a_company_starts_hiring_warehouse_staff_in_a_new_metro() -> None:
    findings = detect_signals(BACKFILL + SEATTLE, now=NOW, params=PARAMS)
    assert [(f.family, f.metro, f.reason, f.count) for f in findings] == [
        ("fulfillment_logistics", "Seattle", "new_metro", 7)]
    assert dict(findings[0].functions) == {"fulfillment_warehouse": 5, "logistics_supply_chain": 2}
    assert findings[0].titles[0] == "Fulfillment Center Operations Manager"


def test_the_signal_grows_as_more_postings_arrive() -> None:
    first = detect_signals(BACKFILL + SEATTLE[:4], now=NOW, params=PARAMS)
    later = detect_signals(BACKFILL + SEATTLE + [posting("Forklift Operator", "Auburn", "Washington", days_ago=0)],
                           now=NOW, params=PARAMS)
    assert first[0].key == later[0].key and first[0].count == 4 and later[0].count == 8
    assert set(first[0].item_ids) < set(later[0].item_ids)


@pytest.mark.parametrize("postings", [
    pytest.param([posting("Warehouse Associate", "Reno", "Nevada", days_ago=2)], id="one-off posting"),
    pytest.param([posting("Warehouse Associate", "Reno", "Nevada", days_ago=d) for d in (1, 2)],
                 id="two in a new metro"),
    pytest.param([posting(f"Software Engineer {n}", "Austin", "Texas", days_ago=1, backfill=True) for n in range(30)],
                 id="backfill of a newly followed board"),
    pytest.param([posting(f"Warehouse Associate {n}", "Reno", "Nevada", days_ago=3.5 * n) for n in range(24)],
                 id="steady trickle, two a week for twelve weeks"),
])
def test_non_signals(postings: list[Posting]) -> None:
    assert summary(BACKFILL + postings) == []
    # …at every point of the last six weeks, not only today
    for days_back in range(0, 42, 3):
        assert summary(BACKFILL + postings, NOW - timedelta(days=days_back)) == []


def test_a_surge_well_above_the_company_baseline() -> None:
    trickle = [posting(f"Warehouse Associate {n}", "Reno", "Nevada", days_ago=20 + 14 * n) for n in range(6)]
    burst = [posting(f"Warehouse Associate, Shift {n}", "Sparks", "Nevada", days_ago=n % 5) for n in range(8)]
    assert summary(BACKFILL + trickle + burst) == [
        ("Kestrel Commerce", "fulfillment_logistics", "Reno", "surge", 8)]
    assert summary(BACKFILL + trickle + burst[:4]) == []  # four is not "several" next to a baseline of one


def test_a_new_function_in_a_metro_the_company_already_hires_in() -> None:
    seattle_engineers = [posting("Software Engineer", "Seattle", "Washington", days_ago=60, backfill=True)]
    warehouse = [posting("Warehouse Associate", "Kent", "Washington", days_ago=d) for d in (0, 1, 2)]
    assert summary(seattle_engineers + warehouse) == [
        ("Kestrel Commerce", "fulfillment_logistics", "Seattle", "new_function", 3)]
    existing_ops = [*seattle_engineers, posting("Logistics Analyst", "Chicago", "Illinois", days_ago=90)]
    assert summary(existing_ops + warehouse) == [
        ("Kestrel Commerce", "fulfillment_logistics", "Seattle", "new_function_in_metro", 3)]


def test_companies_are_judged_apart() -> None:
    other = [posting("Warehouse Associate", "Kent", "Washington", days_ago=0, company="Tidewater Freight")]
    assert [f.company for f in detect_signals(BACKFILL + SEATTLE + other, now=NOW, params=PARAMS)] == [
        "Kestrel Commerce"]


@pytest.mark.parametrize(("title", "department", "function"), [
    ("Fulfillment Center Operations Manager", None, "fulfillment_warehouse"),
    ("Transportation Coordinator", None, "logistics_supply_chain"),
    ("Senior Software Engineer, Payments", None, "software_engineering"),
    ("Machine Learning Engineer", None, "data_ml"),
    ("Account Executive", None, "sales"),
    ("Associate", "Fulfillment Operations", "fulfillment_warehouse"),
    ("Head of People", None, "people"),
    ("Chief Vibes Officer", None, "other"),
])
def test_job_functions(title: str, department: str | None, function: str) -> None:
    assert job_function(title, department) == function


@pytest.mark.parametrize(("place", "metro"), [
    ({"city": "Kent", "region": "Washington"}, "Seattle"),
    ({"city": "Tacoma", "region": "Washington"}, "Seattle"),
    ({"city": "Jersey City", "region": "New Jersey"}, "New York"),
    ({"city": "Arlington", "region": "Virginia"}, "Washington, D.C."),
    ({"city": "Arlington", "region": "Texas"}, "Dallas–Fort Worth"),
    ({"city": "Boise", "region": "Idaho"}, "Boise, Idaho"),
    ({"city": None, "region": None, "country": "United States", "remote": True}, "Remote (United States)"),
    ({"city": None, "region": None, "country": None}, None),
])
def test_metros(place: dict[str, object], metro: str | None) -> None:
    assert metro_of(place) == metro


def test_no_surge_without_a_window_of_history() -> None:
    # A board followed a week ago: its steady pace is not a surge, whatever the count.
    watched = [posting(f"Warehouse Associate {n}", "Reno", "Nevada", days_ago=7, backfill=True) for n in range(3)]
    pace = [posting(f"Warehouse Associate, Shift {n}", "Reno", "Nevada", days_ago=n % 6) for n in range(6)]
    assert summary(watched + pace) == []
