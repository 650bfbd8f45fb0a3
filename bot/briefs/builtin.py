"""The built-in brief writer: deterministic, offline, useful. It writes from structured fields only, so it
works with no LLM configured, over the token budget, or when the LLM's reply cannot be used."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from datetime import datetime

from bot.briefs.model import HEADLINE_MAX, BriefDraft, BriefInput, RelatedRef, SourceRef, WrittenBrief
from bot.core.normalize import cap_text

WRITER_NOTE = "no LLM configured (set OPENAI_BASE_URL or OPENAI_API_KEY for LLM-written briefs)"
WHY_SIGNAL = {
    "new_metro": "A first cluster of roles in a new metro often comes before a new site opens there.",
    "new_function": "Hiring for a kind of role the company never posted before points to a new line of work.",
    "new_function_in_metro": "A new kind of role in a metro where the company already hires suggests the site "
                             "is taking on new work.",
    "surge": "Hiring well above the company's usual pace usually means expansion in that place.",
    "pullback": "Closing most of its open roles in one place at once often means a hiring freeze or a change of "
                "plan there.",
}
_WORD = re.compile(r"[A-Za-z0-9']+")
_PROPER = re.compile(r"\b([A-Z][\w&'.-]*(?:\s+(?:of|de|&)?\s*[A-Z][\w&'.-]*)*)")
_COMMON_STARTS = frozenset({"The", "A", "An", "In", "On", "At", "How", "Why", "What", "New", "After", "As", "With"})


def write_builtin(inp: BriefInput, *, note: str = WRITER_NOTE) -> WrittenBrief:
    """Written from every item the brief cites: a re-brief's earlier items as well as its new ones."""
    inp = replace(inp, items=inp.cited(), earlier=())
    draft = _signal(inp) if inp.subject == "signal" else _story(inp)
    return WrittenBrief(draft=draft, writer="builtin", note=note)


def _signal(inp: BriefInput) -> BriefDraft:
    if inp.reason == "pullback":
        return _pullback(inp)
    n = inp.total_items()  # the signal's count, not the cited items (capped)
    roles = "role" if n == 1 else "roles"
    headline = _first_fitting([
        f"{inp.company} hiring {n} {inp.function_label} {roles} in {inp.metro}",
        f"{inp.company} hiring {n} {inp.main_function_label} {roles} in {inp.metro}",
        f"{inp.company} hiring {n} {roles} in {inp.metro}",
        f"{inp.company} hiring in {inp.metro}",
    ])
    titles = list(dict.fromkeys(i.title for i in inp.items))
    examples = _join(titles[:3]) + (f" and {len(titles) - 3} more" if len(titles) > 3 else "")
    where = f"the {inp.metro} area" + (f" ({_join(list(inp.cities[:4]))})" if inp.cities else "")
    when = _span(inp.first_at, inp.last_at)
    context = {
        "new_metro": "its first roles in this metro",
        "new_function": f"its first {inp.function_label} roles",
        "new_function_in_metro": f"its first {inp.function_label} roles here",
        "surge": f"against a usual {inp.baseline:g} per {inp.window_days} days",
    }.get(inp.reason, "")
    summary = (f"{inp.company} posted {n} {inp.function_label} {roles} in {where}{when}"
               + (f", {context}" if context else "") + f". Titles include {examples}." + _news(inp.related))
    return BriefDraft(
        headline=headline, summary=cap_text(summary, 600),
        why_it_matters=WHY_SIGNAL.get(inp.reason, WHY_SIGNAL["surge"]),
        entities=[inp.company], places=list(dict.fromkeys([inp.metro, *inp.cities]))[:12],
        event_type=f"hiring_{inp.reason or 'surge'}",
    )


def _pullback(inp: BriefInput) -> BriefDraft:
    """Roles closing: `item_count` closed of the `baseline` open when the window began."""
    n = inp.total_items()
    roles = "role" if n == 1 else "roles"
    headline = _first_fitting([
        f"{inp.company} closed {n} {inp.function_label} {roles} in {inp.metro}",
        f"{inp.company} closed {n} {roles} in {inp.metro}",
        f"{inp.company} pulls back hiring in {inp.metro}",
    ])
    titles = list(dict.fromkeys(i.title for i in inp.items))
    examples = _join(titles[:3]) + (f" and {len(titles) - 3} more" if len(titles) > 3 else "")
    where = f"the {inp.metro} area" + (f" ({_join(list(inp.cities[:4]))})" if inp.cities else "")
    summary = (f"{inp.company} closed {n} of the {inp.baseline:g} {inp.function_label} {roles} it had open in "
               f"{where}{_span(inp.first_at, inp.last_at)}. Closed roles include {examples}." + _news(inp.related))
    return BriefDraft(headline=headline, summary=cap_text(summary, 600), why_it_matters=WHY_SIGNAL["pullback"],
                      entities=[inp.company], places=list(dict.fromkeys([inp.metro, *inp.cities]))[:12],
                      event_type="hiring_pullback")


