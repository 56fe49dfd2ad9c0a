"""Checks that an evidence quote is the article's own words.

Only whitespace is normalised before comparing: a quote that differs in a single character (a
straight quote for a curly one, a hyphen for a dash) is not the article's text and must fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

_SPACE = re.compile(r"\s+")
_LINK = re.compile(r"\[([^\]]*)\]\(#?\)")


def collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def readable(quote: str) -> str:
    """A quote as a reader should see it: removed-link markers and markdown escapes dropped."""
    return _LINK.sub(r"\1", quote).replace("\\$", "$")


@dataclass(frozen=True)
class QuoteCheck:
    ok: bool
    closest: str


class SourceTexts:
    """The article texts the bot holds, keyed by source id."""

    def __init__(self, texts: dict[str, str]) -> None:
        self._texts = {key: collapse(text) for key, text in texts.items()}

    @classmethod
    def from_dir(cls, folder: Path | None) -> SourceTexts:
        if folder is None or not folder.is_dir():
            return cls({})
        return cls({p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))})

    def knows(self, source_id: str) -> bool:
        return source_id in self._texts

    def check(self, source_id: str, quote: str) -> QuoteCheck:
        """Whether quote occurs in the article; when not, the passage that comes closest."""
        text = self._texts[source_id]
        wanted = collapse(quote)
        if wanted and wanted in text:
            return QuoteCheck(ok=True, closest=wanted)
        if not wanted:
            return QuoteCheck(ok=False, closest="")
        found = fuzz.partial_ratio_alignment(wanted, text)
        closest = text[found.dest_start : found.dest_end] if found else ""
        return QuoteCheck(ok=False, closest=closest)
