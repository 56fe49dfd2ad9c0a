"""The only place that speaks SQL: the SQLite database behind the bot, through aiosqlite.

Rows become frozen domain objects at this boundary. Every change is one transaction, so a crash
leaves the database as it was before the action; every change to a fact writes a revision with
who, when, before and after.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator, Collection, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite

from bot.domain.curation import LoggedQuestion
from bot.domain.knowledge import KnowledgeBase
from bot.domain.models import Fact, Source
from bot.storage.schema import LATEST, MIGRATIONS

INITIAL_IMPORT = "initial import"
# Chat ids bound in one ledger statement, well under SQLite's limit on parameters.
_ID_CHUNK = 500
_DEACTIVATE = (
    "UPDATE subscribers SET active = 0, deactivated_at = ?, deactivated_reason = ?"
    " WHERE chat_id = ? AND active = 1"
)


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
        # One connection serves every concurrent handler: a write must never run inside
        # another task's open transaction (nor BEGIN inside one), so writes take turns.
        self._write_lock = asyncio.Lock()

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
        async with self._write_lock:
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
            # The first fill of an empty database is the archive, not news for the digest.
            adding = INITIAL_IMPORT if not rows else "import"
            for fact in base.facts:
                wanted = content_hash(fact.to_dict())
                row = rows.get(fact.id)
                if row is None:
                    await _write_fact(conn, fact, actor, adding, None, imported=wanted)
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
        # Every question comes here: one autocommit INSERT is atomic on its own, so it needs
        # no BEGIN/COMMIT round trips to the database thread. The write lock stays, so the row
        # never lands inside (or is rolled back with) another coroutine's open transaction.
        async with self._write_lock:
            cur = await self._conn.execute(
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

    # -- curation: editors, unanswered questions, owners' settings, /stats, /import ---

    async def editors(self) -> list[Editor]:
        rows = await self._all("SELECT * FROM editors ORDER BY added_at, user_id")
        return [Editor(int(r["user_id"]), int(r["added_by"]), r["added_at"]) for r in rows]

    async def is_editor(self, user_id: int) -> bool:
        return await self._one("SELECT 1 FROM editors WHERE user_id = ?", (user_id,)) is not None

    async def add_editor(self, user_id: int, added_by: int) -> bool:
        """Grant the editor role, recorded in the role history; False when the user already
        had it (and nothing is recorded)."""
        at = utcnow()
        async with self.transaction() as conn:
            cur = await conn.execute(
                "INSERT OR IGNORE INTO editors (user_id, added_by, added_at) VALUES (?, ?, ?)",
                (user_id, added_by, at),
            )
            if cur.rowcount != 1:
                return False
            await _record_role_change(conn, user_id, "granted", added_by, at)
        return True

    async def remove_editor(self, user_id: int, removed_by: int) -> bool:
        """Take the editor role away, recorded in the role history; False when the user did
        not have it."""
        async with self.transaction() as conn:
            cur = await conn.execute("DELETE FROM editors WHERE user_id = ?", (user_id,))
            if cur.rowcount != 1:
                return False
            await _record_role_change(conn, user_id, "revoked", removed_by, utcnow())
        return True

    async def role_changes(self, limit: int) -> list[RoleChange]:
        """The latest grants and revocations, newest first."""
        rows = await self._all("SELECT * FROM role_changes ORDER BY id DESC LIMIT ?", (limit,))
        return [
            RoleChange(int(r["user_id"]), r["change"], int(r["changed_by"]), r["changed_at"])
            for r in rows
        ]

    async def logged_misses(self, start: dt.datetime) -> list[LoggedQuestion]:
        """Declined and did-you-mean questions since `start`, counted per exact text.

        Grouping by meaning (case, Cyrillic included) is left to Python: SQLite's lower()
        only folds ASCII.
        """
        rows = await self._all(
            "SELECT question, lang, outcome, COUNT(*) AS n, MAX(at) AS last_at FROM query_log"
            " WHERE outcome IN ('declined', 'suggested') AND at >= ?"
            " GROUP BY question, lang, outcome",
            (_utc_text(start),),
        )
        return [
            LoggedQuestion(r["question"], r["lang"], r["outcome"], int(r["n"]), r["last_at"])
            for r in rows
        ]

    async def ignored_questions(self) -> set[str]:
        return {r["question"] for r in await self._all("SELECT question FROM ignored_questions")}

    async def ignore_question(self, key: str, user_id: int) -> bool:
        changed = await self._change(
            "INSERT OR IGNORE INTO ignored_questions (question, ignored_by, ignored_at)"
            " VALUES (?, ?, ?)",
            (key, user_id, utcnow()),
        )
        return changed == 1

    async def set_daily_unanswered(self, user_id: int, on: bool) -> None:
        await self._change(
            "INSERT INTO owner_settings (user_id, daily_unanswered) VALUES (?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET daily_unanswered = excluded.daily_unanswered",
            (user_id, int(on)),
        )

    async def daily_unanswered_users(self) -> list[int]:
        rows = await self._all(
            "SELECT user_id FROM owner_settings WHERE daily_unanswered = 1 ORDER BY user_id"
        )
        return [int(r["user_id"]) for r in rows]

    async def query_stats(self, start: dt.datetime, top: int = 5) -> QueryStats:
        """What people asked since `start`: outcomes, feedback and the most given answers."""
        since = (_utc_text(start),)
        row = await self._one(
            "SELECT COUNT(*) AS asked,"
            " COALESCE(SUM(outcome = 'answered'), 0) AS answered,"
            " COALESCE(SUM(outcome = 'suggested'), 0) AS suggested,"
            " COALESCE(SUM(outcome = 'declined'), 0) AS declined,"
            " COALESCE(SUM(feedback = 1), 0) AS up, COALESCE(SUM(feedback = -1), 0) AS down"
            " FROM query_log WHERE at >= ?",
            since,
        )
        assert row is not None
        tops = await self._all(
            "SELECT fact_id, COUNT(*) AS n FROM query_log WHERE outcome = 'answered'"
            " AND fact_id IS NOT NULL AND at >= ? GROUP BY fact_id ORDER BY n DESC, fact_id"
            " LIMIT ?",
            (*since, top),
        )
        return QueryStats(
            asked=int(row["asked"]),
            answered=int(row["answered"]),
            suggested=int(row["suggested"]),
            declined=int(row["declined"]),
            thumbs_up=int(row["up"]),
            thumbs_down=int(row["down"]),
            top_facts=tuple((r["fact_id"], int(r["n"])) for r in tops),
        )

    async def subscriber_count(self) -> int:
        row = await self._one("SELECT COUNT(*) FROM subscribers WHERE active = 1")
        return int(row[0]) if row else 0

    async def save_facts(
        self,
        sources: Iterable[Source],
        facts: Iterable[Fact],
        versions: dict[str, int],
        actor: str,
        action: str = "import",
    ) -> list[StoredFact]:
        """Write facts (an admin's upload, a new fact) in one transaction: all of them, or (on
        any error, a ConflictError included) none. `versions` are the versions the admin saw;
        a fact without one must be new, else ConflictError."""
        async with self.transaction() as conn:
            for source in sources:
                await _upsert_source(conn, source)
            written = []
            for fact in facts:
                expected = versions.get(fact.id)
                if expected is None:
                    async with conn.execute(
                        "SELECT data, retired, version, updated_at, updated_by FROM facts"
                        " WHERE id = ?",
                        (fact.id,),
                    ) as cur:
                        row = await cur.fetchone()
                    if row is not None:  # added by someone else since the admin's preview
                        raise ConflictError(
                            StoredFact(
                                _fact(row),
                                int(row["version"]),
                                row["updated_at"],
                                row["updated_by"],
                            )
                        )
                written.append(await _write_fact(conn, fact, actor, action, expected))
            return written

    # -- chats -------------------------------------------------------------------------

    async def chat_lang(self, chat_id: int) -> str | None:
        """The answer language a chat chose with /lang; None when it never chose."""
        row = await self._one("SELECT lang FROM chats WHERE chat_id = ?", (chat_id,))
        return str(row["lang"]) if row else None

    async def set_chat_lang(self, chat_id: int, kind: str, lang: str) -> None:
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT INTO chats (chat_id, kind, lang, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (chat_id) DO UPDATE SET kind = excluded.kind,"
                " lang = excluded.lang, updated_at = excluded.updated_at",
                (chat_id, kind, lang, utcnow()),
            )

    async def query(self, query_id: int) -> dict[str, Any] | None:
        """One query-log row as a dict (for the bot's feedback and for tests)."""
        row = await self._one("SELECT * FROM query_log WHERE id = ?", (query_id,))
        return dict(row) if row else None

    # -- digest: subscribers -----------------------------------------------------------
    # Ledger and subscriber writes below are single statements: the connection is in
    # autocommit mode, so each one is committed when it returns and concurrent broadcast
    # workers need no transaction of their own (two open transactions on one connection
    # would collide).

    async def _change(self, sql: str, params: Iterable[Any] = ()) -> int:
        async with self._write_lock, self._conn.execute(sql, tuple(params)) as cur:
            return int(cur.rowcount)

    async def subscribe(self, chat_id: int, kind: str = "private") -> bool:
        """Start (or restart) the weekly digest for a chat; False when it was already on."""
        changed = await self._change(
            "INSERT INTO subscribers (chat_id, kind, active, subscribed_at) VALUES (?, ?, 1, ?)"
            " ON CONFLICT (chat_id) DO UPDATE SET kind = excluded.kind, active = 1,"
            " subscribed_at = excluded.subscribed_at, deactivated_at = NULL,"
            " deactivated_reason = NULL WHERE subscribers.active = 0",
            (chat_id, kind, utcnow()),
        )
        return changed == 1

    async def unsubscribe(self, chat_id: int) -> bool:
        """Stop the digest at the reader's request; False when it was not on."""
        return await self.deactivate(chat_id, "unsubscribed")

    async def deactivate(self, chat_id: int, reason: str) -> bool:
        """Stop the digest for a chat Telegram says is gone (blocked, kicked, deleted)."""
        changed = await self._change(_DEACTIVATE, (utcnow(), reason, chat_id))
        return changed == 1

    async def move_chat(self, old: int, new: int) -> bool:
        """A group became a supergroup, which has a new chat id: its subscription and its
        language go with it. What the new chat already has of its own is kept. True when an
        active subscription moved."""
        reason = f"moved to supergroup {new}"
        async with self.transaction() as conn:
            await conn.execute(
                "UPDATE OR IGNORE chats SET chat_id = ?, kind = 'supergroup' WHERE chat_id = ?",
                (new, old),
            )
            await conn.execute("DELETE FROM chats WHERE chat_id = ?", (old,))
            cur = await conn.execute(
                "UPDATE OR IGNORE subscribers SET chat_id = ?, kind = 'supergroup'"
                " WHERE chat_id = ? AND active = 1",
                (new, old),
            )
            moved = cur.rowcount == 1
            await conn.execute(_DEACTIVATE, (utcnow(), reason, old))
        return moved

    async def is_subscribed(self, chat_id: int) -> bool:
        row = await self._one(
            "SELECT 1 FROM subscribers WHERE chat_id = ? AND active = 1", (chat_id,)
        )
        return row is not None

    async def active_subscribers(self) -> list[Subscriber]:
        """Who gets the next digest, each with the language of their chat (English if unset)."""
        rows = await self._all(
            "SELECT s.chat_id, s.kind, COALESCE(c.lang, 'en') AS lang FROM subscribers s"
            " LEFT JOIN chats c ON c.chat_id = s.chat_id WHERE s.active = 1 ORDER BY s.chat_id"
        )
        return [Subscriber(int(r["chat_id"]), r["kind"], r["lang"]) for r in rows]

    # -- digest: digests ---------------------------------------------------------------

    async def create_digest(self, digest_id: str, featured: Iterable[str], content: str) -> bool:
        """Store a week's digest once; False when it exists (the stored one stays authoritative).

        A week recorded as skipped (no content) is revived, so an admin can still send it.
        """
        changed = await self._change(
            "INSERT INTO digests (id, created_at, featured, content, status)"
            " VALUES (?, ?, ?, ?, 'sending') ON CONFLICT (id) DO UPDATE SET"
            " featured = excluded.featured, content = excluded.content, status = 'sending'"
            " WHERE digests.content = ''",
            (digest_id, utcnow(), json.dumps(list(featured)), content),
        )
        return changed == 1

    async def get_digest(self, digest_id: str) -> StoredDigest | None:
        row = await self._one("SELECT * FROM digests WHERE id = ?", (digest_id,))
        return _digest(row) if row else None

    async def skip_digest(self, digest_id: str) -> bool:
        """Record that a week's digest will not go out, so start-up stops asking about it."""
        changed = await self._change(
            "INSERT OR IGNORE INTO digests (id, created_at, featured, content, status)"
            " VALUES (?, ?, '[]', '', 'skipped')",
            (digest_id, utcnow()),
        )
        return changed == 1

    async def mark_digest(self, digest_id: str, status: str) -> bool:
        """Set a digest 'done' (broadcast finished) or 'skipped'."""
        if status not in ("sending", "done", "skipped"):
            raise ValueError(f"unknown digest status {status!r}")
        changed = await self._change(
            "UPDATE digests SET status = ? WHERE id = ?", (status, digest_id)
        )
        return changed == 1

    async def unfinished_digests(self) -> list[StoredDigest]:
        """Digests whose broadcast never finished: what start-up must resume."""
        rows = await self._all("SELECT * FROM digests WHERE status = 'sending' ORDER BY id")
        return [_digest(r) for r in rows]

    async def has_digests(self) -> bool:
        return await self._one("SELECT 1 FROM digests LIMIT 1") is not None

    async def recent_featured(self, limit: int = 8, before: str | None = None) -> list[list[str]]:
        """Featured fact ids of the last `limit` digests (before week `before`), newest first.

        ISO week ids ("2026-W09") sort as text in calendar order. Skipped weeks featured
        nothing and do not count as digests.
        """
        rows = await self._all(
            "SELECT featured FROM digests WHERE status != 'skipped' AND (? IS NULL OR id < ?)"
            " ORDER BY id DESC LIMIT ?",
            (before, before, limit),
        )
        return [[str(i) for i in json.loads(r["featured"])] for r in rows]

    async def digest_status(self, limit: int = 8) -> list[DigestStatus]:
        """The last digests with how many deliveries are in each state, newest first."""
        rows = await self._all(
            "SELECT d.id, d.status, d.created_at, l.state, COUNT(l.chat_id) AS n"
            " FROM (SELECT * FROM digests ORDER BY id DESC LIMIT ?) d"
            " LEFT JOIN deliveries l ON l.digest_id = d.id"
            " GROUP BY d.id, l.state ORDER BY d.id DESC",
            (limit,),
        )
        report: dict[str, DigestStatus] = {}
        for r in rows:
            item = report.setdefault(
                r["id"], DigestStatus(r["id"], r["status"], r["created_at"], {})
            )
            if r["state"] is not None:
                item.counts[r["state"]] = int(r["n"])
        return list(report.values())

    # -- digest: the delivery ledger ---------------------------------------------------

    async def add_deliveries(self, digest_id: str, chat_ids: Iterable[int]) -> int:
        """One 'pending' row per (digest, chat); existing rows are left as they are.

        One statement, so it is atomic without a transaction of its own.
        """
        changed = await self._change(
            "INSERT OR IGNORE INTO deliveries (digest_id, chat_id, state, updated_at)"
            " SELECT ?, value, 'pending', ? FROM json_each(?)",
            (digest_id, utcnow(), json.dumps([int(c) for c in chat_ids])),
        )
        return max(changed, 0)

    async def deliveries(self, digest_id: str) -> list[Delivery]:
        rows = await self._all(
            "SELECT * FROM deliveries WHERE digest_id = ? ORDER BY chat_id", (digest_id,)
        )
        return [
            Delivery(
                int(r["chat_id"]), r["state"], int(r["attempts"]), r["error"], r["updated_at"]
            )
            for r in rows
        ]

    async def pending_deliveries(self, digest_id: str) -> dict[int, str]:
        """Chats still to be sent this digest, each with its language (English if unset)."""
        rows = await self._all(
            "SELECT d.chat_id, COALESCE(c.lang, 'en') AS lang FROM deliveries d"
            " LEFT JOIN chats c ON c.chat_id = d.chat_id"
            " WHERE d.digest_id = ? AND d.state = 'pending' ORDER BY d.chat_id",
            (digest_id,),
        )
        return {int(r["chat_id"]): r["lang"] for r in rows}

    async def mark_sending(self, digest_id: str, chat_ids: Collection[int]) -> set[int]:
        """Claim pending rows just before their sends, in one statement; returns the chats
        claimed. A chat missing from it was not pending (someone else claimed it, or it was
        already dealt with), and the caller must not send to it."""
        return await self._set_deliveries(digest_id, chat_ids, "sending", ("pending",), attempt=1)

    async def mark_sent(self, digest_id: str, chat_ids: Collection[int]) -> set[int]:
        """Record sends Telegram accepted, in one statement; returns the chats recorded."""
        return await self._set_deliveries(digest_id, chat_ids, "sent", ("sending",))

    async def _set_deliveries(
        self,
        digest_id: str,
        chat_ids: Collection[int],
        state: str,
        from_states: tuple[str, ...],
        error: str | None = None,
        attempt: int = 0,
    ) -> set[int]:
        """Move rows in one of `from_states` to `state`; returns the chats moved.

        A broadcast's workers claim and confirm many rows at once (bot/broadcast.py groups
        them): one statement each way instead of one per chat. Chunked below SQLite's limit
        on bound parameters.
        """
        done: set[int] = set()
        ids = list(chat_ids)
        states = ", ".join("?" for _ in from_states)
        for start in range(0, len(ids), _ID_CHUNK):
            chunk = ids[start : start + _ID_CHUNK]
            marks = ", ".join("?" for _ in chunk)
            done.update(
                await self._returning(
                    "UPDATE deliveries SET state = ?, error = ?,"
                    " attempts = attempts + ?, updated_at = ?"
                    f" WHERE digest_id = ? AND state IN ({states}) AND chat_id IN ({marks})"
                    " RETURNING chat_id",
                    (state, error, attempt, utcnow(), digest_id, *from_states, *chunk),
                )
            )
        return done

    async def mark_failed(self, digest_id: str, chat_id: int, error: str) -> bool:
        return await self._set_delivery(digest_id, chat_id, "failed", ("sending",), error)

    async def mark_unknown(self, digest_id: str, chat_id: int, error: str) -> bool:
        """The send may or may not have reached the chat: never to be sent again."""
        return await self._set_delivery(digest_id, chat_id, "unknown", ("sending",), error)

    async def mark_deactivated(self, digest_id: str, chat_id: int, reason: str) -> bool:
        return await self._set_delivery(
            digest_id, chat_id, "deactivated", ("pending", "sending"), reason
        )

    async def release_delivery(self, digest_id: str, chat_id: int, error: str) -> bool:
        """Back to 'pending' after Telegram refused the send outright (nothing was delivered),
        so a crash while waiting to retry does not cost the reader the digest."""
        return await self._set_delivery(digest_id, chat_id, "pending", ("sending",), error)

    async def _set_delivery(
        self,
        digest_id: str,
        chat_id: int,
        state: str,
        from_states: tuple[str, ...],
        error: str | None,
    ) -> bool:
        return bool(await self._set_deliveries(digest_id, [chat_id], state, from_states, error))

    async def recover_in_flight(self, digest_id: str) -> list[int]:
        """After a crash: rows left 'sending' become 'unknown' (never re-sent) and are returned.

        Telegram has no idempotency key, so a send that was under way may have been delivered;
        a second copy would be worse than a delivery nobody can confirm.
        """
        return await self._returning(
            "UPDATE deliveries SET state = 'unknown', updated_at = ?,"
            " error = 'in flight when the bot stopped'"
            " WHERE digest_id = ? AND state = 'sending' RETURNING chat_id",
            (utcnow(), digest_id),
        )

    async def drop_unsubscribed(self, digest_id: str) -> list[int]:
        """Pending rows of chats that unsubscribed or were deactivated since the digest began."""
        return await self._returning(
            "UPDATE deliveries SET state = 'deactivated', error = 'unsubscribed', updated_at = ?"
            " WHERE digest_id = ? AND state = 'pending'"
            " AND chat_id IN (SELECT chat_id FROM subscribers WHERE active = 0)"
            " RETURNING chat_id",
            (utcnow(), digest_id),
        )

    async def _returning(self, sql: str, params: Iterable[Any]) -> list[int]:
        # One statement (SQLite 3.35+): atomic, and committed once its rows are read.
        async with self._write_lock, self._conn.execute(sql, tuple(params)) as cur:
            rows = await cur.fetchall()
        return sorted(int(r[0]) for r in rows)

    # -- digest: what happened in a window ---------------------------------------------

    async def answered_counts(self, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
        """How often each fact was given as an answer in [start, end]: "most asked"."""
        rows = await self._all(
            "SELECT fact_id, COUNT(*) AS n FROM query_log WHERE outcome = 'answered'"
            " AND fact_id IS NOT NULL AND at >= ? AND at <= ? GROUP BY fact_id",
            (_utc_text(start), _utc_text(end)),
        )
        return {r["fact_id"]: int(r["n"]) for r in rows}

    async def changed_facts(self, start: dt.datetime, end: dt.datetime) -> dict[str, str]:
        """Facts with a revision in [start, end]: 'added' if one of them created the fact,
        else 'changed'. Retired facts are included; the digest drops what is not live.
        The first fill of the database is not news and does not count."""
        rows = await self._all(
            "SELECT fact_id, MAX(before IS NULL) AS added FROM revisions"
            " WHERE at >= ? AND at <= ? AND action != ? GROUP BY fact_id ORDER BY fact_id",
            (_utc_text(start), _utc_text(end), INITIAL_IMPORT),
        )
        return {r["fact_id"]: "added" if r["added"] else "changed" for r in rows}


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


async def _record_role_change(
    conn: aiosqlite.Connection, user_id: int, change: str, by: int, at: str
) -> None:
    await conn.execute(
        "INSERT INTO role_changes (user_id, change, changed_by, changed_at) VALUES (?, ?, ?, ?)",
        (user_id, change, by, at),
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


# -- digest rows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscriber:
    chat_id: int
    kind: str
    lang: str


@dataclass(frozen=True)
class StoredDigest:
    id: str
    created_at: str
    featured: tuple[str, ...]
    content: str
    status: str


@dataclass(frozen=True)
class DigestStatus:
    """A digest with how many of its deliveries are in each state, for /digest status."""

    id: str
    status: str
    created_at: str
    counts: dict[str, int]


@dataclass(frozen=True)
class Delivery:
    chat_id: int
    state: str
    attempts: int
    error: str | None
    updated_at: str


def _digest(row: aiosqlite.Row) -> StoredDigest:
    return StoredDigest(
        id=row["id"],
        created_at=row["created_at"],
        featured=tuple(str(i) for i in json.loads(row["featured"])),
        content=row["content"],
        status=row["status"],
    )


def _utc_text(moment: dt.datetime) -> str:
    """A moment as the log and revisions store it (utcnow()), so text comparison is ordering."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed to compare with stored UTC times")
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


# -- curation rows -------------------------------------------------------------------------


@dataclass(frozen=True)
class Editor:
    user_id: int
    added_by: int
    added_at: str


@dataclass(frozen=True)
class RoleChange:
    """One grant or revocation of the editor role."""

    user_id: int
    change: str  # 'granted' or 'revoked'
    changed_by: int
    changed_at: str


@dataclass(frozen=True)
class QueryStats:
    """The query log over one window, for /stats."""

    asked: int
    answered: int
    suggested: int
    declined: int
    thumbs_up: int
    thumbs_down: int
    top_facts: tuple[tuple[str, int], ...]
