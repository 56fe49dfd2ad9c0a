"""Shared fixtures for the operations tests: real databases filled from the real fact base.

A backup or restore test on an empty schema would prove little, so every database here holds
the curated facts, exactly as a production database does after its first start.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.domain.evidence import SourceTexts
from bot.domain.knowledge import KnowledgeBase, load_folder
from bot.settings import Settings
from bot.storage.store import Store

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = ROOT / "knowledge"
ARTICLES = KNOWLEDGE / "articles"
# Shaped like a real token (settings validate the shape); never valid anywhere.
TOKEN = "123456789:AAF-tiesbot-ops-tests-not-a-real-token"


@functools.cache
def knowledge_base() -> KnowledgeBase:
    return load_folder(KNOWLEDGE, SourceTexts.from_dir(ARTICLES))


async def make_database(path: Path, queries: int = 0) -> None:
    store = await Store.open(path)
    try:
        await store.import_knowledge(knowledge_base())
        for i in range(queries):
            await store.log_query(f"question {i}", "en", "declined", None, 0.0)
    finally:
        await store.close()


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Read a database file as it is on disk, without creating -wal/-shm beside it."""
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)) as c:
        return list(c.execute(sql))


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    """A subprocess environment with only this test's settings (no developer .env leaks in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DIGEST_"))}
    env.update(
        DATABASE_PATH=str(settings.database_path),
        KNOWLEDGE_DIR=str(settings.knowledge_dir),
        SOURCES_DIR=str(settings.sources_dir),
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_path=tmp_path / "data" / "tiesbot.sqlite3",
        knowledge_dir=KNOWLEDGE,
        sources_dir=ARTICLES,
    )


def sidecars(db: Path) -> list[str]:
    """The -wal/-shm/-journal files beside a database, which must never outlive it."""
    return [s for s in ("-wal", "-shm", "-journal") if Path(f"{db}{s}").exists()]


@pytest.fixture
def database(settings: Settings) -> Path:
    asyncio.run(make_database(settings.database_path))
    return settings.database_path


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point the in-process command line (`bot.__main__.main`) at this test's files."""
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "DIGEST_", "WEBHOOK_", "ADMIN_IDS", "SOURCES_DIR")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_PATH", str(settings.database_path))
    monkeypatch.setenv("KNOWLEDGE_DIR", str(settings.knowledge_dir))
    monkeypatch.setenv("SOURCES_DIR", str(settings.sources_dir))
    return settings
