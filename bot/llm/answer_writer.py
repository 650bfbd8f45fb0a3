"""The LLM answer writer: the `answer` prompt over numbered sources and the conversation so far, streamed.

Each text delta is passed on as it arrives (the Slack surface shows it live); the caller cleans it. The whole
answer, its one retry when empty included, ends within two request bounds (`client.py`); one stream within
one. Any failure, whatever its type, ends in LLMUnavailable, LLMTooSlow (carrying the text streamed before
the deadline) or LLMBadOutput, and the caller answers extractively or keeps what was streamed. It is ask's
`AnswerWriter` (bot/ask/model) and reads only the plain types of bot/core/types, so it imports nothing of ask."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from openai import OpenAI, OpenAIError, omit
from openai.types.chat import ChatCompletionMessageParam

from bot.core.types import Source, Turn, describe
from bot.llm.client import LLMBadOutput, LLMError, LLMTooSlow, LLMUnavailable, client_bound
from bot.llm.deadline import DeadlinePassed, within
from bot.llm.prompts import Prompt, PromptError, render, render_repair
from bot.llm.replies import chunk_texts, unusable

PROMPT = "answer"
MAX_TOKENS = 500
QUOTE_CHARS = 500  # of each source's text, in the prompt
HISTORY_TURNS = 4
HISTORY_CHARS = 600


class LLMAnswerWriter:
    def __init__(self, client: OpenAI, model: str, prompts: Mapping[str, Prompt], *,
                 temperature: float | None = 0.2) -> None:
        if PROMPT not in prompts:
            raise PromptError(f"the answer writer needs prompt {PROMPT}")
        self.client, self.model, self.prompt, self.temperature = client, model, prompts[PROMPT], temperature
        self.prompt_name, self.prompt_version = PROMPT, self.prompt.version
        self.bound = client_bound(client)  # one stream; the answer with its retry gets two

    def write(self, *, question: str, today: str, history: Sequence[Turn], sources: Sequence[Source],
              on_text: Callable[[str], None] | None = None) -> str:
        """The answer's raw text (uncleaned), streamed through `on_text` as it comes."""
        messages = render(self.prompt, today=today, question=question, history=history_text(history),
                          items=quote(sources))
        with within(2 * self.bound):
            text = self._stream(messages, on_text)
            if not text.strip():  # an empty reply: ask once more
                messages = [*messages, {"role": "assistant", "content": text},
                            render_repair(self.prompt, "the reply was empty")]
                text = self._stream(messages, on_text)
                if not text.strip():
                    raise LLMBadOutput(f"{self.model}: empty answer, even after one repair")
        return text

    def _stream(self, messages: list[ChatCompletionMessageParam], on_text: Callable[[str], None] | None) -> str:
        parts: list[str] = []
        try:
            with within(self.bound):
                stream = self.client.chat.completions.create(
                    model=self.model, messages=messages, stream=True, max_tokens=MAX_TOKENS,
                    temperature=omit if self.temperature is None else self.temperature)
                with stream:  # closes the connection however the reading ends
                    for chunk in stream:
                        for delta in chunk_texts(self.model, chunk):
                            parts.append(delta)
                            if on_text is not None:
                                on_text(delta)
        except DeadlinePassed as exc:
            raise LLMTooSlow(f"{self.model}: {exc} (the bound: {self.bound:g} s a request)",
                             partial="".join(parts)) from exc
        except OpenAIError as exc:
            raise LLMUnavailable(f"{self.model}: {type(exc).__name__}: {exc}") from exc
        except LLMError:
            raise
        except Exception as exc:  # an event that is not JSON, a chunk of another shape: whatever the stream held
            raise unusable(self.model, exc) from exc
        return "".join(parts)


def quote(sources: Sequence[Source]) -> str:
    """The sources as data for the prompt: number, kind, outlet and date, title, the start of the text."""
    blocks = []
    for s in sources:
        body = " ".join(s.text.split())[:QUOTE_CHARS]
        text = f"\nText: {body}" if body else ""
        blocks.append(f"[{s.n}] {describe(s)}\nTitle: {_flat(s.title)}{text}")
    return "\n\n".join(blocks)


def history_text(turns: Sequence[Turn]) -> str:
    """The last few turns, oldest first, or a line saying there are none."""
    recent = list(turns)[-HISTORY_TURNS:]
    if not recent:
        return "(This is the first question of the conversation.)"
    return "\n".join(f"Q: {_flat(t.question)[:HISTORY_CHARS]}\nA: {_flat(t.answer)[:HISTORY_CHARS]}" for t in recent)


def _flat(text: str) -> str:
    return " ".join(text.split())