def _story(inp: BriefInput) -> BriefDraft:
    lead = clearest(inp.items)
    outlets = list(dict.fromkeys(inp.outlets or [i.outlet for i in inp.items if i.outlet]))
    count = f" ({len(outlets)} outlets)" if len(outlets) > 1 else ""
    headline = _first_fitting([lead.title + count, lead.title])
    who = f"{outlets[0]}, {outlets[1]} and {len(outlets) - 2} more" if len(outlets) > 2 else _join(outlets)
    texts = [lead.text] + [i.text for i in inp.items if i is not lead]
    first_sentence = _first_sentence(next((t for t in texts if t.strip()), ""))
    summary = f"Reported by {who or 'one source'}{_span(inp.first_at, inp.last_at)}." + (
        f" {first_sentence}" if first_sentence else "") + _hiring(inp.related)
    if len(outlets) > 1:
        why = f"{len(outlets)} outlets reported the same event, so it travels beyond a single newsroom."
    else:
        why = "One outlet has it so far; watch whether others follow."
    return BriefDraft(
        headline=headline, summary=cap_text(summary, 600), why_it_matters=why,
        entities=proper_nouns([i.title for i in inp.items])[:8], places=[], event_type="news",
    )


def _news(related: tuple[RelatedRef, ...]) -> str:
    """A signal's sentence on the news about its company: the best-covered story."""
    stories = [r for r in related if r.kind == "story"]
    if not stories:
        return ""
    top = stories[0]
    who = f"{top.count} outlets report" if top.count > 1 else f"{top.outlet or 'one outlet'} reports"
    more = f" ({len(stories) - 1} more {'story' if len(stories) == 2 else 'stories'} about the company)" if (
        len(stories) > 1) else ""
    return f" In the news: {who} “{cap_text(' '.join(top.headline.split()), 140)}”{more}."


def _hiring(related: tuple[RelatedRef, ...]) -> str:
    """A story's sentence on the open hiring signals of the companies it names."""
    signals = [r for r in related if r.kind == "signal"]
    if not signals:
        return ""
    return " Also hiring: " + "; ".join(cap_text(" ".join(r.detail.split()), 160) for r in signals[:2]) + "."


def clearest(items: tuple[SourceRef, ...]) -> SourceRef:
    """The headline that shares the most words with the others (the story's centre), shorter first on ties."""
    words = [{w.lower() for w in _WORD.findall(i.title)} for i in items]
    counts: Counter[str] = Counter(w for ws in words for w in ws)

    def centrality(index: int) -> tuple[float, int, int]:
        ws = words[index]
        shared = sum(counts[w] - 1 for w in ws) / max(len(ws), 1)
        return (-shared, len(items[index].title), index)

    return items[min(range(len(items)), key=centrality)]


def proper_nouns(titles: list[str]) -> list[str]:
    """Capitalised names that recur across headlines (or appear in the only one), commonest first."""
    found: Counter[str] = Counter()
    for title in titles:
        names = dict.fromkeys(m.group(1).strip() for m in _PROPER.finditer(title))
        found.update(n for n in names if n not in _COMMON_STARTS and len(n) > 2)
    floor = 2 if len(titles) > 1 else 1
    return [name for name, n in found.most_common() if n >= floor]


def _first_fitting(candidates: list[str]) -> str:
    for candidate in candidates:
        candidate = " ".join(candidate.split())
        if len(candidate) <= HEADLINE_MAX:
            return candidate
    return cap_text(" ".join(candidates[-1].split()), HEADLINE_MAX)


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.{20,300}?[.!?])(\s|$)", text)
    return match.group(1) if match else cap_text(text, 200)


def _span(first: datetime | None, last: datetime | None) -> str:
    if first is None:
        return ""
    if last is None or last.date() == first.date():
        return f" on {first:%b} {first.day}"
    return f" between {first:%b} {first.day} and {last:%b} {last.day}"


def _join(parts: list[str]) -> str:
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return parts[0] if parts else ""
    return ", ".join(parts[:-1]) + " and " + parts[-1]
