"""The only place that speaks SQL: the SQLite database behind the bot, through aiosqlite.

Rows become frozen domain objects at this boundary. Every change is one transaction, so a crash
leaves the database as it was before the action; every change to a fact writes a revision with
who, when, before and after.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite

from bot.domain.knowledge import KnowledgeBase
from bot.domain.models import Fact, Source
from bot.storage.schema import LATEST, MIGRATIONS


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def content_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


class ConflictError(Exception):
    """The fact changed since the caller read it (another admin saved first)."""

    def __init__(self, current: StoredFact) -> None:
        super().__init__(f"fact {current.fact.id} is at version {current.version}")
        self.current = current


@dataclass(frozen=True)
class StoredFact:
    fact: Fact
    version: int
    updated_at: str
    updated_by: str


@dataclass(frozen=True)
class Revision:
    id: int
    fact_id: str
    version: int
    action: str
    actor: str
    at: str
    before: Fact | None
    after: Fact | None


@dataclass
class ImportReport:
    """What `knowledge load` did, fact by fact."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    sources_changed: list[str] = field(default_factory=list)


class Store:
    """An open database. Use `await Store.open(path)` and `await store.close()`."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._conn = conn
        self.path = path

    @classmethod
    async def open(cls, path: str | Path, migrate_to: int = LATEST) -> Store:
        target = str(path)
        if target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(target, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        for pragma in (
            "PRAGMA foreign_keys = ON",
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA busy_timeout = 5000",
        ):
            await conn.execute(pragma)
        store = cls(conn, target)
        try:
            await store._migrate(migrate_to)
        except BaseException:
            await conn.close()
            raise
        return store

    async def close(self) -> None:
        await self._conn.close()

    async def schema_version(self) -> int:
        async with self._conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def _migrate(self, target: int) -> None:
        current = await self.schema_version()
        if current > LATEST:
            raise RuntimeError(
                f"database schema {current} is newer than this program ({LATEST}); upgrade tiesbot"
            )
        for version in range(current + 1, target + 1):
            async with self.transaction():
                for statement in _statements(MIGRATIONS[version - 1]):
                    await self._conn.execute(statement)
                await self._conn.execute(f"PRAGMA user_version = {version}")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One atomic unit of work; rolled back on any exception, cancellation included."""
        await self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            await self._conn.execute("ROLLBACK")
            raise
        await self._conn.execute("COMMIT")

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        async with self._conn.execute(sql, tuple(params)) as cur:
            return await cur.fetchone()

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        async with self._conn.execute(sql, tuple(params)) as cur:
            return list(await cur.fetchall())

    # -- meta --------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        row = await self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return str(row["value"]) if row else None

    async def set_meta(self, key: str, value: str) -> None:
        async with self.transaction() as conn:
            await _set_meta(conn, key, value)

    # -- sources -----------------------------------------------------------------------

    async def sources(self) -> list[Source]:
        rows = await self._all("SELECT data FROM sources ORDER BY id")
        return [Source.from_dict(json.loads(r["data"])) for r in rows]

    async def save_source(self, source: Source) -> None:
        async with self.transaction() as conn:
            await _upsert_source(conn, source)

    # -- facts -------------------------------------------------------------------------

    async def facts(self, include_retired: bool = False) -> list[Fact]:
        sql = "SELECT data, retired FROM facts"
        if not include_retired:
            sql += " WHERE retired = 0"
        rows = await self._all(sql + " ORDER BY id")
        return [_fact(r) for r in rows]

    async def get(self, fact_id: str) -> StoredFact | None:
        row = await self._one(
            "SELECT data, retired, version, updated_at, updated_by FROM facts WHERE id = ?",
            (fact_id,),
        )
        if row is None:
            return None
        return StoredFact(_fact(row), int(row["version"]), row["updated_at"], row["updated_by"])

    async def is_empty(self) -> bool:
        return await self._one("SELECT 1 FROM facts LIMIT 1") is None

    async def save_fact(
        self, fact: Fact, actor: str, action: str, expected_version: int | None = None
    ) -> StoredFact:
        """Create or change a fact with its revision; refuse if it moved past expected_version."""
        async with self.transaction() as conn:
            return await _write_fact(conn, fact, actor, action, expected_version)

    async def revisions(self, fact_id: str, limit: int = 20) -> list[Revision]:
        rows = await self._all(
            "SELECT * FROM revisions WHERE fact_id = ? ORDER BY id DESC LIMIT ?", (fact_id, limit)
        )
        return [_revision(r) for r in rows]

    async def undo(self, fact_id: str, actor: str) -> StoredFact | None:
        """Revert a fact's last change, itself recorded as a revision. None: nothing to undo."""
        async with self.transaction() as conn:
            async with conn.execute(
                "SELECT * FROM revisions WHERE fact_id = ? ORDER BY id DESC LIMIT 1", (fact_id,)
            ) as cur:
                row = await cur.fetchone()
            if row is None or row["before"] is None:
                return None
            previous = _revision(row).before
            assert previous is not None
            return await _write_fact(conn, previous, actor, "undo", int(row["version"]))

    # -- import and export -------------------------------------------------------------

    async def import_knowledge(
        self, base: KnowledgeBase, overwrite: bool = False, actor: str = "import"
    ) -> ImportReport:
        """Upsert the files' facts; a fact an admin changed since the last import is a conflict.

        Conflicts are left untouched on both sides unless `overwrite` is set. All in one
        transaction: a failure imports nothing.
        """
        report = ImportReport()
        async with self.transaction() as conn:
            existing_sources = {
                r["id"]: r["data"] for r in await _rows(conn, "SELECT id, data FROM sources")
            }
            for source in base.sources:
                data = json.dumps(source.to_dict(), ensure_ascii=False, sort_keys=True)
                if existing_sources.get(source.id) != data:
                    await _upsert_source(conn, source)
                    report.sources_changed.append(source.id)
            rows = {
                r["id"]: r
                for r in await _rows(
                    conn, "SELECT id, data, retired, imported_hash, version FROM facts"
                )
            }
            for fact in base.facts:
                wanted = content_hash(fact.to_dict())
                row = rows.get(fact.id)
                if row is None:
                    await _write_fact(conn, fact, actor, "import", None, imported=wanted)
                    report.added.append(fact.id)
                    continue
                current = content_hash(_fact(row).to_dict())
                if current == wanted:
                    if row["imported_hash"] != wanted:
                        await conn.execute(
                            "UPDATE facts SET imported_hash = ? WHERE id = ?", (wanted, fact.id)
                        )
                    report.unchanged.append(fact.id)
                elif row["imported_hash"] == current or overwrite:
                    await _write_fact(
                        conn, fact, actor, "import", int(row["version"]), imported=wanted
                    )
                    report.updated.append(fact.id)
                else:
                    report.conflicts.append(fact.id)
        return report

    async def knowledge_base(self) -> KnowledgeBase:
        return KnowledgeBase(
            sources=tuple(await self.sources()),
            facts=tuple(await self.facts(include_retired=True)),
        )

    # -- query log ---------------------------------------------------------------------

    async def log_query(
        self,
        question: str,
        lang: str,
        outcome: str,
        fact_id: str | None,
        score: float,
        at: str | None = None,
    ) -> int:
        async with self.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO query_log (at, question, lang, outcome, fact_id, score)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (at or utcnow(), question, lang, outcome, fact_id, score),
            )
            return int(cur.lastrowid or 0)

    async def set_feedback(self, query_id: int, value: int) -> bool:
        async with self.transaction() as conn:
            cur = await conn.execute(
                "UPDATE query_log SET feedback = ? WHERE id = ?", (value, query_id)
            )
            return cur.rowcount == 1


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


