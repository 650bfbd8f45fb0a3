"""The posting lifecycle's rules on plain data (bot/core/lifecycle): closing and its guard against a broken
board, when a posting is closed across sources, reposts, how long a posting is open, pullbacks and their
explanation (bot/core/pullback_evidence)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.lifecycle import (
    LONG_OPEN,
    REPOST_WINDOW,
    ClosedLink,
    ClosedPosting,
    ClosingParams,
    Lifecycle,
    LinkListing,
    OpenLink,
    PullbackParams,
    TrackedPosting,
    is_long_open,
    is_repost,
    lifecycle_line,
    lifecycle_of,
    lifecycle_short,
    match_reposts,
    open_days,
    opened_at,
    plan_closing,
    posting_closed_at,
    repost_key,
    title_key,
    track,
    with_lifecycle,
)
from bot.core.lifecycle import detect_pullbacks as pullbacks
from bot.core.pullback_evidence import explain_pullback, pullback_as_dict, pullback_lines
from bot.core.signals import Posting

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
PARAMS = ClosingParams()


def links(n: int, missing_since: datetime | None = None) -> list[OpenLink]:
    return [OpenLink(i, f"job-{i}", missing_since) for i in range(n)]


def test_a_posting_the_poll_no_longer_lists_closes_with_the_polls_time() -> None:
    plan = plan_closing(links(10), [], {f"job-{i}" for i in range(1, 10)}, now=NOW, params=PARAMS)
    assert plan.close == ((0, NOW),) and plan.hold == () and plan.note is None


def test_a_closed_posting_listed_again_reopens_and_a_closed_one_still_missing_stays_closed() -> None:
    plan = plan_closing(links(2), [ClosedLink(7, "job-7"), ClosedLink(8, "job-8")], {"job-0", "job-1", "job-7"},
                        now=NOW, params=PARAMS)
    assert plan.reopen == (7,) and plan.close == ()


def test_a_mass_disappearance_is_held_then_confirmed_with_the_time_it_was_first_seen() -> None:
    first = plan_closing(links(10), [], {"job-0", "job-1"}, now=NOW, params=PARAMS)
    assert first.close == () and first.hold == tuple(range(2, 10))
    assert first.note and "8 of 10 open postings left the board at once" in first.note
    later = NOW + timedelta(hours=1)
    held = [OpenLink(i, f"job-{i}", NOW if i >= 2 else None) for i in range(10)]
    second = plan_closing(held, [], {"job-0", "job-1", "job-2"}, now=later, params=PARAMS)
    assert second.close == tuple((i, NOW) for i in range(3, 10))  # closed when first found gone
    assert second.relisted == (2,)  # back on the board: its hold is undone
    assert second.note and "7 postings found gone by the last poll are closed" in second.note


def test_a_small_board_changing_wholly_or_a_big_one_losing_a_few_closes_at_once() -> None:
    assert len(plan_closing(links(4), [], set(), now=NOW, params=PARAMS).close) == 4  # under mass_min
    assert len(plan_closing(links(20), [], {f"job-{i}" for i in range(11)}, now=NOW, params=PARAMS).close) == 9
    held = plan_closing(links(20), [], {f"job-{i}" for i in range(9)}, now=NOW, params=PARAMS)
    assert held.close == () and len(held.hold) == 11  # 11 of 20 is more than half


def test_a_confirmed_empty_board_closes_everything_with_the_first_empty_polls_time() -> None:
    first_empty = NOW - timedelta(minutes=2)
    plan = plan_closing(links(30), [], set(), now=NOW, params=PARAMS, empty_since=first_empty)
    assert plan.close == tuple((i, first_empty) for i in range(30)) and plan.hold == ()
    assert plan.note and "its 30 open postings are closed" in plan.note


def test_a_posting_closes_only_when_no_active_source_lists_it() -> None:
    gone, later = NOW - timedelta(days=2), NOW - timedelta(days=1)
    assert posting_closed_at([LinkListing(gone, True), LinkListing(None, True)]) is None
    assert posting_closed_at([LinkListing(gone, True), LinkListing(later, True)]) == later
    assert posting_closed_at([LinkListing(gone, True), LinkListing(None, False)]) == gone  # a removed source
    assert posting_closed_at([LinkListing(None, False)]) is None
    assert posting_closed_at([]) is None


def test_titles_and_keys_for_reposts() -> None:
    assert title_key("Warehouse Associate – Nights!") == title_key("warehouse  associate (nights)")
    assert title_key("\x00\x00") == "" and len(title_key("Ops " * 10_000)) <= 300
    assert repost_key(None, "Picker", ["Seattle"]) is None and repost_key("kestrel", "  -  ", []) is None
    assert repost_key("kestrel", "Picker", ["Seattle", "Seattle"]) == repost_key("kestrel", "PICKER", ["Seattle"])


def test_a_new_posting_like_one_closed_within_the_window_is_a_repost() -> None:
    key = repost_key("kestrel", "Warehouse Associate", ["Seattle"])
    old = ClosedPosting(1, key, NOW - timedelta(days=3))
    assert is_repost(key, old, at=NOW)
    assert not is_repost(repost_key("kestrel", "Warehouse Associate", ["Reno"]), old, at=NOW)  # another metro
    assert not is_repost(repost_key("acme", "Warehouse Associate", ["Seattle"]), old, at=NOW)  # another company
    assert not is_repost(repost_key("kestrel", "Forklift Operator", ["Seattle"]), old, at=NOW)
    assert not is_repost(key, ClosedPosting(1, key, NOW - REPOST_WINDOW - timedelta(hours=1)), at=NOW)  # too long ago
    assert not is_repost(key, ClosedPosting(1, key, NOW + timedelta(hours=1)), at=NOW)  # closed after
    assert not is_repost(None, old, at=NOW)


def test_each_closed_posting_is_reposted_once_the_latest_first() -> None:
    key = repost_key("kestrel", "Picker", ["Seattle"])
    closed = [ClosedPosting(1, key, NOW - timedelta(days=9)), ClosedPosting(2, key, NOW - timedelta(days=1))]
    matches = match_reposts([(10, key), (11, key), (12, key)], closed, at=NOW)
    assert matches == {10: 2, 11: 1}  # the third new picker is new demand


def test_how_long_a_posting_is_open() -> None:
    first_seen = NOW - timedelta(days=10)
    assert opened_at(NOW - timedelta(days=30), first_seen) == NOW - timedelta(days=30)  # the board's date
    assert opened_at(NOW, first_seen) == first_seen  # a board date after first seen is an edit
    assert opened_at(None, first_seen) == first_seen
    assert opened_at(datetime(1990, 1, 1, tzinfo=UTC), first_seen) == first_seen  # absurdly old
    assert open_days(NOW - timedelta(days=3, hours=5), None, NOW) == 3
    assert open_days(NOW - timedelta(days=20), NOW - timedelta(days=2), NOW) == 18
    assert open_days(NOW + timedelta(days=1), None, NOW) == 0
    assert not is_long_open(NOW - LONG_OPEN, None, NOW)
    assert is_long_open(NOW - LONG_OPEN - timedelta(hours=1), None, NOW)
    assert not is_long_open(NOW - timedelta(days=90), NOW - timedelta(days=50), NOW)  # closed after 40 days


def test_lifecycle_lines_say_open_since_closed_after_and_repost() -> None:
    opened = datetime(2026, 11, 2, 9, tzinfo=UTC)
    assert lifecycle_line(Lifecycle(1, opened), NOW) == "open since 2 Nov 2026 (29 days)"
    closed = Lifecycle(1, opened, closed_at=datetime(2026, 11, 20, 10, tzinfo=UTC), repost_of=None)
    assert lifecycle_line(closed, NOW) == "closed 20 Nov 2026 after 18 days"
    assert lifecycle_short(closed, NOW) == "closed 18d"
    old = Lifecycle(2, NOW - timedelta(days=75), repost_of=1)
    assert lifecycle_line(old, NOW).endswith("(75 days); open a long time; repost of an earlier posting")
    assert lifecycle_short(old, NOW) == "open 75d long repost"
    unknown = Lifecycle(3, opened, closed_at=NOW - timedelta(days=1), closed_before_tracking=True)
    assert lifecycle_line(unknown, NOW) == "closed by 30 Nov 2026 (open at least since 2 Nov 2026)"
    today = NOW - timedelta(hours=3)
    assert lifecycle_line(Lifecycle(4, today), NOW).endswith("(under a day)")
    assert lifecycle_line(Lifecycle(5, today, closed_at=NOW), NOW).endswith(", the day it opened")


def posting(n: int, *, title: str = "Warehouse Associate", metro: str = "Seattle", company: str = "Kestrel",
            days_ago: int = 30) -> Posting:
    return Posting(item_id=n, company=company, title=title, function="fulfillment_warehouse", metros=(metro,),
                   first_seen_at=NOW - timedelta(days=days_ago))


def test_half_of_a_groups_open_roles_closing_within_a_week_is_a_pullback() -> None:
    tracked = [TrackedPosting(posting(n), closed_at=NOW - timedelta(days=n + 1) if n < 3 else None)
               for n in range(6)]
    found = pullbacks(tracked, now=NOW)
    assert len(found) == 1
    finding = found[0]
    assert (finding.company, finding.metro, finding.reason, finding.baseline) == ("Kestrel", "Seattle", "pullback", 6.0)
    assert finding.item_ids == (2, 1, 0) and finding.count == 3  # oldest closing first
    assert finding.family == "fulfillment_logistics"


def test_no_pullback_from_few_closings_small_groups_old_closings_reposts_or_untracked_closings() -> None:
    def closed(n: int, days: float = 1, **kw: object) -> TrackedPosting:
        return TrackedPosting(posting(n), closed_at=NOW - timedelta(days=days), **kw)  # type: ignore[arg-type]

    open_ = [TrackedPosting(posting(n)) for n in range(10, 14)]
    assert pullbacks([closed(1), *open_], now=NOW) == []  # 1 of 5
    assert pullbacks([closed(1), closed(2), TrackedPosting(posting(3))], now=NOW) == []  # 3 open: under min_open
    assert pullbacks([closed(n, days=9) for n in range(4)] + open_, now=NOW) == []  # closed before the week
    reposts = [TrackedPosting(posting(20 + n, days_ago=1), repost_of=n) for n in range(4)]
    assert pullbacks([closed(n) for n in range(4)] + open_[:2] + reposts, now=NOW) == []  # they came back
    untracked = [closed(n, closed_before_tracking=True) for n in range(4)]
    assert pullbacks(untracked + open_[:2], now=NOW) == []
    new_this_week = [TrackedPosting(posting(n, days_ago=3), closed_at=NOW - timedelta(days=1)) for n in range(4)]
    assert pullbacks(new_this_week, now=NOW) == []  # not open a week ago


def test_pullback_parameters_and_groups_by_metro_and_company() -> None:
    tracked = [TrackedPosting(posting(n, metro="Reno"), closed_at=NOW - timedelta(days=1)) for n in range(2)]
    tracked += [TrackedPosting(posting(10 + n, metro="Reno")) for n in range(2)]
    tracked += [TrackedPosting(posting(20 + n, company="Acme"), closed_at=NOW - timedelta(days=1)) for n in range(4)]
    found = pullbacks(tracked, now=NOW)
    assert [(f.company, f.metro, f.count) for f in found] == [("Acme", "Seattle", 4), ("Kestrel", "Reno", 2)]
    strict = pullbacks(tracked, now=NOW, params=PullbackParams(min_open=5))
    assert strict == []


def burst(days_ago: int = 30, n: int = 8) -> list[Posting]:
    """A hiring burst: `n` warehouse roles in Seattle posted the same day."""
    return [posting(n_, days_ago=days_ago) for n_ in range(n)]


def test_a_burst_filled_at_the_usual_pace_is_not_a_pullback() -> None:
    """Eight roles posted together a month ago; four close over the last week, each a day or two after the last
    (hires made one by one): half the group closed within the window, but not together."""
    roles = burst()
    gaps = [6.5, 4.5, 2.5, 0.5]  # days ago
    filled = [TrackedPosting(p, closed_at=NOW - timedelta(days=gaps[n]) if n < 4 else None)
              for n, p in enumerate(roles)]
    assert pullbacks(filled, now=NOW) == []
    assert explain_pullback(filled, ("Kestrel", "fulfillment_logistics", "Seattle"), now=NOW).closed_together == 2


def test_the_same_roles_withdrawn_at_once_are_a_pullback_explained_as_such() -> None:
    """The same four roles taken down within a day of each other: a pullback, and its explanation says they went
    together."""
    roles = burst()
    withdrawn = [TrackedPosting(p, closed_at=NOW - timedelta(days=3, hours=n * 5) if n < 4 else None)
                 for n, p in enumerate(roles)]
    found = pullbacks(withdrawn, now=NOW)
    assert [(f.metro, f.count, f.baseline) for f in found] == [("Seattle", 4, 8.0)]
    evidence = explain_pullback(withdrawn, found[0].key, now=NOW)
    assert (evidence.found, evidence.closed_together, evidence.opened_since) == (True, 4, 0)
    why, thresholds = (text for _, text in pullback_lines(evidence)[:2])
    assert "4 of the 8 roles open on" in why and "4 of them within 2 days of each other; 4 still open" in why
    assert "at least 50% of them closed within it, as many within 2 days of each other" in thresholds
    assert "a closing counts once it is a day old (a re-listing's reposts come back first)" in thresholds
    assert pullback_as_dict(evidence)["thresholds"]["together_hours"] == 48.0
    assert pullback_as_dict(evidence)["thresholds"]["settle_hours"] == 24.0


def test_closings_count_once_a_day_old_so_a_relisting_s_reposts_come_back_first() -> None:
    """A re-listing takes roles down and puts them back a poll or more later. Four of eight roles gone six hours
    ago are no pullback yet; when their reposts arrive there is none; if nothing comes back, a day after the
    closings it is one."""
    roles = burst()
    gone = [TrackedPosting(p, closed_at=NOW - timedelta(hours=6) if n < 4 else None) for n, p in enumerate(roles)]
    assert pullbacks(gone, now=NOW) == []  # too fresh to tell from a re-listing
    later = NOW + timedelta(hours=18)
    reposts = [TrackedPosting(posting(100 + n, days_ago=0), repost_of=n) for n in range(4)]
    assert pullbacks(gone + reposts, now=later) == []  # they came back: a re-listing
    assert [(f.count, f.baseline) for f in pullbacks(gone, now=later)] == [(4, 8.0)]  # nothing came back
    assert pullbacks(gone, now=later, params=PullbackParams(settle=timedelta(days=2))) == []


def test_the_explanation_counts_roles_opened_since_and_says_when_the_rule_no_longer_finds_it() -> None:
    """Three new roles posted this week beside the four withdrawn: said, not subtracted (a batch partly taken
    down while the rest is still being posted is still a pullback). Spread out again, the rule no longer finds
    it and the explanation says so."""
    withdrawn = [TrackedPosting(p, closed_at=NOW - timedelta(days=2) if n < 4 else None)
                 for n, p in enumerate(burst())]
    opened = [TrackedPosting(posting(20 + n, days_ago=3)) for n in range(3)]
    opened.append(TrackedPosting(posting(30, days_ago=2), closed_at=NOW - timedelta(days=1)))  # gone again
    evidence = explain_pullback(withdrawn + opened, ("Kestrel", "fulfillment_logistics", "Seattle"), now=NOW)
    assert (evidence.found, evidence.opened_since) == (True, 3)
    assert pullback_lines(evidence)[0][1].endswith("; 4 still open; 3 opened since")
    assert pullback_as_dict(evidence)["opened_since"] == 3
    narrow = PullbackParams(together=timedelta(hours=12))
    assert explain_pullback(withdrawn, ("Kestrel", "fulfillment_logistics", "Seattle"), now=NOW,
                            params=narrow).found  # all four went at once
    spread = [TrackedPosting(p, closed_at=NOW - timedelta(days=n + 1) if n < 4 else None)
              for n, p in enumerate(burst())]
    evidence = explain_pullback(spread, ("Kestrel", "fulfillment_logistics", "Seattle"), now=NOW, params=narrow)
    why = pullback_lines(evidence)[0][1]
    assert not evidence.found and "closed by Dec 1, no two of them within 12 hours; 4 still open" in why
    assert why.endswith("the rules no longer find it (a role reopened or was reposted, or the settings changed)")


def test_track_joins_postings_with_their_lifecycles() -> None:
    p = [posting(1), posting(2)]
    joined = track(p, {1: Lifecycle(1, NOW, closed_at=NOW, repost_of=7)})
    assert joined == [TrackedPosting(p[0], NOW, False, 7), TrackedPosting(p[1])]


def test_evidence_text_carries_the_lifecycle_and_gives_it_back() -> None:
    life = Lifecycle(1, datetime(2026, 11, 2, tzinfo=UTC), closed_at=datetime(2026, 11, 20, tzinfo=UTC))
    text = with_lifecycle("Pick and pack. Nights.", life, NOW)
    assert text == "Posting closed 20 Nov 2026 after 18 days. Pick and pack. Nights."
    assert lifecycle_of(text) == "closed 20 Nov 2026 after 18 days"
    assert lifecycle_of(with_lifecycle("", life, NOW)) == "closed 20 Nov 2026 after 18 days"
    assert lifecycle_of("Posting manager wanted. Apply.") is None and lifecycle_of("Pick and pack.") is None
