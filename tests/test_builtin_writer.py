"""The built-in writer: deterministic briefs from structured fields (golden expectations written out)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.briefs.builtin import clearest, proper_nouns, write_builtin
from bot.briefs.model import HEADLINE_MAX, BriefInput, SourceRef

D1, D2 = datetime(2026, 11, 23, 18, tzinfo=UTC), datetime(2026, 11, 24, 18, tzinfo=UTC)


def ref(n: int, title: str, outlet: str = "Kestrel Commerce", text: str = "") -> SourceRef:
    return SourceRef(item_id=n, title=title, url=f"https://x.example/{n}", outlet=outlet, published_at=D2, text=text)


SEATTLE = BriefInput(
    subject="signal", subject_id=1, subject_version=1,
    items=tuple(ref(n, t) for n, t in enumerate([
        "Fulfillment Center Operations Manager", "Warehouse Associate", "Inbound Logistics Lead",
        "Inventory Control Specialist", "Logistics Program Manager"])),
    company="Kestrel Commerce", function_label="fulfillment and logistics",
    main_function_label="fulfillment and warehouse operations", metro="Seattle", cities=("Kent", "Seattle"),
    reason="new_metro", first_at=D1, last_at=D2,
)


def test_signal_brief() -> None:
    written = write_builtin(SEATTLE)
    draft = written.draft
    assert written.writer == "builtin" and "no LLM configured" in (written.note or "")
    assert draft.headline == "Kestrel Commerce hiring 5 fulfillment and logistics roles in Seattle"
    assert draft.summary == (
        "Kestrel Commerce posted 5 fulfillment and logistics roles in the Seattle area (Kent and Seattle) between "
        "Nov 23 and Nov 24, its first roles in this metro. Titles include Fulfillment Center Operations Manager, "
        "Warehouse Associate and Inbound Logistics Lead and 2 more.")
    assert draft.why_it_matters.startswith("A first cluster of roles in a new metro")
    assert (draft.entities, draft.places, draft.event_type) == (
        ["Kestrel Commerce"], ["Seattle", "Kent"], "hiring_new_metro")
    assert write_builtin(SEATTLE) == written  # deterministic


def test_a_long_company_name_still_fits_the_headline() -> None:
    long = replace(SEATTLE, company="The Extraordinarily Long-Named International Holding Company")
    headline = write_builtin(long).draft.headline
    assert len(headline) <= HEADLINE_MAX and headline.endswith("in Seattle")


def test_story_brief_uses_the_clearest_headline_and_the_outlet_count() -> None:
    story = BriefInput(
        subject="story", subject_id=7, subject_version=2, first_at=D1, last_at=D2,
        items=(ref(1, "Kestrel Commerce leases 600,000-square-foot fulfillment center in Kent", "The Harbor Ledger",
                   "Kestrel Commerce signed a lease for a warehouse in Kent. The site opens next year."),
               ref(2, "E-commerce seller Kestrel takes giant Kent warehouse, county filings show", "Metro Wire"),
               ref(3, "Kestrel Commerce fulfillment center coming to Kent", "Pallet Notes")),
    )
    draft = write_builtin(story).draft
    assert draft.headline == "Kestrel Commerce fulfillment center coming to Kent (3 outlets)"
    assert draft.summary == ("Reported by The Harbor Ledger, Metro Wire and 1 more between Nov 23 and Nov 24. "
                             "Kestrel Commerce signed a lease for a warehouse in Kent.")
    assert draft.entities == ["Kent", "Kestrel Commerce"] and draft.event_type == "news"


def test_clearest_and_proper_nouns() -> None:
    items = (ref(1, "Acme buys Widgetco"), ref(2, "Acme to buy Widgetco for $2bn"), ref(3, "Markets slip"))
    assert clearest(items).item_id == 1
    assert proper_nouns([i.title for i in items]) == ["Acme", "Widgetco"]
    assert proper_nouns(["Acme Robotics opens Reno plant"]) == ["Acme Robotics", "Reno"]


def test_a_headline_made_only_of_a_mention_still_gives_a_safe_brief() -> None:
    from bot.briefs.writers import BuiltinWriter

    # Once the mention is removed nothing is left of the headline: the guard rejects the draft, and the writer
    # falls back to what the structured fields say instead of failing the analysis pass.
    story = BriefInput(subject="story", subject_id=9, subject_version=1, first_at=D1, last_at=D2,
                       outlets=("A",), items=(ref(1, "<!channel>", "A"),))
    draft = BuiltinWriter("test").write(story).draft
    assert "<!" not in draft.headline + draft.summary and draft.headline == "A story reported by 1 outlets"
