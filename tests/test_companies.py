"""Company identity: names keyed (core/companies, pure table tests, real employer names from the Simplify
listings), aliases resolved (chains, circles), the built-in alias file, and a workspace's aliases in storage
(bot/storage/companies) on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.companies import (
    KEY_MAX,
    NAME_MAX,
    CompanyIdentity,
    CompanyNameError,
    builtin_alias_map,
    builtin_aliases,
    canonical,
    chain,
    clean_name,
    company_key,
    resolve,
)
from bot.core.question import read_question, with_company_names
from bot.storage.companies import (
    BUILTIN,
    WORKSPACE,
    AliasError,
    add_alias,
    alias_map,
    builtin_alias_for,
    list_aliases,
    remove_alias,
)
from bot.storage.db import session_scope
from bot.storage.models import CompanyAlias
from tests.conftest import NOW, corpus_path

# ---- company_key ----------------------------------------------------------------------------------------------------

KEYS = [
    # (name as written, its key)
    ("Acme Holdings, Inc.", "acme holdings"),
    ("ACME HOLDINGS INC", "acme holdings"),
    ("acme holdings", "acme holdings"),
    ("  Acme   Holdings ", "acme holdings"),
    ("TikTok Inc.", "tiktok"),
    ("TikTok, Incorporated", "tiktok"),
    ("ByteDance Ltd.", "bytedance"),
    ("ByteDance Limited", "bytedance"),
    ("Kestrel Commerce LLC", "kestrel commerce"),
    ("Kestrel Commerce L.L.C.", "kestrel commerce"),
    ("Kestrel Commerce, L.L.C", "kestrel commerce"),
    ("Brain Corp", "brain"),
    ("Arsiem Corporation", "arsiem"),
    ("Snap Inc.", "snap"),
    ("Trunk Tools, Inc.", "trunk tools"),
    ("Siemens AG", "siemens"),
    ("Bosch GmbH", "bosch"),
    ("Smith & Co. GmbH & Co. KG", "smith"),
    ("Smith and Company Ltd", "smith"),
    ("Nestlé S.A.", "nestle"),
    ("Nestle SA", "nestle"),
    ("Nestle S. A.", "nestle"),
    ("Fiat S.p.A.", "fiat"),
    ("ASML Holding N.V.", "asml holding"),
    ("Philips NV", "philips"),
    ("Booking B.V.", "booking"),
    ("Adyen BV", "adyen"),
    ("Unilever PLC", "unilever"),
    ("Atlassian Pty Ltd", "atlassian"),
    ("Sony Group KK", "sony group"),
    ("Nokia Oyj", "nokia"),
    ("Supercell Oy", "supercell"),
    ("Spotify AB", "spotify"),
    ("SAP SE", "sap"),
    ("Dassault Systèmes SE", "dassault systemes"),
    ("Capgemini SAS", "capgemini"),
    ("The Walt Disney Company", "walt disney"),
    ("The Nudge", "nudge"),
    ("The Voleon Group", "voleon group"),
    ("Theranos", "theranos"),  # a leading "The" is a word, not letters
    ("AT&T", "at and t"),
    ("AT and T Inc", "at and t"),
    ("Dun & Bradstreet", "dun and bradstreet"),
    ("Dun and Bradstreet", "dun and bradstreet"),
    ("J.P. Morgan", "jp morgan"),
    ("JP Morgan", "jp morgan"),
    ("JPMorgan Chase & Co.", "jpmorgan chase"),
    ("McDonald's", "mcdonalds"),
    ("McDonald’s Corporation", "mcdonalds"),
    ("Arc'teryx Equipment", "arcteryx equipment"),
    ("Coca-Cola Company", "coca cola"),
    ("Coca Cola", "coca cola"),
    ("Alarm.com", "alarm com"),  # .com is part of the brand
    ("Amazon.com, Inc.", "amazon com"),
    ("Character.AI", "character ai"),
    ("Advanced Technology Services (ATS)", "advanced technology services"),
    ("Acme Inc (US)", "acme"),
    ("Democratic National Committee (DNC) Inc.", "democratic national committee"),
    ("Acme (Holdings", "acme holdings"),  # stray brackets are no asides
    ("Acme Inc)", "acme"),
    ("(ATS)", "ats"),
    ("O(1) Labs", "o 1 labs"),
    ("Collective[i]", "collective i"),
    ("Schrödinger", "schrodinger"),
    ("ＡＣＭＥ Ｉｎｃ", "acme"),  # full-width letters: NFKC
    ("Straße GmbH", "strasse"),
    ("İstanbul Holding", "istanbul holding"),
    ("株式会社ソニー", "株式会社ソニー"),
    ("삼성전자", "삼성전자"),
    ("टाटा मोटर्स", "टाटा मोटर्स"),  # Devanagari vowel signs are letters: kept
    ("Seven & i Holdings", "seven and i holdings"),
    ("7-Eleven, Inc.", "7 eleven"),
    ("3M Company", "3m"),
    ("X Corp", "x"),
    # A name that is nothing but a legal form or "The" keeps it.
    ("Inc.", "inc"),
    ("The Company", "company"),
    ("The", "the"),
    ("Pty Ltd", "pty"),
    ("!!!", "!!!"),
    ("&", "and"),
    # Hidden characters go; they never split or join words.
    ("Ac\u200bme Inc", "acme"),
    ("Acme\x00 Inc", "acme"),
    ("Acme\tHoldings\nInc", "acme holdings"),
    ("\u202eAcme Inc", "acme"),
]


@pytest.mark.parametrize(("name", "key"), KEYS)
def test_company_key(name: str, key: str) -> None:
    assert company_key(name) == key


@pytest.mark.parametrize(("name", "key"), KEYS)
def test_a_key_is_its_own_key(name: str, key: str) -> None:
    assert company_key(key) == key


SAME_COMPANY = [
    ["Acme Holdings, Inc.", "ACME Holdings", "acme holdings inc", "The Acme Holdings Incorporated",
     "Acme Holdings Ltd."],
    ["Wyetech", "Wyetech LLC"],
    ["Walt Disney", "The Walt Disney Company", "Walt Disney Co."],
    ["Procter & Gamble", "Procter and Gamble Co", "PROCTER & GAMBLE COMPANY"],
    ["Société Générale S.A.", "Societe Generale", "SOCIÉTÉ GÉNÉRALE SA"],
]


@pytest.mark.parametrize("names", SAME_COMPANY, ids=lambda names: names[0])
def test_spellings_of_one_company_share_a_key(names: list[str]) -> None:
    assert len({company_key(n) for n in names}) == 1


@pytest.mark.parametrize(("one", "other"), [
    ("Alarm.com", "Alarm"), ("Match Group", "Match"), ("Character.AI", "Character"), ("Acme Holdings", "Acme"),
    ("Seven & i", "Seven"), ("Theranos", "Ranos"), ("Co-op", "Op"), ("Sony Group", "Sony"),
])
def test_different_companies_keep_different_keys(one: str, other: str) -> None:
    assert company_key(one) != company_key(other)


@pytest.mark.parametrize("name", ["", "   ", "\x00\x00", "\u200b\u200d", "\t\n\r", "\ud800", "\x7f\x9f"])
def test_a_name_with_nothing_in_it_is_refused(name: str) -> None:
    with pytest.raises(CompanyNameError, match="at least one letter or digit"):
        company_key(name)


@pytest.mark.parametrize("name", [
    "A" * 10_000_000,
    "Acme " * 2_000_000 + "Inc",
    "(" * 1_000_000 + "acme" + ")" * 1_000_000,
    "(a)" * 1_000_000,
    "a." * 1_000_000,
    "Inc " * 1_000_000,
    "\x00" * 1_000_000 + "Acme",
    "é" * 1_000_000,
    "ﬃ" * 1_000_000,  # case folding lengthens it
])
def test_hostile_names_give_a_bounded_key_quickly(name: str) -> None:
    started = time.monotonic()
    key = company_key(name)
    assert 0 < len(key) <= KEY_MAX
    assert "\x00" not in key and key == key.strip()
    assert time.monotonic() - started < 1.0


def test_clean_name_is_one_line_without_hidden_characters() -> None:
    assert clean_name(" Acme\x00\u200b  Holdings,\nInc. ") == "Acme Holdings, Inc."
    assert clean_name("ＡＣＭＥ") == "ACME"


def test_every_employer_in_the_simplify_listings_gets_a_key_and_variants_collapse() -> None:
    listings = json.loads(corpus_path("jobs", "simplify-new-grad-listings-2024-10-25.json").read_text())
    names = {row["company_name"] for row in listings}
    assert len(names) > 500
    by_key: dict[str, set[str]] = defaultdict(set)
    for name in names:
        key = company_key(name)
        assert key and len(key) <= KEY_MAX and key == key.strip(), name
        assert company_key(key) == key, name
        by_key[key].add(name)
        # Case and surrounding spaces never make another company.
        assert company_key(name.upper()) == key and company_key(f"  {name.lower()} ") == key, name
        # Nor a legal suffix added to the name, whatever its spelling.
        for suffix in (" Inc.", ", LLC", " Ltd", " Corporation", " GmbH", " S.A."):
            assert company_key(name + suffix) == key, (name, suffix)
    assert by_key["wyetech"] == {"Wyetech", "Wyetech LLC"}
    assert by_key["dexis consulting group"] == {"Dexis Consulting Group "}
    assert by_key["walt disney"] == {"The Walt Disney Company"}
    # Only true variants collapse: every other employer keeps a key of its own.
    assert [names for names in by_key.values() if len(names) > 1] == [{"Wyetech", "Wyetech LLC"}]


# ---- resolve, canonical, chain ---------------------------------------------------------------------------------------

ALIASES = {"bytedance": "tiktok", "musically": "bytedance", "alphabet": "google", "a": "b", "b": "c", "c": "a",
           "loop": "loop"}


@pytest.mark.parametrize(("name", "resolved"), [
    ("TikTok Inc.", "tiktok"),
    ("ByteDance Ltd", "tiktok"),
    ("Musical.ly", "musical ly"),  # not the alias key "musically"
    ("Musically", "tiktok"),  # through ByteDance
    ("Alphabet Inc.", "google"),
    ("Google LLC", "google"),
    ("Acme", "acme"),
    ("A", "a"), ("B", "a"), ("C", "a"),  # a circle ends at its smallest key, wherever it is entered
    ("Loop", "loop"),
])
def test_resolve(name: str, resolved: str) -> None:
    assert resolve(name, ALIASES) == resolved


def test_chain_lists_the_way_to_the_canonical_key_and_stops_at_a_circle() -> None:
    assert chain("musically", ALIASES) == ["musically", "bytedance", "tiktok"]
    assert chain("b", ALIASES) == ["b", "c", "a"]
    assert chain("acme", {}) == ["acme"]
    assert canonical("acme", {}) == "acme"


def test_a_long_chain_resolves_without_recursion() -> None:
    long = {f"n{i}": f"n{i + 1}" for i in range(50_000)}
    assert canonical("n0", long) == "n50000"
    assert canonical("n0", long | {"n50000": "n0"}) == "n0"


# ---- the built-in alias file -----------------------------------------------------------------------------------------


def test_the_built_in_aliases_are_sound() -> None:
    builtins = builtin_aliases()
    assert len(builtins) >= 5
    keys = [a.alias_key for a in builtins]
    assert len(keys) == len(set(keys)), "a name is aliased twice"
    mapping = builtin_alias_map()
    for a in builtins:
        assert a.why and a.alias_key != a.canonical_key, a
        assert len(a.alias) <= NAME_MAX and len(a.canonical) <= NAME_MAX
        path = chain(a.alias_key, mapping)
        assert len(path) == len(set(path)) and path[-1] not in mapping, f"a circle through {a.alias}"
    assert resolve("Alphabet Inc.", mapping) == "google"
    assert resolve("Meta Platforms, Inc.", mapping) == resolve("Facebook", mapping) == "meta"
    assert resolve("Amazon.com, Inc.", mapping) == "amazon"
    assert resolve("The Walt Disney Company", mapping) == "disney"
    assert resolve("ByteDance", mapping) == "bytedance"  # not built in: a workspace decides that one


# ---- a workspace's aliases (storage) ---------------------------------------------------------------------------------


def add(engine: Engine, alias: str, company: str, team_id: str = "T1", by: str = "U1") -> str:
    with session_scope(engine) as session:
        return add_alias(session=session, team_id=team_id, alias=alias, canonical_name=company, created_by=by,
                         now=NOW).outcome


def refused(engine: Engine, alias: str, company: str, team_id: str = "T1") -> str:
    with pytest.raises(AliasError) as caught, session_scope(engine) as session:
        add_alias(session=session, team_id=team_id, alias=alias, canonical_name=company, created_by="U1", now=NOW)
    return str(caught.value)


def mapping(engine: Engine, team_id: str = "T1") -> dict[str, str]:
    with session_scope(engine) as session:
        return alias_map(session=session, team_id=team_id)


def test_add_list_and_remove_an_alias(engine: Engine) -> None:
    assert add(engine, "ByteDance Ltd.", "TikTok Inc.") == "added"
    assert add(engine, "BYTEDANCE", "tiktok") == "unchanged"  # the same alias, spelled otherwise
    assert resolve("ByteDance", mapping(engine)) == "tiktok"
    with Session(engine) as session:
        row = session.exec(select(CompanyAlias)).one()
    assert (row.team_id, row.alias_key, row.canonical_key, row.alias, row.canonical, row.created_by,
            row.created_at) == ("T1", "bytedance", "tiktok", "ByteDance Ltd.", "TikTok Inc.", "U1", NOW)

    with session_scope(engine) as session:
        entries = list_aliases(session=session, team_id="T1")
    ours = [e for e in entries if e.origin == WORKSPACE]
    assert [(e.alias, e.canonical, e.resolves_to, e.team_id) for e in ours] == [
        ("ByteDance Ltd.", "TikTok Inc.", "tiktok", "T1")]
    assert {e.alias for e in entries if e.origin == BUILTIN} == {a.alias for a in builtin_aliases()}
    assert json.dumps([e.as_dict() for e in entries])  # --json can print them

    with session_scope(engine) as session:
        removed = remove_alias(session=session, team_id="T1", name="bytedance inc")
        assert removed is not None and removed.alias == "ByteDance Ltd."
        assert remove_alias(session=session, team_id="T1", name="ByteDance") is None
    assert resolve("ByteDance", mapping(engine)) == "bytedance"


def test_an_alias_can_be_pointed_at_another_company_and_chains_resolve(engine: Engine) -> None:
    assert add(engine, "ByteDance", "Douyin") == "added"
    with session_scope(engine) as session:
        saved = add_alias(session=session, team_id="T1", alias="ByteDance", canonical_name="TikTok", created_by="U2",
                          now=NOW + timedelta(hours=1))
    assert (saved.outcome, saved.previous, saved.canonical_key) == ("changed", "Douyin", "tiktok")
    assert add(engine, "Musically", "ByteDance") == "added"
    assert resolve("Musically", mapping(engine)) == "tiktok"
    with session_scope(engine) as session:
        saved = add_alias(session=session, team_id="T1", alias="Lark", canonical_name="ByteDance", created_by="U1",
                          now=NOW)
    assert (saved.canonical_key, saved.resolves_to, saved.resolves_to_name) == ("bytedance", "tiktok", "TikTok")


@pytest.mark.parametrize(("existing", "alias", "company", "reason"), [
    ([], "TikTok Inc.", "tiktok", 'one company already: both read as "tiktok"'),
    ([("TikTok", "ByteDance")], "ByteDance", "TikTok", '"TikTok" already stands for "ByteDance" (tiktok → bytedance)'),
    ([("A", "B"), ("B", "C")], "C", "A", "(a → b → c)"),
    ([], "Google", "Alphabet", "(alphabet → google, through a built-in alias)"),
    ([], "", "TikTok", "the alias needs at least one letter or digit"),
    ([], "TikTok", "\u200b", "the company needs at least one letter or digit"),
    ([], "x" * (NAME_MAX + 1), "TikTok", f"the alias can be at most {NAME_MAX} characters; that one has 301"),
])
def test_aliases_that_would_go_round_in_a_circle_or_mean_nothing_are_refused(
        engine: Engine, existing: list[tuple[str, str]], alias: str, company: str, reason: str) -> None:
    for a, c in existing:
        add(engine, a, c)
    before = mapping(engine)
    message = refused(engine, alias, company)
    assert reason in message, message
    assert mapping(engine) == before  # nothing saved


def test_a_workspace_alias_replaces_a_built_in_one_for_that_workspace_only(engine: Engine) -> None:
    assert builtin_alias_map()["alphabet"] == "google"
    assert add(engine, "Alphabet", "Waymo") == "added"
    assert resolve("Alphabet", mapping(engine)) == "waymo"
    assert resolve("Alphabet", mapping(engine, "T2")) == "google"
    with session_scope(engine) as session:
        entries = list_aliases(session=session, team_id="T1")
        # The built-in alias is not the workspace's to remove; the workspace's own is.
        assert remove_alias(session=session, team_id="T1", name="Facebook") is None
        assert remove_alias(session=session, team_id="T1", name="Alphabet") is not None
    assert [(e.origin, e.canonical) for e in entries if e.alias_key == "alphabet"] == [(WORKSPACE, "Waymo")]
    assert resolve("Alphabet", mapping(engine)) == "google"  # back to the built-in one
    found = builtin_alias_for("facebook, inc.")
    assert found is not None and (found.canonical, found.origin) == ("Meta", BUILTIN)
    assert builtin_alias_for("ByteDance") is None and builtin_alias_for("") is None


def test_workspaces_never_see_each_others_aliases(engine: Engine) -> None:
    add(engine, "ByteDance", "TikTok", team_id="T1")
    add(engine, "TikTok", "ByteDance", team_id="T2")  # the other way round is T2's business
    assert resolve("ByteDance", mapping(engine, "T1")) == "tiktok"
    assert resolve("TikTok", mapping(engine, "T2")) == "bytedance"
    with session_scope(engine) as session:
        assert remove_alias(session=session, team_id="T2", name="ByteDance") is None
        t2 = [e for e in list_aliases(session=session, team_id="T2") if e.origin == WORKSPACE]
        everyone = [e for e in list_aliases(session=session, team_id=None) if e.origin == WORKSPACE]
    assert [(e.team_id, e.alias) for e in t2] == [("T2", "TikTok")]
    assert sorted((e.team_id, e.alias, e.resolves_to) for e in everyone) == [
        ("T1", "ByteDance", "tiktok"), ("T2", "TikTok", "bytedance")]


def test_an_identity_names_a_company_under_all_its_names() -> None:
    identity = CompanyIdentity(aliases={"bytedance": "tiktok", "musical ly": "bytedance"},
                               written=(("TikTok", "tiktok"), ("ByteDance", "bytedance"), ("Musical.ly", "musical ly")))
    assert identity.key("ByteDance Ltd.") == identity.key("MUSICAL.LY") == "tiktok"
    assert identity.same("TikTok Inc", "musical.ly") and not identity.same("TikTok", "Meta")
    assert identity.key("\u200b \x00") is None and not identity.same("", "")
    assert identity.names("bytedance") == ["ByteDance", "Musical.ly", "TikTok"]
    assert identity.display("musical ly", ["ByteDance", "ByteDance"]) == "TikTok"  # the canonical name as written
    plain = CompanyIdentity()
    assert plain.display("kestrel commerce", ["Kestrel", "Kestrel Commerce", "Kestrel Commerce"]) == "Kestrel Commerce"
    assert plain.display("kestrel commerce") == "kestrel commerce"


def test_a_question_about_a_company_searches_its_other_names() -> None:
    identity = CompanyIdentity(aliases={"bytedance": "tiktok"},
                               written=(("TikTok", "tiktok"), ("ByteDance", "bytedance")))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    widened = with_company_names(read_question("What has TikTok posted?", now), identity)
    assert widened.entities == ("TikTok", "ByteDance") and "bytedance" in widened.terms
    same = read_question("What has Orchard posted?", now)
    assert with_company_names(same, identity) is same
