"""The bot's working core: the store, the matcher and the composer kept in step.

Every entry point (command line, console chat, Telegram) goes through one `FactService`, so a
fact an admin saves is indexed at once and a question is answered the same way everywhere.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.domain.answers import Composer, Format
from bot.domain.evidence import SourceTexts
from bot.domain.knowledge import KnowledgeError, parse_knowledge, read_folder
from bot.domain.matcher import Candidate, Match, Matcher, Outcome
from bot.domain.models import Fact, Source
from bot.storage.store import ImportReport, Store, StoredFact

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """A matcher verdict with what a reader needs to see it."""

    match: Match
    fact: Fact | None
    suggestions: tuple[tuple[Fact, Candidate], ...]

    @property
    def outcome(self) -> Outcome:
        """What the reader got: the query log and the JSON contract both record this."""
        if self.fact is not None:
            return "answered"
        return "suggested" if self.suggestions else "declined"


class FactService:
    """Opened once per process; holds the live index of the fact base."""

    def __init__(
        self, store: Store, texts: SourceTexts, facts: list[Fact], sources: list[Source]
    ) -> None:
        self.store = store
        self.texts = texts
        self._facts = {f.id: f for f in facts}
        self._sources = {s.id: s for s in sources}
        self.matcher = Matcher(f for f in facts if not f.retired)
        self.composer = Composer(self._sources)
        self._related: dict[str, tuple[str, ...]] = {}
        self._rendered: dict[tuple[str, str, Format], str] = {}

    @classmethod
    async def open(
        cls, database: Path, knowledge: Path | None, sources_dir: Path | None
    ) -> FactService:
        """Open the database, bring in new or changed fact files, and build the index."""
        store = await Store.open(database)
        texts = SourceTexts.from_dir(sources_dir)
        try:
            if knowledge is not None:
                await sync_knowledge(store, knowledge, texts)
            facts = await store.facts(include_retired=True)
            sources = await store.sources()
            return cls(store, texts, facts, sources)
        except BaseException:
            # aiosqlite's worker thread would otherwise keep the process alive.
            await store.close()
            raise

    async def close(self) -> None:
        await self.store.close()

    # -- reading -------------------------------------------------------------------------

    @property
    def sources(self) -> dict[str, Source]:
        return self._sources

    def facts(self, include_retired: bool = False) -> list[Fact]:
        return sorted(
            (f for f in self._facts.values() if include_retired or not f.retired),
            key=lambda f: f.id,
        )

    def fact(self, fact_id: str) -> Fact | None:
        return self._facts.get(fact_id)

    def ask(self, question: str) -> Reply:
        match = self.matcher.match(question)
        fact = self._facts.get(match.fact_id) if match.fact_id else None
        suggestions = tuple(
            (self._facts[c.fact_id], c) for c in match.suggestions if c.fact_id in self._facts
        )
        return Reply(match, fact, suggestions)

    def search(self, question: str, limit: int = 10) -> list[Fact]:
        """Facts ranked for a question, for inline mode and /find; no thresholds."""
        _, ranked = self.matcher.rank(question, limit=limit)
        return [self._facts[c.fact_id] for c in ranked if c.fact_id in self._facts]

    def related(self, fact: Fact, limit: int = 3) -> list[Fact]:
        """Facts a reader of this one may want next: the best matches for its first phrasing.

        Cached per fact because every answer shows them; any change to the index clears it.
        """
        cached = self._related.get(fact.id)
        if cached is None:
            phrasings = fact.questions_in("en") or (fact.answer_in("en"),)
            ranked = self.search(phrasings[0], limit=limit + 1)
            cached = tuple(f.id for f in ranked if f.id != fact.id)[:limit]
            self._related[fact.id] = cached
        live = (self._facts.get(fact_id) for fact_id in cached)
        return [f for f in live if f is not None and not f.retired]

    def render(self, fact: Fact, lang: str, fmt: Format = "text") -> str:
        """The composed answer; cached for indexed facts, since every answer renders one.

        A fact that is not the indexed one (an admin's draft, an older version) is composed
        afresh; any change to facts or sources clears the cache.
        """
        if self._facts.get(fact.id) is not fact:
            return self.composer.answer(fact, lang, fmt)
        key = (fact.id, lang, fmt)
        text = self._rendered.get(key)
        if text is None:
            text = self._rendered[key] = self.composer.answer(fact, lang, fmt)
        return text

    def to_json(self, reply: Reply, lang: str | None = None) -> dict[str, Any]:
        """The `tiesbot ask --json` contract (see ../shared/eval/score.py), in `lang` or the
        question's own language."""
        match, fact = reply.match, reply.fact
        lang = lang or match.lang
        out: dict[str, Any] = {
            "question": match.question,
            "lang": lang,
            "outcome": reply.outcome,
            "answered": fact is not None,
            "answer": self.render(fact, lang) if fact else None,
            "fact_id": fact.id if fact else None,
            "score": round(match.score, 4),
            "sources": [self._sources[s].to_dict() for s in fact.sources if s in self._sources]
            if fact
            else [],
            "suggestions": [
                {"fact_id": f.id, "question": f.questions_in(lang)[0], "score": c.score}
                for f, c in reply.suggestions
            ],
        }
        if fact is not None:
            out["evidence"] = [e.to_dict() for e in fact.evidence]
        return out

    # -- changing ------------------------------------------------------------------------

    def _indexed(self, stored: StoredFact) -> StoredFact:
        self._facts[stored.fact.id] = stored.fact
        self._related.clear()
        self._rendered.clear()
        self.matcher.upsert(stored.fact)
        return stored

    async def save(
        self, fact: Fact, actor: str, action: str, expected_version: int | None = None
    ) -> StoredFact:
        """Store a fact with its revision and make it answerable (or not, if retired) at once."""
        return self._indexed(await self.store.save_fact(fact, actor, action, expected_version))

    async def create(self, fact: Fact, actor: str, sources: Sequence[Source] = ()) -> StoredFact:
        """Store a new fact, with any new sources it rests on, in one transaction, and make it
        answerable at once; ConflictError if its id was taken meanwhile."""
        [stored] = await self.store.save_facts(sources, [fact], {}, actor, "add")
        self._sources.update({s.id: s for s in sources})
        self._rendered.clear()
        return self._indexed(stored)

    async def undo(self, fact_id: str, actor: str) -> StoredFact | None:
        stored = await self.store.undo(fact_id, actor)
        return self._indexed(stored) if stored else None

    async def save_source(self, source: Source) -> None:
        await self.store.save_source(source)
        self._sources[source.id] = source
        self._rendered.clear()

    async def reload(self) -> None:
        """Rebuild the index after a bulk change (an /import)."""
        facts = await self.store.facts(include_retired=True)
        self._facts = {f.id: f for f in facts}
        self._sources.clear()
        self._sources.update({s.id: s for s in await self.store.sources()})
        self.matcher = Matcher(f for f in facts if not f.retired)
        self._related.clear()
        self._rendered.clear()


def folder_hash(files: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()


async def sync_knowledge(
    store: Store, folder: Path, texts: SourceTexts, overwrite: bool = False, force: bool = False
) -> ImportReport | None:
    """Import the fact files when they changed since the last import (or when forced).

    Fills an empty database on first use. Raises KnowledgeError for invalid files; the
    database is then left as it was.
    """
    files = read_folder(folder)
    digest = folder_hash(files)
    if not force and await store.get_meta("knowledge_hash") == digest:
        return None
    if not files and not await store.is_empty():
        return None
    base = parse_knowledge(files, texts)
    report = await store.import_knowledge(base, overwrite=overwrite)
    if report.conflicts:
        log.warning(
            "fact files and database disagree on %d fact(s) changed by admins; kept the "
            "database version: %s (tiesbot knowledge load --overwrite to replace)",
            len(report.conflicts),
            ", ".join(report.conflicts),
        )
    else:
        await store.set_meta("knowledge_hash", digest)
    return report


__all__ = ["FactService", "KnowledgeError", "Reply", "sync_knowledge"]
