"""Answering one question in one conversation: earlier turns and the alert's brief as context, retrieval
from the workspace's own history, the LLM answer (streamed, cleaned) or the extractive one, and the turn
stored so a follow-up sees it. Surfaces (CLI, DMs, mentions, buttons, /brief ask) all come through here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.ask.clean import StreamCleaner, cited, clean, tidy
from bot.ask.evidence import number
from bot.ask.extractive import CUT_SHORT, LLM_FAILED, extractive_answer
from bot.ask.model import Answer, AnswerWriter
from bot.ask.retrieve import retrieve
from bot.clock import Clock
from bot.core.llm_budget import LLMBudget, answer_note
from bot.core.question import read_question, with_company_names
from bot.core.retrieval import Candidate
from bot.core.types import Embed, Source, Turn
from bot.llm.client import LLMError, LLMTooSlow
from bot.storage.briefs import team_brief
from bot.storage.companies import company_identity
from bot.storage.conversations import earlier_turns, save_turn
from bot.storage.db import session_scope
from bot.storage.models import Brief
from bot.storage.sources import ensure_workspace
from bot.storage.transactions import Engine, Session

log = logging.getLogger(__name__)
NOTHING = ("I found nothing about that in the stored history of the sources this workspace follows. "
           "`/brief follow` adds sources; `/brief list` shows what this channel follows.")
NOTHING_CLI = ("Nothing about that in the stored history of the sources this workspace follows. "
               "briefbot sources add URL adds sources; briefbot sources list shows them.")
NOTHING_TO_SEARCH = "Ask about a company, a place, a kind of role or a topic, and I'll look through the stored history."
SHOWN_WHEN_UNCITED = 3


@dataclass(frozen=True, slots=True)
class Conversation:
    team_id: str
    channel_id: str  # "cli" for the command line
    thread_ts: str
    surface: str  # dm | mention | button | command | cli
    user_id: str = ""
    brief_id: int | None = None  # the alert the question was asked under


class Asker:
    def __init__(self, *, engine: Engine, clock: Clock, writer: AnswerWriter | None, embed: Embed | None = None,
                 budget: Callable[[str], LLMBudget] | None = None):
        self.engine, self.clock, self.writer = engine, clock, writer
        self.embed = embed  # the question's embedding, for vector search, when an embedding endpoint is set
        # A workspace's LLM budget: spent (or 0), its questions get the extractive answer. Answers record no
        # token counts, so they do not use the budget up; briefs do.
        self.budget = budget

    def ask(self, conversation: Conversation, text: str, *, on_text: Callable[[str], None] | None = None,
            store: bool = True) -> Answer:
        now = self.clock()
        question = read_question(text, now)
        # Embedded before the session opens: no connection waits on the endpoint. None when it fails.
        vectors = self.embed([text]) if self.embed is not None and not question.empty else None
        with Session(self.engine) as session:
            turns = earlier_turns(session, team_id=conversation.team_id, channel_id=conversation.channel_id,
                                  thread_ts=conversation.thread_ts)
            if conversation.brief_id is None and turns:
                brief_id = next((t.brief_id for t in turns if t.brief_id), None)
            else:
                brief_id = conversation.brief_id
            brief = team_brief(session, team_id=conversation.team_id, brief_id=brief_id)
            context = context_terms(brief, [t.question for t in turns], now)
            if question.empty and not context:
                answer = Answer(question=text, text=NOTHING_TO_SEARCH, sources=[], writer="none")
                return self._store(conversation, answer, brief, store)
            question = with_company_names(question, company_identity(session=session, team_id=conversation.team_id))
            found = retrieve(session, team_id=conversation.team_id, question=question, now=now,
                             context_terms=context, vector=vectors[0] if vectors else None)
        sources = number(found.candidates, first=[brief_candidate(brief)] if brief else [])
        history = [Turn(t.question, t.answer) for t in turns]
        if not sources:
            answer = Answer(question=text, text=NOTHING_CLI if conversation.surface == "cli" else NOTHING, sources=[],
                            writer="none")
        elif self.writer is not None and (spent := self._spent_budget(conversation.team_id)) is not None:
            answer = extractive_answer(text, sources, note=answer_note(spent))
        elif self.writer is not None:
            answer = self._llm(text, now, history, sources, on_text)
        else:
            answer = extractive_answer(text, sources)
        answer.searched = found.terms
        if found.widened and sources:
            answer.note = " ".join(filter(None, (f"Nothing was stored from {question.window}; these are from "
                                                 "other dates.", answer.note)))
        return self._store(conversation, answer, brief, store)

    def _spent_budget(self, team_id: str) -> LLMBudget | None:
        """The workspace's budget when it is spent; None when the LLM may answer."""
        if self.budget is None:
            return None
        budget = self.budget(team_id)
        return budget if budget.spent else None

    def _llm(self, question: str, now: datetime, history: list[Turn], sources: list[Source],
             on_text: Callable[[str], None] | None) -> Answer:
        assert self.writer is not None
        cleaner = StreamCleaner(len(sources))

        def shown(delta: str) -> None:
            ready = cleaner.feed(delta)
            if ready and on_text is not None:
                on_text(ready)

        note = ""
        try:
            raw = self.writer.write(question=question, today=f"{now:%A %-d %B %Y}", history=history,
                                    sources=sources, on_text=shown)
        except LLMTooSlow as exc:
            if not tidy(clean(exc.partial, len(sources))):
                log.warning("answering extractively: %s", exc)
                return extractive_answer(question, sources, note=LLM_FAILED)
            log.warning("keeping the answer streamed before the deadline: %s", exc)
            raw, note = exc.partial, CUT_SHORT
        except Exception as exc:  # any failure of the LLM, of whatever type, costs only this answer its LLM text
            unexpected = not isinstance(exc, LLMError)  # a defect of ours: its traceback goes to the log
            log.warning("answering extractively: %s", f"{type(exc).__name__}: {exc}" if unexpected else exc,
                        exc_info=unexpected)
            return extractive_answer(question, sources, note=LLM_FAILED)
        rest = cleaner.finish()
        if rest and on_text is not None:
            on_text(rest)
        text = tidy(clean(raw, len(sources)))
        numbers = cited(text, len(sources))
        shown_sources = [s for s in sources if s.n in numbers] or sources[:SHOWN_WHEN_UNCITED]
        return Answer(question=question, text=text, sources=shown_sources, writer="llm", note=note,
                      prompt_name=self.writer.prompt_name, prompt_version=self.writer.prompt_version,
                      model=self.writer.model)

    def _store(self, conversation: Conversation, answer: Answer, brief: Brief | None, store: bool) -> Answer:
        if not store:
            return answer
        with session_scope(self.engine) as session:
            ensure_workspace(session=session, team_id=conversation.team_id, now=self.clock())
            answer.turn_id = save_turn(
                session, team_id=conversation.team_id, channel_id=conversation.channel_id,
                thread_ts=conversation.thread_ts, user_id=conversation.user_id, surface=conversation.surface,
                question=answer.question, answer=answer.text, citations=[s.as_dict() for s in answer.sources],
                brief_id=brief.id if brief else None, writer=answer.writer, prompt_name=answer.prompt_name,
                prompt_version=answer.prompt_version, model=answer.model, created_at=self.clock())
        return answer


def context_terms(brief: Brief | None, earlier_questions: list[str], now: datetime) -> list[str]:
    """Words that keep a follow-up on topic: the alert's names, then the last questions' terms."""
    terms: list[str] = []
    if brief is not None:
        for entity in brief.entities[:3]:
            terms.extend(w.lower() for w in entity.split())
        if not terms:
            terms.extend(read_question(brief.headline, now).terms[:4])
    for earlier in reversed(earlier_questions[-2:]):
        terms.extend(read_question(earlier, now).terms[:4])
    return list(dict.fromkeys(terms))[:6]


def brief_candidate(brief: Brief) -> Candidate:
    first = brief.sources[0] if brief.sources else {}
    return Candidate(kind="brief", id=brief.id or 0, text_score=0.0, title=brief.headline,
                     text=f"{brief.summary} {brief.why_it_matters}", at=brief.created_at,
                     url=str(first.get("url") or ""), outlet=str(first.get("outlet") or ""),
                     entities=tuple(brief.entities), group=f"{brief.subject}:{brief.subject_id}")
