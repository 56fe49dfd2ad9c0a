"""The SQLite store: migrations, pragmas, revisions, concurrency, imports, the query log."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot.domain.knowledge import KnowledgeBase
from bot.domain.models import Fact, Source
from bot.storage.schema import LATEST, MIGRATIONS
from bot.storage.store import ConflictError, Store

FACT_ID = "az-arms-t72-tanks"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "db" / "tiesbot.sqlite3")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def loaded(store: Store, knowledge_base: KnowledgeBase) -> Store:
    """A store holding the real fact base, as after the first start."""
    report = await store.import_knowledge(knowledge_base)
    assert len(report.added) == len(knowledge_base.facts)
    return store


def real_fact(base: KnowledgeBase, fact_id: str = FACT_ID) -> Fact:
    return next(f for f in base.facts if f.id == fact_id)


def edited(fact: Fact, text: str) -> Fact:
    return fact.with_changes(answer={**fact.answer, "en": text})


def table_rows(path: str, table: str) -> list[tuple[Any, ...]]:
    """A table's rows read with a separate connection, as another process would see them."""
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


async def scalar(store: Store, sql: str) -> Any:
    async with store.transaction() as conn, conn.execute(sql) as cur:
        row = await cur.fetchone()
    assert row is not None
    return row[0]


# -- schema ------------------------------------------------------------------------------


