"""The fact base's vocabulary: sources, facts and their evidence as immutable values.

Every layer (files, database, matcher, Telegram) exchanges these objects, so a fact has one shape
everywhere and a change is always a new value that can be compared with the old one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Any

COUNTRIES = ("azerbaijan", "iran", "belarus")
TOPICS = (
    "diplomacy",
    "visits",
    "military",
    "trade",
    "energy",
    "economy",
    "geopolitics",
    "people",
    "sources",
    "overview",
)
LANGUAGES = ("en", "ru")
ANSWER_LIMIT = 350
QUOTE_WORD_LIMIT = 40
MIN_QUESTIONS = {"en": 3, "ru": 2}
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DAY = r"\d{4}(?:-\d{2}(?:-\d{2})?)?"
DATE_RE = re.compile(rf"^{_DAY}(?:/{_DAY})?$")


def parse_partial_date(text: str) -> dt.date:
    """The first day a YYYY, YYYY-MM or YYYY-MM-DD date can mean, for sorting and display."""
    parts = [int(p) for p in text.split("-")]
    while len(parts) < 3:
        parts.append(1)
    return dt.date(parts[0], parts[1], parts[2])


def valid_date(text: str) -> bool:
    """Whether text is a date or START/END period the fact files accept, on real calendar days."""
    if not DATE_RE.match(text):
        return False
    try:
        bounds = [parse_partial_date(p) for p in text.split("/")]
    except ValueError:
        return False
    return bounds == sorted(bounds)


@dataclass(frozen=True)
class Source:
    """An article the facts are taken from; its fields make up every citation."""

    id: str
    title: str
    outlet: str
    author: str
    published: str
    url: str | None = None
    language: str = "en"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "outlet": self.outlet,
            "author": self.author,
            "published": self.published,
            "url": self.url,
            "language": self.language,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            outlet=str(data["outlet"]),
            author=str(data.get("author") or "not named"),
            published=str(data["published"]),
            url=str(data["url"]) if data.get("url") else None,
            language=str(data.get("language") or "en"),
        )


@dataclass(frozen=True)
class Evidence:
    """A verbatim passage of a source article that a fact rests on."""

    source: str
    quote: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "quote": self.quote}


@dataclass(frozen=True)
class Fact:
    """One curated, sourced statement with the ways people ask about it."""

    id: str
    country: str
    topic: str
    date: str
    answer: dict[str, str]
    questions: dict[str, tuple[str, ...]]
    keywords: tuple[str, ...]
    aliases: tuple[str, ...]
    sources: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    timeline: bool = False
    retired: bool = False

    def answer_in(self, lang: str) -> str:
        return self.answer.get(lang) or self.answer["en"]

    def questions_in(self, lang: str) -> tuple[str, ...]:
        return self.questions.get(lang) or self.questions.get("en", ())

    @property
    def starts(self) -> dt.date:
        return parse_partial_date(self.date.split("/")[0])

    def with_changes(self, **changes: Any) -> Fact:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The fact as it is written in a fact file (and stored in the database)."""
        data: dict[str, Any] = {
            "id": self.id,
            "country": self.country,
            "topic": self.topic,
            "date": self.date,
            "timeline": self.timeline,
            "answer": {lang: self.answer[lang] for lang in LANGUAGES if lang in self.answer},
            "questions": {
                lang: list(self.questions[lang]) for lang in LANGUAGES if lang in self.questions
            },
            "keywords": list(self.keywords),
            "aliases": list(self.aliases),
            "sources": list(self.sources),
            "evidence": [e.to_dict() for e in self.evidence],
        }
        if self.retired:
            data["retired"] = True
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fact:
        """Build a fact from already validated data (see knowledge.validate_fact)."""
        questions = data.get("questions") or {}
        return cls(
            id=str(data["id"]),
            country=str(data["country"]),
            topic=str(data["topic"]),
            date=str(data["date"]),
            timeline=bool(data.get("timeline", False)),
            answer={str(k): str(v) for k, v in (data.get("answer") or {}).items()},
            questions={str(k): tuple(str(q) for q in v or ()) for k, v in questions.items()},
            keywords=tuple(str(k) for k in data.get("keywords") or ()),
            aliases=tuple(str(a) for a in data.get("aliases") or ()),
            sources=tuple(str(s) for s in data.get("sources") or ()),
            evidence=tuple(
                Evidence(source=str(e["source"]), quote=str(e["quote"]))
                for e in data.get("evidence") or ()
            ),
            retired=bool(data.get("retired", False)),
        )
