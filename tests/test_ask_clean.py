"""Cleaning answer text (pure): whole, and in streamed pieces that must give the same result."""

from __future__ import annotations

import pytest

from bot.ask.clean import WORD_JOINER, StreamCleaner, cited, clean, tidy

RAW = ("Kestrel leased a site in Kent [1] (see https://evil.example/a?b=c) and is hiring [2][7]. "
       "<!channel> <@U123> <http://evil.example|click> @here www.evil.example/x evil.co/path [3]")


def test_clean_drops_urls_markup_mentions_and_foreign_citations() -> None:
    text = tidy(clean(RAW, 3))
    assert "evil" not in text and "<" not in text and ">" not in text and "[7]" not in text
    assert f"@{WORD_JOINER}here" in text and "@here" not in text
    assert text.startswith("Kestrel leased a site in Kent [1]") and "is hiring [2]." in text
    assert cited(text, 3) == [1, 2, 3]
    assert cited("[2] then [1] then [2] and [4]", 3) == [2, 1]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 40])
def test_streaming_in_any_pieces_gives_the_same_text(size: int) -> None:
    cleaner = StreamCleaner(3)
    shown = "".join(cleaner.feed(RAW[i:i + size]) for i in range(0, len(RAW), size)) + cleaner.finish()
    assert shown == clean(RAW, 3)
    assert "evil" not in shown  # a URL split across deltas is judged whole