async def test_empty_database_migrates_to_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "new" / "fresh.sqlite3"
    store = await Store.open(path)
    try:
        assert path.is_file()
        assert await store.schema_version() == LATEST == len(MIGRATIONS)
        with closing(sqlite3.connect(path)) as conn:
            names = {
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        for table in ("meta", "sources", "facts", "fact_sources", "revisions", "query_log"):
            assert table in names
        assert await store.is_empty()
    finally:
        await store.close()


async def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    await (await Store.open(path)).close()
    store = await Store.open(path)
    try:
        assert await store.schema_version() == LATEST
    finally:
        await store.close()


async def test_version_1_database_with_data_migrates_and_keeps_its_rows(
    tmp_path: Path, knowledge_base: KnowledgeBase
) -> None:
    path = tmp_path / "old.sqlite3"
    old = await Store.open(path, migrate_to=1)
    try:
        assert await old.schema_version() == 1
        with pytest.raises(aiosqlite.OperationalError, match="query_log"):
            await old.log_query("q", "en", "declined", None, 0.0)
        for source in knowledge_base.sources:
            await old.save_source(source)
        fact = real_fact(knowledge_base)
        await old.save_fact(fact, actor="admin:1", action="add")
        await old.save_fact(edited(fact, "Changed in version 1."), "admin:1", "edit", 1)
        await old.set_meta("knowledge_hash", "abc")
    finally:
        await old.close()
    before = {t: table_rows(str(path), t) for t in ("facts", "revisions", "sources", "meta")}

    store = await Store.open(path)
    try:
        assert await store.schema_version() == LATEST
        for table, rows in before.items():
            assert table_rows(str(path), table) == rows, table
        stored = await store.get(FACT_ID)
        assert stored is not None
        assert stored.version == 2
        assert stored.fact.answer["en"] == "Changed in version 1."
        assert [r.action for r in await store.revisions(FACT_ID)] == ["edit", "add"]
        assert await store.get_meta("knowledge_hash") == "abc"
        # The tables of later versions now work.
        query_id = await store.log_query("q", "en", "declined", None, 0.0)
        assert await store.set_feedback(query_id, 1)
    finally:
        await store.close()


async def test_database_newer_than_the_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(RuntimeError, match="newer than this program"):
        await Store.open(path)


async def test_wal_mode_and_foreign_keys_are_on(store: Store) -> None:
    assert str(await scalar(store, "PRAGMA journal_mode")).lower() == "wal"
    assert await scalar(store, "PRAGMA foreign_keys") == 1
    with closing(sqlite3.connect(store.path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_a_fact_citing_an_unknown_source_is_refused_by_foreign_keys(
    store: Store, knowledge_base: KnowledgeBase
) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await store.save_fact(real_fact(knowledge_base), "admin:1", "add")
    assert await store.get(FACT_ID) is None
    assert table_rows(store.path, "revisions") == []


# -- facts and revisions -----------------------------------------------------------------


async def test_save_fact_writes_a_revision_with_before_after_and_actor(
    loaded: Store, knowledge_base: KnowledgeBase
) -> None:
    original = real_fact(knowledge_base)
    current = await loaded.get(FACT_ID)
    assert current is not None
    assert current.fact == original
    assert current.version == 1
    changed = edited(original, "Azerbaijan bought 153 T-72 tanks.")

    stored = await loaded.save_fact(changed, "admin:42", "edit", expected_version=1)

    assert stored.version == 2
    assert stored.updated_by == "admin:42"
    latest, first = await loaded.revisions(FACT_ID)
    assert (latest.action, latest.actor, latest.version) == ("edit", "admin:42", 2)
    assert latest.before == original
    assert latest.after == changed
    # The first fill of an empty database is recorded as such (the digest skips it).
    assert (first.action, first.actor, first.before, first.after) == (
        "initial import",
        "import",
        None,
        original,
    )
    reread = await loaded.get(FACT_ID)
    assert reread is not None
    assert reread.fact == changed
    assert reread.updated_by == "admin:42"


async def test_retiring_hides_a_fact_from_the_live_list(
    loaded: Store, knowledge_base: KnowledgeBase
) -> None:
    fact = real_fact(knowledge_base)
    await loaded.save_fact(fact.with_changes(retired=True), "admin:1", "retire", 1)
    assert FACT_ID not in {f.id for f in await loaded.facts()}
    retired = {f.id: f for f in await loaded.facts(include_retired=True)}[FACT_ID]
    assert retired.retired


async def test_stale_expected_version_raises_conflict_and_writes_nothing(
    loaded: Store, knowledge_base: KnowledgeBase
) -> None:
    fact = real_fact(knowledge_base)
    await loaded.save_fact(edited(fact, "First admin's text."), "admin:1", "edit", 1)
    facts_before = table_rows(loaded.path, "facts")
    revisions_before = table_rows(loaded.path, "revisions")

    with pytest.raises(ConflictError) as caught:
        await loaded.save_fact(edited(fact, "Second admin's text."), "admin:2", "edit", 1)

    assert caught.value.current.version == 2
    assert caught.value.current.fact.answer["en"] == "First admin's text."
    assert caught.value.current.updated_by == "admin:1"
    assert table_rows(loaded.path, "facts") == facts_before
    assert table_rows(loaded.path, "revisions") == revisions_before


async def test_expected_version_for_a_missing_fact_is_an_error(
    loaded: Store, knowledge_base: KnowledgeBase
) -> None:
    ghost = real_fact(knowledge_base).with_changes(id="no-such-fact")
    with pytest.raises(KeyError):
        await loaded.save_fact(ghost, "admin:1", "edit", expected_version=3)
    assert await loaded.get("no-such-fact") is None


async def test_undo_restores_the_previous_fact_and_records_an_undo(
    loaded: Store, knowledge_base: KnowledgeBase
) -> None:
    original = real_fact(knowledge_base)
    await loaded.save_fact(edited(original, "A mistake."), "admin:1", "edit", 1)

    restored = await loaded.undo(FACT_ID, "admin:2")

    assert restored is not None
    assert restored.fact == original
    assert restored.version == 3
    current = await loaded.get(FACT_ID)
    assert current is not None
    assert current.fact == original
    undo = (await loaded.revisions(FACT_ID))[0]
    assert (undo.action, undo.actor, undo.version) == ("undo", "admin:2", 3)
    assert undo.before is not None
    assert undo.before.answer["en"] == "A mistake."
    assert undo.after == original


async def test_undo_of_a_first_version_does_nothing(
    loaded: Store, knowledge_base: KnowledgeBase
) -> None:
    assert await loaded.undo(FACT_ID, "admin:1") is None
    assert await loaded.undo("no-such-fact", "admin:1") is None
    current = await loaded.get(FACT_ID)
    assert current is not None
    assert current.version == 1
    assert len(await loaded.revisions(FACT_ID)) == 1


# -- import ------------------------------------------------------------------------------


async def test_import_fills_an_empty_database(
    loaded: Store, knowledge_base: KnowledgeBase
) -> None:
    assert not await loaded.is_empty()
    assert await loaded.facts(include_retired=True) == sorted(
        knowledge_base.facts, key=lambda f: f.id
    )
    assert await loaded.sources() == sorted(knowledge_base.sources, key=lambda s: s.id)
    base = await loaded.knowledge_base()
    assert sorted(base.facts, key=lambda f: f.id) == sorted(
        knowledge_base.facts, key=lambda f: f.id
    )


async def test_import_is_idempotent(loaded: Store, knowledge_base: KnowledgeBase) -> None:
    revisions_before = table_rows(loaded.path, "revisions")
    report = await loaded.import_knowledge(knowledge_base)
    assert report.added == report.updated == report.conflicts == report.sources_changed == []
    assert sorted(report.unchanged) == sorted(f.id for f in knowledge_base.facts)
    assert table_rows(loaded.path, "revisions") == revisions_before


async def test_import_updates_facts_changed_in_the_files(
    loaded: Store, knowledge_base: KnowledgeBase
) -> None:
    fact = real_fact(knowledge_base)
    changed_fact = edited(fact, "Edited in the file.")
    source = knowledge_base.sources[0]
    changed_source = Source.from_dict({**source.to_dict(), "author": "Named at last"})
    files = KnowledgeBase(
        sources=(changed_source, *knowledge_base.sources[1:]),
        facts=tuple(changed_fact if f.id == FACT_ID else f for f in knowledge_base.facts),
    )

    report = await loaded.import_knowledge(files)

    assert report.updated == [FACT_ID]
    assert report.sources_changed == [source.id]
    assert report.conflicts == report.added == []
    stored = await loaded.get(FACT_ID)
    assert stored is not None
    assert stored.fact == changed_fact
    assert stored.version == 2
    assert {s.id: s for s in await loaded.sources()}[source.id].author == "Named at last"
    # The files' version is now the imported one: importing it again changes nothing.
    again = await loaded.import_knowledge(files)
    assert again.updated == again.conflicts == []


async def test_import_adds_new_facts(loaded: Store, knowledge_base: KnowledgeBase) -> None:
    new = real_fact(knowledge_base).with_changes(id="az-arms-new-fact")
    report = await loaded.import_knowledge(
        KnowledgeBase(knowledge_base.sources, (*knowledge_base.facts, new))
    )
    assert report.added == ["az-arms-new-fact"]
    assert await loaded.get("az-arms-new-fact") is not None


async def test_import_reports_a_conflict_with_an_admin_change_and_keeps_both_sides(
    loaded: Store, knowledge_base: KnowledgeBase
) -> None:
    fact = real_fact(knowledge_base)
    admin = edited(fact, "Corrected by an admin.")
    await loaded.save_fact(admin, "admin:7", "edit", expected_version=1)
    files = KnowledgeBase(
        knowledge_base.sources,
        tuple(
            edited(f, "Edited in the file.") if f.id == FACT_ID else f
            for f in knowledge_base.facts
        ),
    )
    revisions_before = table_rows(loaded.path, "revisions")

    for base in (knowledge_base, files):  # unchanged files or changed files: both conflict
        report = await loaded.import_knowledge(base)
        assert report.conflicts == [FACT_ID]
        assert report.updated == []
        assert FACT_ID not in report.unchanged
        stored = await loaded.get(FACT_ID)
        assert stored is not None
        assert stored.fact == admin
        assert stored.version == 2
        assert stored.updated_by == "admin:7"
    assert table_rows(loaded.path, "revisions") == revisions_before
    assert files.facts != knowledge_base.facts, "the files' side is a value, never rewritten"

    report = await loaded.import_knowledge(files, overwrite=True)

    assert report.updated == [FACT_ID]
    assert report.conflicts == []
    stored = await loaded.get(FACT_ID)
    assert stored is not None
    assert stored.fact.answer["en"] == "Edited in the file."
    assert stored.version == 3
    latest = (await loaded.revisions(FACT_ID))[0]
    assert latest.action == "import"
    assert latest.before == admin


async def test_admin_change_equal_to_the_files_is_not_a_conflict(
    loaded: Store, knowledge_base: KnowledgeBase
) -> None:
    fact = real_fact(knowledge_base)
    same = edited(fact, "Both sides agree.")
    await loaded.save_fact(same, "admin:7", "edit", expected_version=1)
    files = KnowledgeBase(
        knowledge_base.sources,
        tuple(same if f.id == FACT_ID else f for f in knowledge_base.facts),
    )
    report = await loaded.import_knowledge(files)
    assert report.conflicts == []
    assert FACT_ID in report.unchanged


async def test_failed_import_imports_nothing(store: Store, knowledge_base: KnowledgeBase) -> None:
    orphan = real_fact(knowledge_base).with_changes(id="orphan", sources=("no-such-source",))
    broken = KnowledgeBase(knowledge_base.sources, (*knowledge_base.facts, orphan))
    with pytest.raises(sqlite3.IntegrityError):
        await store.import_knowledge(broken)
    assert await store.is_empty()
    assert await store.sources() == []
    assert table_rows(store.path, "revisions") == []


# -- transactions ------------------------------------------------------------------------


async def test_failure_inside_a_transaction_rolls_back(store: Store) -> None:
    await store.set_meta("k", "before")

    async def fail_midway() -> None:
        async with store.transaction() as conn:
            await conn.execute("UPDATE meta SET value = 'during' WHERE key = 'k'")
            await conn.execute("INSERT INTO meta (key, value) VALUES ('other', 'x')")
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await fail_midway()
    assert await store.get_meta("k") == "before"
    assert await store.get_meta("other") is None
    # The connection is usable afterwards.
    await store.set_meta("k", "after")
    assert await store.get_meta("k") == "after"


async def test_committed_transaction_is_visible_to_another_connection(store: Store) -> None:
    async with store.transaction() as conn:
        await conn.execute("INSERT INTO meta (key, value) VALUES ('seen', 'yes')")
    assert table_rows(store.path, "meta") == [("seen", "yes")]


# -- query log ---------------------------------------------------------------------------


async def test_query_log_records_questions_without_user_identifiers(store: Store) -> None:
    first = await store.log_query(
        "How many tanks?", "en", "answered", FACT_ID, 0.93, at="2024-05-01T10:00:00+00:00"
    )
    second = await store.log_query("Привет", "ru", "declined", None, 0.0)
    assert second == first + 1
    rows = table_rows(store.path, "query_log")
    assert rows[0] == (
        first,
        "2024-05-01T10:00:00+00:00",
        "How many tanks?",
        "en",
        "answered",
        FACT_ID,
        0.93,
        None,
    )
    assert rows[1][2:6] == ("Привет", "ru", "declined", None)
    with closing(sqlite3.connect(store.path)) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(query_log)")}
    assert columns == {"id", "at", "question", "lang", "outcome", "fact_id", "score", "feedback"}


async def test_query_log_refuses_an_unknown_outcome(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await store.log_query("q", "en", "maybe", None, 0.0)
    assert table_rows(store.path, "query_log") == []


async def test_feedback_is_stored_on_the_logged_question(store: Store) -> None:
    query_id = await store.log_query("q", "en", "answered", FACT_ID, 0.9)
    assert await store.set_feedback(query_id, -1)
    assert table_rows(store.path, "query_log")[0][7] == -1
    assert await store.set_feedback(query_id, 1)
    assert table_rows(store.path, "query_log")[0][7] == 1
    assert not await store.set_feedback(query_id + 100, 1)
    with pytest.raises(sqlite3.IntegrityError):
        await store.set_feedback(query_id, 5)
    assert table_rows(store.path, "query_log")[0][7] == 1


async def test_sources_round_trip(store: Store) -> None:
    source = Source(
        id="s1",
        title="Title “quoted”",
        outlet="Outlet",
        author="Автор",
        published="2023-03-30",
        url=None,
    )
    await store.save_source(source)
    await store.save_source(source)
    assert await store.sources() == [source]
    data = json.loads(table_rows(store.path, "sources")[0][1])
    assert data["author"] == "Автор"


async def test_concurrent_writers_on_one_store_take_turns(tmp_path: Path) -> None:
    # Handlers run concurrently and share one connection: without turns, a second BEGIN
    # inside the first transaction fails ("cannot start a transaction within a transaction").
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        ids = await asyncio.gather(
            *(store.log_query(f"question {i}", "en", "declined", None, 0.0) for i in range(50)),
            *(store.subscribe(1000 + i) for i in range(20)),
        )
        assert len(set(ids[:50])) == 50
        assert len(await store.active_subscribers()) == 20
    finally:
        await store.close()
    with closing(sqlite3.connect(tmp_path / "db.sqlite3")) as conn:
        assert conn.execute("SELECT count(*) FROM query_log").fetchone()[0] == 50


async def test_role_changes_are_kept_with_who_and_when(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "roles.sqlite3")
    try:
        assert await store.add_editor(7, added_by=1)
        assert not await store.add_editor(7, added_by=2)  # already: nothing to record
        assert not await store.remove_editor(8, removed_by=1)  # never was: nothing either
        assert await store.remove_editor(7, removed_by=2)
        changes = await store.role_changes(limit=10)
        assert [(c.user_id, c.change, c.changed_by) for c in changes] == [
            (7, "revoked", 2),
            (7, "granted", 1),
        ]
        assert await store.editors() == []
        assert len(await store.role_changes(limit=1)) == 1
    finally:
        await store.close()


async def test_the_role_history_starts_from_the_editors_of_an_older_database(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v3.sqlite3"
    with closing(sqlite3.connect(path)) as conn:
        for version, script in enumerate(MIGRATIONS[:3], start=1):
            conn.executescript(script)
            conn.execute(f"PRAGMA user_version = {version}")
        conn.execute(
            "INSERT INTO editors (user_id, added_by, added_at) VALUES (5, 1, ?)",
            ("2026-01-02T03:04:05+00:00",),
        )
        conn.commit()
    store = await Store.open(path)
    try:
        [change] = await store.role_changes(limit=10)
        assert (change.user_id, change.change, change.changed_by, change.changed_at) == (
            5,
            "granted",
            1,
            "2026-01-02T03:04:05+00:00",
        )
    finally:
        await store.close()
