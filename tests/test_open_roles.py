"""What a company has open now (bot/core/open_roles): groups by family and metro, titles, weekly trend. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.open_roles import NO_PLACE, open_roles, roles_from_dict, summary_lines, trend_text
from bot.core.signals import Posting

NOW = datetime(2025, 6, 30, 12, tzinfo=UTC)


def posting(n: int, title: str, function: str, metros: tuple[str, ...], *, days_ago: float, dated: bool = True,
            backfill: bool = True, company: str = "Kestrel") -> Posting:
    """A posting from the board's first poll (seen at NOW), dated `days_ago` by the board when `dated`."""
    return Posting(item_id=n, company=company, title=title, function=function, metros=metros, first_seen_at=NOW,
                   backfill=backfill, posted_at=NOW - timedelta(days=days_ago) if dated else None)


def kestrel() -> list[Posting]:
    return [
        posting(1, "Warehouse Associate", "fulfillment_warehouse", ("Seattle",), days_ago=1),
        posting(2, "Warehouse Associate", "fulfillment_warehouse", ("Seattle",), days_ago=2),
        posting(3, "Forklift Operator", "fulfillment_warehouse", ("Seattle",), days_ago=9),
        posting(4, "Supply Chain Analyst", "logistics_supply_chain", ("Seattle", "Dallas"), days_ago=30),
        posting(5, "Software Engineer", "software_engineering", ("Dallas",), days_ago=100),  # before the trend
        posting(6, "Software Engineer", "software_engineering", (), days_ago=0, dated=False),  # undated backfill
    ]


def test_groups_count_each_posting_once_per_metro_and_once_in_the_total() -> None:
    roles = open_roles(kestrel(), now=NOW)
    assert roles.company == "Kestrel" and roles.total == 6
    groups = {(g.family, g.metro): g.count for g in roles.groups}
    assert groups == {("fulfillment_logistics", "Seattle"): 4, ("fulfillment_logistics", "Dallas"): 1,
                      ("software_engineering", "Dallas"): 1, ("software_engineering", NO_PLACE): 1}
    assert roles.groups[0].label == "fulfillment and logistics" and roles.groups[0].metro == "Seattle"
    assert roles.groups[0].titles == (("Warehouse Associate", 2), ("Forklift Operator", 1),
                                      ("Supply Chain Analyst", 1))
    assert roles.families == (("fulfillment_logistics", 4), ("software_engineering", 2))
    assert roles.metros == (("Seattle", 4), ("Dallas", 2), (NO_PLACE, 1))
    assert roles.metro_count == 2  # "place not given" is not a metro


def test_the_trend_counts_weeks_by_posting_date_and_leaves_undated_backfill_out() -> None:
    roles = open_roles(kestrel(), now=NOW)
    # weeks end at NOW: days 1 and 2 in the last week, day 9 the one before, day 30 four weeks before the last;
    # day 100 is older than the trend and the undated posting has no time of its own.
    assert roles.weekly == (0, 0, 0, 1, 0, 0, 1, 2)
    assert roles.undated == 1
    assert roles.groups[0].weekly == (0, 0, 0, 1, 0, 0, 1, 2)
    assert trend_text(roles.weekly) == "▁▁▁▅▁▁▅█ (0 0 0 1 0 0 1 2 a week)"


def test_postings_seen_after_the_first_poll_count_by_when_they_were_seen() -> None:
    later = Posting(item_id=7, company="Kestrel", title="Picker", function="fulfillment_warehouse",
                    metros=("Seattle",), first_seen_at=NOW - timedelta(days=3), backfill=False)
    assert open_roles([later], now=NOW).weekly[-1] == 1 and open_roles([later], now=NOW).undated == 0


def test_is_open_filters_and_an_empty_summary_says_so() -> None:
    roles = open_roles(kestrel(), now=NOW, is_open=lambda p: p.item_id in (1, 5))
    assert roles.total == 2 and {g.metro for g in roles.groups} == {"Seattle", "Dallas"}
    nothing = open_roles([], now=NOW, company="Kestrel")
    assert (nothing.total, nothing.groups, nothing.weekly) == (0, (), (0,) * 8)
    assert summary_lines(nothing) == ["Kestrel lists no open roles"]


def test_summary_lines_and_the_dict_round_trip() -> None:
    roles = open_roles(kestrel(), now=NOW)
    lines = summary_lines(roles, max_groups=2)
    assert lines[0] == "Kestrel: 6 open roles in 2 functions and 2 metros"
    assert "1 undated" in lines[1]
    assert lines[2].startswith("fulfillment and logistics · Seattle: 4 open, ▁▁▁▅▁▁▅█")
    assert lines[2].endswith("e.g. Warehouse Associate (2), Forklift Operator, Supply Chain Analyst")
    assert lines[-1] == "…and 2 smaller groups"
    data = roles.as_dict(max_groups=2)
    assert data["groups_total"] == 4 and len(data["groups"]) == 2 and data["functions"] == 2
    back = roles_from_dict(data)
    assert summary_lines(back, max_groups=2) == lines
    assert back.total == roles.total and back.weekly == roles.weekly and back.at == NOW


@pytest.mark.parametrize("bad", [None, {}, {"company": "x"}, {**open_roles([], now=NOW).as_dict(), "total": "many"},
                                 {**open_roles([], now=NOW).as_dict(), "groups": [{"family": 1}]}])
def test_a_stored_summary_of_the_wrong_shape_is_one_value_error(bad: object) -> None:
    with pytest.raises(ValueError, match="not an open-roles summary"):
        roles_from_dict(bad)


def test_company_is_the_name_the_postings_give_most_often_and_long_titles_are_cut() -> None:
    postings = [posting(1, "x" * 500, "sales", ("Boise, Idaho",), days_ago=1, company="Kestrel Inc."),
                posting(2, "Rep", "sales", ("Boise, Idaho",), days_ago=1, company="Kestrel"),
                posting(3, "Rep", "sales", ("Boise, Idaho",), days_ago=1, company="Kestrel")]
    roles = open_roles(postings, now=NOW)
    assert roles.company == "Kestrel"
    assert roles.groups[0].titles == (("Rep", 2), ("x" * 200, 1))
    assert open_roles(postings, now=NOW, company="Kestrel Commerce").company == "Kestrel Commerce"