async def _rows(
    conn: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()
) -> list[aiosqlite.Row]:
    async with conn.execute(sql, tuple(params)) as cur:
        return list(await cur.fetchall())


def _fact(row: aiosqlite.Row) -> Fact:
    data = json.loads(row["data"])
    data["retired"] = bool(row["retired"])
    return Fact.from_dict(data)


def _revision(row: aiosqlite.Row) -> Revision:
    before = Fact.from_dict(json.loads(row["before"])) if row["before"] else None
    after = Fact.from_dict(json.loads(row["after"])) if row["after"] else None
    return Revision(
        id=int(row["id"]),
        fact_id=row["fact_id"],
        version=int(row["version"]),
        action=row["action"],
        actor=row["actor"],
        at=row["at"],
        before=before,
        after=after,
    )


async def _set_meta(conn: aiosqlite.Connection, key: str, value: str) -> None:
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


async def _upsert_source(conn: aiosqlite.Connection, source: Source) -> None:
    await conn.execute(
        "INSERT INTO sources (id, data, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
        (source.id, json.dumps(source.to_dict(), ensure_ascii=False, sort_keys=True), utcnow()),
    )


async def _write_fact(
    conn: aiosqlite.Connection,
    fact: Fact,
    actor: str,
    action: str,
    expected_version: int | None,
    imported: str | None = None,
) -> StoredFact:
    async with conn.execute(
        "SELECT data, retired, version, updated_at, updated_by FROM facts WHERE id = ?", (fact.id,)
    ) as cur:
        row = await cur.fetchone()
    now = utcnow()
    data = fact.to_dict()
    data.pop("retired", None)
    payload = json.dumps(data, ensure_ascii=False, sort_keys=True)
    if row is None:
        if expected_version is not None:
            raise KeyError(fact.id)
        version = 1
        before = None
        await conn.execute(
            "INSERT INTO facts (id, country, topic, data, retired, version, imported_hash,"
            " created_at, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
            (
                fact.id,
                fact.country,
                fact.topic,
                payload,
                int(fact.retired),
                imported,
                now,
                now,
                actor,
            ),
        )
    else:
        current = StoredFact(_fact(row), int(row["version"]), row["updated_at"], row["updated_by"])
        if expected_version is not None and current.version != expected_version:
            raise ConflictError(current)
        version = current.version + 1
        before = json.dumps(current.fact.to_dict(), ensure_ascii=False, sort_keys=True)
        await conn.execute(
            "UPDATE facts SET country = ?, topic = ?, data = ?, retired = ?, version = ?,"
            " imported_hash = COALESCE(?, imported_hash), updated_at = ?, updated_by = ?"
            " WHERE id = ?",
            (
                fact.country,
                fact.topic,
                payload,
                int(fact.retired),
                version,
                imported,
                now,
                actor,
                fact.id,
            ),
        )
        await conn.execute("DELETE FROM fact_sources WHERE fact_id = ?", (fact.id,))
    for source_id in dict.fromkeys(fact.sources):
        await conn.execute(
            "INSERT INTO fact_sources (fact_id, source_id) VALUES (?, ?)", (fact.id, source_id)
        )
    await conn.execute(
        "INSERT INTO revisions (fact_id, version, action, actor, at, before, after)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            fact.id,
            version,
            action,
            actor,
            now,
            before,
            json.dumps(fact.to_dict(), ensure_ascii=False, sort_keys=True),
        ),
    )
    return StoredFact(fact, version, now, actor)
