"""Hiring signals on hand-built histories: what is a signal, and (as important) what is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.jobs import job_function, metro_of, metros_of
from bot.core.signals import Posting, SignalParams, detect_signals, is_dated, pace_status, posting_time

NOW = datetime(2026, 11, 24, 18, tzinfo=UTC)
PARAMS = SignalParams()
_ids = iter(range(1, 10_000))


def posting(title: str, city: str, region: str, *, days_ago: float, backfill: bool = False,
            company: str = "Kestrel Commerce", department: str | None = None,
            posted_days_ago: float | None = None) -> Posting:
    """First seen `days_ago`; dated by its board `posted_days_ago` when given (else undated)."""
    place = {"city": city, "region": region, "country": "United States", "remote": False}
    posted = None if posted_days_ago is None else NOW - timedelta(days=posted_days_ago)
    return Posting(item_id=next(_ids), company=company, title=title, function=job_function(title, department),
                   metros=tuple(metros_of([place])), first_seen_at=NOW - timedelta(days=days_ago), backfill=backfill,
                   posted_at=posted)


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
    # Drivers drive; software for drivers and driver-assistance systems is engineering.
    ("Class A CDL Driver", None, "logistics_supply_chain"),
    ("Driver Helper", None, "logistics_supply_chain"),
    ("System Software Engineer - CUDA Driver", None, "software_engineering"),
    ("Linux Kernel Driver Developer", None, "software_engineering"),
    ("Advanced Driver Assistance Systems Engineer", None, "other"),
    ("Screwdriver Assembly Technician", None, "manufacturing"),
    ("Driver - Night Shift", None, "logistics_supply_chain"),
    ("Shuttle Driver", None, "logistics_supply_chain"),
    # A driver platform's office roles keep their own function; a licence is not a driving job.
    ("Software Engineer, Driver Experience", None, "software_engineering"),
    ("Data Scientist, Driver Pricing", None, "data_ml"),
    ("Account Executive - Driver Acquisition", None, "sales"),
    ("Recruiter, Drivers", None, "people"),
    ("Customer Support Specialist, Driver Support", None, "customer_support"),
    ("Caregiver - Valid Driver's License Required", None, "healthcare"),
    ("Staff Lawyer", None, "finance_legal"),
    ("Doctoral Researcher", None, "other"),  # not a doctor
    ("Family Medicine Doctor", None, "healthcare"),
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


# Baselines from posting dates: a board's own dates give the company's pace, backfill included.

def dated_backfill(first_poll_days_ago: float, *, long_open: int = 2) -> list[Posting]:
    """A board first polled `first_poll_days_ago`: eight Seattle fulfillment roles posted over the ten days
    before, `long_open` Seattle fulfillment roles open for four and six weeks (they date that group's pace),
    and older engineering roles in San Francisco (30 to 60 days old)."""
    seattle = [posting(f"Warehouse Associate {n}", "Kent", "Washington", days_ago=first_poll_days_ago, backfill=True,
                       posted_days_ago=first_poll_days_ago + 1 + 9 * n / 7) for n in range(8)]
    lead = [posting(f"Warehouse Lead {n}", "Seattle", "Washington", days_ago=first_poll_days_ago, backfill=True,
                    posted_days_ago=first_poll_days_ago + 28 + 15 * n) for n in range(long_open)]
    older = [posting(f"Software Engineer {n}", "San Francisco", "California", days_ago=first_poll_days_ago,
                     backfill=True, posted_days_ago=30 + 15 * n) for n in range(3)]
    return seattle + lead + older


def test_a_surge_in_the_first_poll_after_a_dated_backfill() -> None:
    backfill = dated_backfill(first_poll_days_ago=2)
    assert summary(backfill, NOW - timedelta(days=2)) == []  # the first poll alone: no signal
    new = [posting(f"Fulfillment Associate {n}", "Seattle", "Washington", days_ago=0, posted_days_ago=0.1)
           for n in range(6)]
    # The window's postings are the 8 dated in it (backfill) and the 6 new: 14, against a pace of 0.9 a window
    # (the two long-open roles over the 31 days their dates cover).
    findings = detect_signals(backfill + new, now=NOW, params=PARAMS)
    assert [(f.metro, f.reason, f.count, f.baseline) for f in findings] == [("Seattle", "surge", 14, 0.9)]
    # A surge is news: one or four new postings beside the dated backfill are not one.
    assert summary(backfill + new[:1]) == [] and summary(backfill + new[:4]) == []
    # Without long-open roles in the group nothing dates its pace: old roles elsewhere (San Francisco) say
    # nothing about it, so a surge waits until the company has been watched for a window before the window.
    assert summary(dated_backfill(first_poll_days_ago=2, long_open=0) + new) == []


def test_an_evergreen_posting_elsewhere_never_makes_a_steady_group_surge() -> None:
    """A board lists only open roles: a steady company's filled roles are gone from its first poll, and one
    long-open "talent community" posting in another function must not stand in for this group's pace."""
    followed = 60  # days ago
    evergreen = posting("Talent Community", "Seattle", "Washington", days_ago=followed, backfill=True,
                        posted_days_ago=425)
    steady = [posting(f"Warehouse Associate {day}", "Kent", "Washington", days_ago=min(day, followed),
                      backfill=day >= followed, posted_days_ago=day)
              for day in range(followed + 12, -1, -2)]  # one every two days, each open for twelve when followed
    for days_back in range(followed, -1, -1):
        assert summary([evergreen, *steady], NOW - timedelta(days=days_back)) == [], f"{days_back} days ago"


@pytest.mark.parametrize("postings", [
    pytest.param(dated_backfill(first_poll_days_ago=0), id="dated backfill alone"),
    pytest.param([posting(f"Warehouse Associate {n}", "Reno", "Nevada", days_ago=14, backfill=True,
                          posted_days_ago=15 + n) for n in range(60)]
                 + [posting(f"Warehouse Associate, Shift {n}", "Reno", "Nevada", days_ago=n, posted_days_ago=n)
                    for n in range(14)], id="one a day, as the board's dates show it always has"),
    pytest.param([posting(f"Warehouse Associate {n}", "Kent", "Washington", days_ago=2, backfill=True,
                          posted_days_ago=3 + n) for n in range(8)]
                 + [posting(f"Picker {n}", "Seattle", "Washington", days_ago=0, posted_days_ago=0) for n in range(6)],
                 id="dated history shorter than a window before this one: no pace yet"),
    pytest.param([posting(f"Warehouse Associate {n}", "Kent", "Washington", days_ago=0, posted_days_ago=40)
                  for n in range(5)], id="new to us but dated before the window: history, not news"),
    pytest.param([posting(f"Warehouse Associate {n}", "Kent", "Washington", days_ago=2, backfill=True,
                          posted_days_ago=1) for n in range(8)]
                 + [posting("Picker", "Seattle", "Washington", days_ago=0)],
                 id="backfill dated after it was seen is undated history"),
])
def test_dated_non_signals(postings: list[Posting]) -> None:
    assert summary(BACKFILL + postings) == []
    for days_back in range(0, 42, 3):
        assert summary(BACKFILL + postings, NOW - timedelta(days=days_back)) == []


def test_a_dated_surge_well_above_the_dated_pace() -> None:
    pace = [posting(f"Warehouse Associate {n}", "Reno", "Nevada", days_ago=3, backfill=True, posted_days_ago=17 + 7 * n)
            for n in range(10)]  # one a week, dated 17 to 80 days ago: 10 over 66 days, 2.12 per window
    burst = [posting(f"Warehouse Associate, Shift {n}", "Sparks", "Nevada", days_ago=0, posted_days_ago=n % 3)
             for n in range(8)]
    findings = detect_signals(BACKFILL + pace + burst, now=NOW, params=PARAMS)
    assert [(f.metro, f.reason, f.count, f.baseline) for f in findings] == [("Reno", "surge", 8, 2.12)]
    assert summary(BACKFILL + pace + burst[:6]) == []  # six is not three times 2.12


@pytest.mark.parametrize(("posted_days_ago", "time_days_ago"), [
    pytest.param(9.0, 9.0, id="a plausible board date"),
    pytest.param(1.0, 2.0, id="after first seen: an edit time, not a posting date"),
    pytest.param(365 * 56, 2.0, id="1970: a broken date"),
    pytest.param(None, 2.0, id="no date"),
])
def test_a_postings_time(posted_days_ago: float | None, time_days_ago: float) -> None:
    seen = posting("Picker", "Kent", "Washington", days_ago=2, posted_days_ago=posted_days_ago)
    assert posting_time(seen) == NOW - timedelta(days=time_days_ago)
    assert is_dated(seen) is (posted_days_ago == time_days_ago)


def test_when_a_pace_is_known() -> None:
    undated = [posting("Picker", "Kent", "Washington", days_ago=3, backfill=True)]
    status = pace_status(undated, params=PARAMS)
    assert (status.dated, status.ready_at) == (False, NOW - timedelta(days=3) + 2 * PARAMS.window)
    dated = dated_backfill(first_poll_days_ago=2)
    status = pace_status(dated, params=PARAMS)
    assert status.dated and status.history_since == NOW - timedelta(days=60) and status.ready(NOW)
