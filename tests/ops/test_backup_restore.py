"""Backups must be consistent under load, and restores must refuse anything that could hurt.

The database is the bot's whole state, so these tests use real databases (the curated fact
base plus logged questions), a live writer during the backup, and a real second process
holding the instance lock.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bot import ops
from bot.__main__ import main
from bot.settings import Settings
from bot.storage.schema import LATEST
from bot.storage.store import Store

from .conftest import ROOT, knowledge_base, make_database, rows, sidecars

PREFILL = 30_000
FACTS_SQL = "SELECT id, data, version FROM facts ORDER BY id"

LOCK_HOLDER = """
import sys
from pathlib import Path
from bot.ops import hold_instance_lock
from bot.settings import Settings

with hold_instance_lock(Settings(database_path=Path(sys.argv[1]))):
    print("locked", flush=True)
    sys.stdin.read()
"""

CRASHING_WRITER = """
import os, sqlite3, sys

conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA wal_autocheckpoint = 0")
conn.execute(
    "INSERT INTO query_log (at, question, lang, outcome, score)"
    " VALUES ('2025-01-01T00:00:00+00:00', 'written just before the crash', 'en', 'declined', 0)"
)
os._exit(0)  # no close, no checkpoint: the row lives only in the -wal file
"""


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def kept_files(db: Path) -> list[Path]:
    return sorted(db.parent.glob(f"{db.name}.before-restore-*"))


@pytest.fixture
def lock_holder(settings: Settings) -> Iterator[subprocess.Popen[str]]:
    """Another process that holds the instance lock, as the running bot does."""
    settings.database_path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(settings.database_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    assert proc.stdin is not None
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
        proc.stdout.close()


@pytest.fixture
def backup_file(database: Path, settings: Settings, tmp_path: Path) -> Path:
    return ops.backup_database(settings, tmp_path / "good.sqlite3")


# -- backup ------------------------------------------------------------------------------


async def test_backup_during_concurrent_writes_restores_a_consistent_database(
    database: Path, settings: Settings, tmp_path: Path
) -> None:
    # A few MB of history, so the copy takes long enough for writes to land during it.
    with closing(sqlite3.connect(database)) as conn, conn:
        conn.executemany(
            "INSERT INTO query_log (at, question, lang, outcome, score) VALUES (?, ?, ?, ?, ?)",
            (
                ("2025-01-01T00:00:00+00:00", f"old {i} " + "x" * 200, "en", "declined", 0.0)
                for i in range(PREFILL)
            ),
        )
    facts_before = rows(database, FACTS_SQL)
    store = await Store.open(database)
    committed = PREFILL
    stop = asyncio.Event()
    warmed_up = asyncio.Event()

    async def writer() -> None:
        nonlocal committed
        n = 0
        while not stop.is_set():
            n += 1
            await store.log_query(f"live {n}", "en", "answered", None, 0.5)
            committed += 1
            if n == 20:
                warmed_up.set()

    task = asyncio.create_task(writer())
    try:
        await warmed_up.wait()
        during_start = committed
        target = await ops.backup(settings, tmp_path / "under-load.sqlite3")
        during_end = committed
    finally:
        stop.set()
        await task
        await store.close()
    final = committed
    assert during_end > during_start, "no write happened while the backup ran"

    assert target == tmp_path / "under-load.sqlite3"
    assert sidecars(target) == []
    assert rows(target, "PRAGMA integrity_check") == [("ok",)]
    ids = [int(str(r[0])) for r in rows(target, "SELECT id FROM query_log ORDER BY id")]
    # Some prefix of the committed rows, never a torn mixture: ids 1..n without gaps.
    assert during_start <= len(ids) <= during_end
    assert ids == list(range(1, len(ids) + 1))
    live = rows(target, f"SELECT question FROM query_log WHERE id > {PREFILL} ORDER BY id")
    assert [r[0] for r in live] == [f"live {k}" for k in range(1, len(live) + 1)]
    assert rows(target, FACTS_SQL) == facts_before

    report = ops.restore_database(settings, target)
    assert report.kept is not None
    assert rows(report.kept, "SELECT count(*) FROM query_log") == [(final,)]
    store = await Store.open(database)
    try:
        assert len(await store.facts(include_retired=True)) == len(knowledge_base().facts)
        assert rows(database, "SELECT count(*) FROM query_log") == [(len(ids),)]
        assert rows(database, "PRAGMA integrity_check") == [("ok",)]
    finally:
        await store.close()


async def test_backup_goes_to_the_backups_folder_by_default(
    database: Path, settings: Settings
) -> None:
    path = await ops.backup(settings)
    assert path.parent == database.parent / "backups"
    assert re.fullmatch(r"tiesbot-\d{8}-\d{6}\.sqlite3", path.name)
    assert rows(path, "PRAGMA user_version") == [(LATEST,)]
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left over


async def test_backup_without_a_database_says_so(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ops.OpsError, match="nothing to back up"):
        await ops.backup(settings, tmp_path / "b.sqlite3")
    assert not (tmp_path / "b.sqlite3").exists()


def test_backup_command_prints_the_path(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(make_database(cli_env.database_path))
    assert main(["--env-file", "/nonexistent", "backup"]) == 0
    printed = Path(capsys.readouterr().out.strip())
    assert printed.parent == cli_env.database_path.parent / "backups"
    assert rows(printed, "PRAGMA integrity_check") == [("ok",)]


# -- restore refusals --------------------------------------------------------------------


def test_restore_refuses_random_bytes(database: Path, settings: Settings, tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(os.urandom(64 * 1024))
    before = digest(database)
    with pytest.raises(ops.RestoreRefusedError, match="not a usable database") as caught:
        ops.restore_database(settings, junk)
    assert caught.value.kind == "corrupt"
    assert digest(database) == before
    assert kept_files(database) == []
    assert sorted(p.name for p in database.parent.iterdir() if ".restore-" in p.name) == []


def test_restore_refuses_a_truncated_backup(
    database: Path, settings: Settings, backup_file: Path, tmp_path: Path
) -> None:
    data = backup_file.read_bytes()
    truncated = tmp_path / "truncated.sqlite3"
    truncated.write_bytes(data[: len(data) // 2])
    before = digest(database)
    with pytest.raises(ops.RestoreRefusedError) as caught:
        ops.restore_database(settings, truncated)
    assert caught.value.kind == "corrupt"
    assert caught.value.exit_code == ops.EXIT_CORRUPT
    assert str(truncated) in str(caught.value)
    assert digest(database) == before
    assert kept_files(database) == []


def test_restore_refuses_an_sqlite_file_of_another_program(
    database: Path, settings: Settings, tmp_path: Path
) -> None:
    other = tmp_path / "notes.sqlite3"
    with closing(sqlite3.connect(other)) as conn, conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('hello')")
    with pytest.raises(ops.RestoreRefusedError, match="not one of this bot's") as caught:
        ops.restore_database(settings, other)
    assert caught.value.kind == "foreign"
    assert kept_files(database) == []


def test_restore_refuses_a_newer_schema(
    database: Path, settings: Settings, backup_file: Path
) -> None:
    with closing(sqlite3.connect(backup_file)) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(ops.RestoreRefusedError, match="newer tiesbot") as caught:
        ops.restore_database(settings, backup_file)
    assert caught.value.kind == "newer"
    assert kept_files(database) == []


def test_restore_refuses_a_missing_file(
    database: Path, settings: Settings, tmp_path: Path
) -> None:
    with pytest.raises(ops.RestoreRefusedError, match="no file at") as caught:
        ops.restore_database(settings, tmp_path / "nope.sqlite3")
    assert caught.value.kind == "missing"


def test_restore_refuses_while_another_process_holds_the_database(
    database: Path,
    settings: Settings,
    backup_file: Path,
    lock_holder: subprocess.Popen[str],
) -> None:
    before = digest(database)
    assert ops.instance_running(settings)
    with pytest.raises(ops.RestoreRefusedError, match="The bot is running") as caught:
        ops.restore_database(settings, backup_file)
    assert caught.value.kind == "running"
    assert f"process {lock_holder.pid}" in str(caught.value)
    assert digest(database) == before
    assert kept_files(database) == []


def test_restore_refuses_while_this_process_holds_the_lock_elsewhere(
    database: Path, settings: Settings, backup_file: Path
) -> None:
    # flock belongs to an open file description, so a second open in one process conflicts
    # too: the lock protects even against a restore started from inside the bot.
    with ops.hold_instance_lock(settings):
        with pytest.raises(ops.RestoreRefusedError) as caught:
            ops.restore_database(settings, backup_file)
        assert caught.value.kind == "running"
    assert not ops.instance_running(settings)
    ops.restore_database(settings, backup_file)


def test_hold_instance_lock_admits_one_holder(settings: Settings) -> None:
    assert not ops.instance_running(settings)
    with ops.hold_instance_lock(settings) as path:
        assert path == ops.lock_path(settings)
        assert ops.instance_running(settings)
        second = ops.hold_instance_lock(settings)
        with pytest.raises(ops.InstanceLockedError, match=f"process {os.getpid()}"):
            second.__enter__()
    assert not ops.instance_running(settings)
    with ops.hold_instance_lock(settings):
        pass


# -- restore success ---------------------------------------------------------------------


async def test_restore_replaces_the_database_and_keeps_the_old_one(
    database: Path, settings: Settings, backup_file: Path
) -> None:
    store = await Store.open(database)
    try:
        for i in range(3):
            await store.log_query(f"after the backup {i}", "en", "declined", None, 0.0)
    finally:
        await store.close()

    report = ops.restore_database(settings, backup_file)

    assert report.kept is not None
    assert kept_files(database) == [report.kept]
    assert rows(report.kept, "SELECT count(*) FROM query_log") == [(3,)]
    assert rows(database, "SELECT count(*) FROM query_log") == [(0,)]
    assert rows(database, FACTS_SQL) == rows(backup_file, FACTS_SQL)
    assert report.restored.facts == len(knowledge_base().facts)
    assert sidecars(database) == []
    store = await Store.open(database)  # the bot starts on it
    await store.close()


def test_restore_folds_the_old_databases_wal_into_the_kept_copy(
    database: Path, settings: Settings, backup_file: Path
) -> None:
    subprocess.run([sys.executable, "-c", CRASHING_WRITER, str(database)], check=True)
    assert Path(f"{database}-wal").stat().st_size > 0

    report = ops.restore_database(settings, backup_file)

    assert report.kept is not None
    assert report.kept_sidecars == ()
    # Read with immutable=1: the row must be in the kept file itself, not only in a -wal.
    assert rows(report.kept, "SELECT question FROM query_log") == [
        ("written just before the crash",)
    ]
    assert sidecars(database) == []
    assert rows(database, "SELECT count(*) FROM query_log") == [(0,)]


def test_restore_moves_side_files_of_a_damaged_database_aside_with_it(
    settings: Settings, backup_file: Path
) -> None:
    db = settings.database_path
    db.write_bytes(os.urandom(8192))
    Path(f"{db}-wal").write_bytes(b"stale wal that must never meet the new database")

    report = ops.restore_database(settings, backup_file)

    assert report.kept is not None
    assert [p.name for p in report.kept_sidecars] == [f"{report.kept.name}-wal"]
    assert sidecars(db) == []
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]


def test_restore_into_an_empty_folder(settings: Settings, backup_file: Path) -> None:
    settings.database_path.unlink()
    report = ops.restore_database(settings, backup_file)
    assert report.kept is None
    assert rows(settings.database_path, "PRAGMA user_version") == [(LATEST,)]


# -- the command line --------------------------------------------------------------------


def test_restore_command_exit_codes_and_messages(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(make_database(cli_env.database_path))
    good = tmp_path / "good.sqlite3"
    assert main(["--env-file", "/nonexistent", "backup", str(good)]) == 0
    capsys.readouterr()

    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    cases = [
        (tmp_path / "missing.sqlite3", ops.EXIT_NOT_FOUND, "no file at"),
        (junk, ops.EXIT_CORRUPT, "not a usable database"),
    ]
    for path, code, message in cases:
        assert main(["--env-file", "/nonexistent", "restore", str(path)]) == code
        err = capsys.readouterr().err
        assert message in err
        assert "Traceback" not in err

    with ops.hold_instance_lock(cli_env):
        assert main(["--env-file", "/nonexistent", "restore", str(good)]) == ops.EXIT_BOT_RUNNING
    assert "Stop it first" in capsys.readouterr().err

    assert main(["--env-file", "/nonexistent", "restore", str(good)]) == 0
    out = capsys.readouterr().out
    assert "Kept the previous database as" in out
    assert f"Restored {cli_env.database_path} from {good}." in out
