"""A hiring question about one company ("what else has Kestrel posted in logistics?") is answered with that
company's postings in the families it asks about, not with any board's posting that shares a word with it:
the pure scope and merge, then retrieval over a real database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.ask.retrieve import retrieve
from bot.core.companies import CompanyIdentity, builtin_identity, company_key, held_by
from bot.core.hiring_question import HiringScope, asked_families, hiring_scope, scoped
from bot.core.question import read_question
from bot.core.retrieval import Candidate
from bot.storage.db import session_scope
from bot.storage.models import Item, Signal, SignalItem
from tests.history import add_items, item, source

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
BOARDS = ["Kestrel Commerce", "Tidewater Freight", "Fernhill"]


def scope_of(text: str, identity: CompanyIdentity | None = None,
             companies: list[str] = BOARDS) -> HiringScope | None:
    return hiring_scope(read_question(text, NOW), identity or builtin_identity(), companies)


def test_the_company_is_found_by_any_of_its_names_or_a_word_of_one() -> None:
    for text in ("What else has Kestrel posted in logistics?", "Is Kestrel Commerce hiring?",
                 "Kestrel Commerce, Inc. job openings", "Which roles has KESTREL COMMERCE posted?"):
        found = scope_of(text)
        assert found is not None and found.companies == {"kestrel commerce"}, text
        assert found.names == frozenset({"Kestrel Commerce"})
    assert scope_of("What else has Kestrel posted in logistics?").families == frozenset(  # type: ignore[union-attr]
        {"fulfillment_logistics"})
    assert scope_of("Is Kestrel hiring?").families == frozenset()  # type: ignore[union-attr]
    lower = scope_of("what has kestrel commerce posted?")
    assert lower is not None and lower.companies == {"kestrel commerce"}
    assert scope_of("what has fernhill posted in sales?") is not None
    two = ["Rhombus", "Rhombus Power"]  # two boards, one name inside the other: the longer name is read
    for text, key in (("Is Rhombus Power hiring?", "rhombus power"), ("is rhombus power hiring?", "rhombus power"),
                      ("is rhombus hiring?", "rhombus")):
        assert scope_of(text, companies=two).companies == {key}  # type: ignore[union-attr]


def test_no_scope_without_a_hiring_company_or_family_or_without_hiring() -> None:
    assert scope_of("What is Kestrel doing in logistics?") is None  # not about postings
    assert scope_of("Who is hiring in Boise?") is None  # no company, family or metro the tables know
    assert scope_of("Is Osprey hiring?") is None  # no board of that name
    assert scope_of("Kes jobs") is None  # letters of a name are not a name
    assert scope_of("what has kestrel posted?") is None  # in lower case only a whole name is one
    assert scope_of("Is Kestrel hiring?", companies=["Kestrel Commerce", "Kestrel Air"]) is None  # ambiguous word


def test_several_companies_or_only_a_family() -> None:
    both = scope_of("Are Kestrel and Tidewater hiring?")
    assert both is not None and both.companies == {"kestrel commerce", "tidewater freight"}
    assert both.names == {"Kestrel Commerce", "Tidewater Freight"}
    family = scope_of("Who is hiring warehouse staff in Seattle?")
    assert family == HiringScope(companies=frozenset(), names=frozenset(),
                                 families=frozenset({"fulfillment_logistics"}), metros=frozenset({"Seattle"}))
    place = scope_of("Who is hiring in Kent?")  # a city of the Seattle metro
    assert place is not None and place.metros == {"Seattle"} and not place.companies and not place.families
    assert scope_of("What has Kestrel Commerce posted?").metros == frozenset()  # type: ignore[union-attr]
    logistics = scope_of("Is Kestrel Logistics hiring?", companies=["Kestrel Logistics", "Fernhill"])
    assert logistics is not None and logistics.families == frozenset()  # its name's word is no family
    lower = scope_of("is kestrel logistics hiring in sales?", companies=["Kestrel Logistics", "Fernhill"])
    assert lower is not None and lower.companies == {"kestrel logistics"} and lower.families == {"sales"}
    board = scope_of("Is Austin hiring in Seattle?", companies=["Austin", "Fernhill"])  # a board named like a city
    assert board is not None and board.companies == {"austin"} and board.metros == {"Seattle"}
    place = scope_of("Is Fernhill hiring in Boston?", companies=["Boston Dynamics", "Fernhill"])  # a word of one
    assert place is not None and place.companies == {"fernhill"} and place.metros == {"Boston"}  # board: the place
    sales = scope_of("who is hiring in sales?", companies=["Sales", "Fernhill"])  # a job word, not a company
    assert sales is not None and sales.companies == frozenset() and sales.families == {"sales"}


def test_an_alias_names_the_company_its_postings_are_filed_under() -> None:
    identity = CompanyIdentity(aliases={"tiktok": "bytedance"}, written=(("TikTok", "tiktok"),
                                                                         ("ByteDance", "bytedance")))
    found = scope_of("What has TikTok posted in logistics?", identity, ["ByteDance", "ByteDance Inc.", "Fernhill"])
    assert found is not None and found.companies == {"bytedance"}
    assert found.names == frozenset({"ByteDance", "ByteDance Inc."})


def test_held_by_and_families() -> None:
    assert held_by("Kestrel", "Kestrel Commerce") and held_by("kestrel commerce", "Kestrel Commerce")
    assert held_by("Commerce", "Kestrel Commerce")
    assert not held_by("Kes", "Kestrel Commerce") and not held_by("Kestrel Air", "Kestrel Commerce")
    assert not held_by("", "Kestrel Commerce")
    assert asked_families(read_question("warehouse and sales roles", NOW)) == {"fulfillment_logistics", "sales"}
    assert asked_families(read_question("what has Kestrel posted lately", NOW)) == frozenset()
    assert asked_families(read_question("Who is hiring in customer success or machine learning?", NOW)) == {
        "customer_support", "data_ml"}
    assert asked_families(read_question("Which hardware engineering jobs are open?", NOW)) == {"hardware_engineering"}
    # Roles asked about in the plural, as people ask: "drivers", "lawyers", "marketers", "doctors".
    assert asked_families(read_question("which companies are hiring drivers?", NOW)) == {"fulfillment_logistics"}
    assert asked_families(read_question("anyone hiring lawyers or marketers?", NOW)) == {"finance_legal", "marketing"}
    assert asked_families(read_question("who needs doctors in Boise?", NOW)) == {"healthcare"}


def candidate(id: int, outlet: str, score: float, *, kind: str = "item", item_kind: str = "job") -> Candidate:
    return Candidate(kind=kind, id=id, text_score=score, title=f"t{id}", text="", at=NOW, outlet=outlet,
                     item_kind=item_kind)


def test_scoped_keeps_the_company_and_lifts_its_postings_in_the_families() -> None:
    scope = HiringScope(companies=frozenset({company_key("Kestrel Commerce")}), names=frozenset({"Kestrel Commerce"}),
                        families=frozenset({"fulfillment_logistics"}))
    found = [candidate(1, "Tidewater Freight", 5.0), candidate(2, "Kestrel Commerce", 4.0),
             candidate(3, "Kestrel Commerce", 1.0), candidate(4, "The Harbor Ledger", 3.0, item_kind="news"),
             candidate(9, "Kestrel Commerce", 2.0, kind="brief", item_kind=""),
             replace(candidate(6, "Kestrel Commerce", 3.5), title="Account Executive")]  # sales: not asked about
    postings = [candidate(3, "Kestrel Commerce", 0.0), candidate(5, "Kestrel Commerce", 0.0)]
    got = {(c.kind, c.id): c.text_score for c in scoped(found, scope, postings)}
    assert got == {("item", 2): 4.0, ("item", 3): 3.6, ("item", 4): 3.0, ("brief", 9): 2.0, ("item", 5): 3.6}


def test_retrieval_answers_with_the_companys_postings_in_the_family(engine: Engine) -> None:
    kestrel = source(engine, "T1", "greenhouse:kestrel", NOW, kind="greenhouse")
    tidewater = source(engine, "T1", "workable:tidewater", NOW, kind="workable")
    other_team = source(engine, "T2", "greenhouse:kestrel", NOW, kind="greenhouse")
    day = timedelta(days=1)
    ids = add_items(engine, [
        item("T1", kestrel, "Warehouse Associate", url="https://b.example/k/1", at=NOW - day, outlet="Kestrel Commerce",
             kind="job", job_title="Warehouse Associate",
             locations=[{"city": "Kent", "region": "Washington", "country": "United States"}]),
        item("T1", kestrel, "Inbound Logistics Lead", url="https://b.example/k/2", at=NOW - 2 * day,
             outlet="Kestrel Commerce", kind="job", job_title="Inbound Logistics Lead"),
        item("T1", kestrel, "Account Executive", url="https://b.example/k/3", at=NOW - day, outlet="Kestrel Commerce",
             kind="job", job_title="Account Executive",
             locations=[{"city": "New York", "region": "New York", "country": "United States"}]),
        item("T1", tidewater, "Logistics Coordinator", url="https://b.example/t/1", at=NOW - day,
             outlet="Tidewater Freight", kind="job", job_title="Logistics Coordinator",
             text="Logistics logistics logistics."),
        item("T2", other_team, "Forklift Operator", url="https://b.example/x/1", at=NOW - day,
             outlet="Kestrel Commerce", kind="job", job_title="Forklift Operator"),
    ])
    with Session(engine) as session:
        found = retrieve(session, team_id="T1", question=read_question(
            "What else has Kestrel posted in logistics?", NOW), now=NOW).candidates
        broad = retrieve(session, team_id="T1", question=read_question(
            "Who is hiring in logistics?", NOW), now=NOW).candidates
    assert [c.id for c in found] == [ids[1], ids[0]]  # the warehouse role shares no word with it: after
    with Session(engine) as session:
        seattle = retrieve(session, team_id="T1", question=read_question("Is Kestrel hiring in Seattle?", NOW),
                           now=NOW).candidates
        new_york = retrieve(session, team_id="T1", question=read_question("Is Kestrel hiring in New York?", NOW),
                            now=NOW).candidates
    assert [c.id for c in seattle] == [ids[0], ids[1]]  # Kent is Seattle; a posting with no known place may be one
    with session_scope(engine) as session:  # a row written by hand with places of another shape: skipped, not fatal
        odd = session.get(Item, ids[1])
        assert odd is not None
        odd.locations = ["Seattle", None, {"city": 5}, {"city": "Tacoma", "region": "Washington"}]  # type: ignore[list-item]
    with Session(engine) as session:
        again = retrieve(session, team_id="T1", question=read_question("Is Kestrel hiring in Seattle?", NOW),
                         now=NOW).candidates
    assert [c.id for c in again] == [ids[0], ids[1]]  # Tacoma, the one readable place, is Seattle
    assert [c.id for c in new_york] == [ids[2], ids[1]]
    assert {c.id for c in broad} >= {ids[1], ids[3]}  # no company named: every board's matching posting


def test_a_metro_alone_is_answered_with_its_hiring_signals_postings(engine: Engine) -> None:
    """"Who is hiring in Seattle?": the postings behind the workspace's signals in that metro, though no title or
    text says Seattle (they are in Kent); another metro's signal is not."""
    board = source(engine, "T1", "greenhouse:kestrel", NOW, kind="greenhouse")
    ids = add_items(engine, [
        item("T1", board, f"Role {n}", url=f"https://b.example/k/{n}", at=NOW - timedelta(hours=n),
             outlet="Kestrel Commerce", kind="job", job_title=f"Role {n}") for n in range(1, 5)])
    with session_scope(engine) as session:
        for metro, items in (("Seattle", ids[:3]), ("New York", ids[3:])):
            signal = Signal(team_id="T1", company="Kestrel Commerce", family="fulfillment_logistics", metro=metro,
                            reason="new_metro", item_count=len(items), first_at=NOW, last_at=NOW, created_at=NOW,
                            updated_at=NOW)
            session.add(signal)
            session.flush()
            session.add_all(SignalItem(team_id="T1", signal_id=signal.id or 0, item_id=i, added_at=NOW) for i in items)
    with Session(engine) as session:
        found = retrieve(session, team_id="T1", question=read_question("Who is hiring in Seattle?", NOW),
                         now=NOW).candidates
    assert sorted(c.id for c in found) == sorted(ids[:3])
