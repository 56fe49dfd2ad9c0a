"""Forward migrations, in order; `PRAGMA user_version` records how many have run.

Each migration runs in its own transaction, so a database is always at one version or the
next, never in between. Never edit a released migration: add a new one.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the fact base and its history
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE sources (
        id TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE facts (
        id TEXT PRIMARY KEY,
        country TEXT NOT NULL,
        topic TEXT NOT NULL,
        data TEXT NOT NULL,
        retired INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
        version INTEGER NOT NULL DEFAULT 1,
        imported_hash TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
    );
    CREATE TABLE fact_sources (
        fact_id TEXT NOT NULL REFERENCES facts(id) ON DELETE CASCADE,
        source_id TEXT NOT NULL REFERENCES sources(id),
        PRIMARY KEY (fact_id, source_id)
    );
    CREATE TABLE revisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        fact_id TEXT NOT NULL REFERENCES facts(id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        action TEXT NOT NULL,
        actor TEXT NOT NULL,
        at TEXT NOT NULL,
        before TEXT,
        after TEXT
    );
    CREATE INDEX revisions_fact ON revisions (fact_id, id);
    """,
    # 2: what people ask, without who asked
    """
    CREATE TABLE query_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        question TEXT NOT NULL,
        lang TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('answered', 'suggested', 'declined')),
        fact_id TEXT,
        score REAL NOT NULL,
        feedback INTEGER CHECK (feedback IN (-1, 1))
    );
    CREATE INDEX query_log_at ON query_log (at);
    """,
)

LATEST = len(MIGRATIONS)
