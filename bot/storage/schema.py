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
    # 3: chats, roles, subscriptions and the digest delivery ledger
    """
    CREATE TABLE chats (
        chat_id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL DEFAULT 'private',
        lang TEXT NOT NULL DEFAULT 'en' CHECK (lang IN ('en', 'ru')),
        updated_at TEXT NOT NULL
    );
    CREATE TABLE editors (
        user_id INTEGER PRIMARY KEY,
        added_by INTEGER NOT NULL,
        added_at TEXT NOT NULL
    );
    CREATE TABLE subscribers (
        chat_id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL DEFAULT 'private',
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        subscribed_at TEXT NOT NULL,
        deactivated_at TEXT,
        deactivated_reason TEXT
    );
    CREATE TABLE digests (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        featured TEXT NOT NULL,
        content TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'sending' CHECK (status IN ('sending', 'done', 'skipped'))
    );
    CREATE TABLE deliveries (
        digest_id TEXT NOT NULL REFERENCES digests(id),
        chat_id INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unknown', 'deactivated')),
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (digest_id, chat_id)
    );
    CREATE TABLE ignored_questions (
        question TEXT PRIMARY KEY,
        ignored_by INTEGER NOT NULL,
        ignored_at TEXT NOT NULL
    );
    CREATE TABLE owner_settings (
        user_id INTEGER PRIMARY KEY,
        daily_unanswered INTEGER NOT NULL DEFAULT 0 CHECK (daily_unanswered IN (0, 1))
    );
    """,
    # 4: who gave or took the editor role, and when (the editors table only holds the present)
    """
    CREATE TABLE role_changes (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL,
        change TEXT NOT NULL CHECK (change IN ('granted', 'revoked')),
        changed_by INTEGER NOT NULL,
        changed_at TEXT NOT NULL
    );
    INSERT INTO role_changes (user_id, change, changed_by, changed_at)
        SELECT user_id, 'granted', added_by, added_at FROM editors ORDER BY added_at, user_id;
    """,
)

LATEST = len(MIGRATIONS)
