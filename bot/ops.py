"""Operating the bot in production: backups, restores, liveness and a self-check.

The whole state of the bot is one SQLite file, so losing or corrupting it is the one disaster
that matters. Everything here is written so that an operator under stress cannot make things
worse: a backup is a consistent snapshot taken through SQLite (never a raw copy of a live file)
and is verified before it is kept; a restore refuses while the bot holds the database, checks
the file before touching anything, keeps the database it replaces, and swaps files atomically.

`health` is the cheap liveness probe a container runtime calls every minute; `doctor` is the
thorough check a person runs after installing, upgrading or changing settings. Neither ever
prints the bot token.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import errno
import fcntl
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from telegram import Bot, ChatMember, ChatMemberAdministrator
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError

from bot.domain.evidence import SourceTexts
from bot.domain.knowledge import KnowledgeError, load_folder
from bot.settings import Settings, SettingsError, load_settings, read_env_file
from bot.storage.schema import LATEST
from bot.tg.transport import AiohttpRequest

HEARTBEAT_MAX_AGE = 120.0
NETWORK_TIMEOUT = 10.0
SIDECARS = ("-wal", "-shm", "-journal")
DURABLE_SIDECARS = ("-wal", "-journal")  # -shm is only an index, rebuilt on open
STAMP_FORMAT = "%Y%m%d-%H%M%S"

# Exit codes of the commands, so scripts can tell the reasons apart.
EXIT_FAILED = 1
EXIT_BOT_RUNNING = 3
EXIT_NOT_FOUND = 4
EXIT_CORRUPT = 5
EXIT_FOREIGN = 6
EXIT_NEWER = 7

RefusalKind = Literal["running", "missing", "corrupt", "foreign", "newer"]
_REFUSAL_CODES: dict[RefusalKind, int] = {
    "running": EXIT_BOT_RUNNING,
    "missing": EXIT_NOT_FOUND,
    "corrupt": EXIT_CORRUPT,
    "foreign": EXIT_FOREIGN,
    "newer": EXIT_NEWER,
}


class OpsError(Exception):
    """An operation could not be done; the message is meant for the operator as it is."""

    exit_code = EXIT_FAILED


class InstanceLockedError(OpsError):
    """Another process (normally the running bot) holds the database."""

    exit_code = EXIT_BOT_RUNNING


class RestoreRefusedError(OpsError):
    """A restore was refused before anything was changed."""

    def __init__(self, kind: RefusalKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.exit_code = _REFUSAL_CODES[kind]


# -- paths -------------------------------------------------------------------------------


def lock_path(settings: Settings) -> Path:
    return _beside(settings.database_path, ".lock")


def heartbeat_path(settings: Settings) -> Path:
    return _beside(settings.database_path, ".heartbeat")


def default_backup_path(settings: Settings, now: dt.datetime | None = None) -> Path:
    stamp = (now or dt.datetime.now().astimezone()).strftime(STAMP_FORMAT)
    return settings.database_path.parent / "backups" / f"tiesbot-{stamp}.sqlite3"


def _beside(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _stamp() -> str:
    return dt.datetime.now().astimezone().strftime(STAMP_FORMAT)


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable; some file systems do not support it, which is harmless."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- the instance lock -------------------------------------------------------------------


@contextlib.contextmanager
def hold_instance_lock(settings: Settings) -> Iterator[Path]:
    """Claim the database for this process for as long as the block runs.

    The bot holds it for its whole life and `restore` holds it while it swaps files, so a
    restore can never pull the database from under a running bot, and a bot cannot start in
    the middle of a restore. It is an advisory `flock` on `<DATABASE_PATH>.lock`: the kernel
    drops it when the process dies, so a crash never leaves a stale lock behind. The file
    itself stays (deleting lock files races with the next locker); it holds the holder's pid
    for the error message.
    """
    path = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = _read_pid(path)
            who = f"process {holder}" if holder else "another process"
            raise InstanceLockedError(
                f"{settings.database_path} is in use by {who} (normally the running bot),"
                f" which holds {path}."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def instance_running(settings: Settings) -> bool:
    """Whether some process holds the instance lock right now (probed without waiting)."""
    path = lock_path(settings)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return True
            raise
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


# -- looking into a database file --------------------------------------------------------


@dataclass(frozen=True)
class DatabaseInfo:
    """What a database file holds, as far as deciding whether to trust it goes."""

    path: Path
    version: int
    tables: frozenset[str]
    facts: int | None
    queries: int | None

    @property
    def is_tiesbot(self) -> bool:
        return self.version >= 1 and "facts" in self.tables


class DamagedDatabaseError(Exception):
    """SQLite could not read the file, or its integrity check found problems."""


def _connect_read_only(path: Path, immutable: bool) -> sqlite3.Connection:
    uri = path.resolve().as_uri() + "?mode=ro" + ("&immutable=1" if immutable else "")
    return sqlite3.connect(uri, uri=True, timeout=5.0)


def inspect_database(
    path: Path, *, immutable: bool | None = None, full: bool = True
) -> DatabaseInfo:
    """Open a database read-only and report its schema version and contents.

    `immutable=True` is for private copies nobody else can touch: SQLite then takes no locks
    and creates no -wal/-shm files, so exactly the bytes on disk are judged. The default
    decides by the side files: while the bot runs they exist and the file is read with
    SQLite's normal locking; when none exist the file is complete by itself and is read
    immutable, because a read-only connection would otherwise leave -wal/-shm files behind,
    owned by whoever ran the check (root, say), which the bot could then not open. `full`
    runs `PRAGMA integrity_check`, which reads every page. Raises DamagedDatabaseError.
    """
    if immutable is None:
        immutable = not any(_beside(path, s).exists() for s in SIDECARS)
    try:
        conn = _connect_read_only(path, immutable)
    except sqlite3.Error as exc:
        raise DamagedDatabaseError(f"SQLite cannot open it: {exc}") from None
    try:
        if full:
            problems = [str(row[0]) for row in conn.execute("PRAGMA integrity_check(20)")]
            if problems != ["ok"]:
                more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
                raise DamagedDatabaseError("; ".join(problems[:3]) + more)
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = frozenset(
            str(row[0])
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        )

        def count(table: str) -> int | None:
            if table not in tables:
                return None
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

        return DatabaseInfo(path, version, tables, count("facts"), count("query_log"))
    except sqlite3.Error as exc:
        raise DamagedDatabaseError(str(exc)) from None
    finally:
        conn.close()


def _describe(info: DatabaseInfo) -> str:
    parts = [f"schema {info.version}"]
    if info.facts is not None:
        parts.append(f"{info.facts} facts")
    if info.queries is not None:
        parts.append(f"{info.queries} logged questions")
    return ", ".join(parts)


# -- backup ------------------------------------------------------------------------------


def backup_database(settings: Settings, target: Path | None = None) -> Path:
    """Copy the database while the bot may be writing to it, and prove the copy is sound.

    SQLite's online backup API copies one consistent snapshot (a single read transaction,
    which in WAL mode never blocks the bot's writers); a plain file copy of a live database
    can be torn. The copy is made under a temporary name, switched out of WAL mode so it is
    one self-contained file, checked with `PRAGMA integrity_check`, and only then renamed
    to `target`, so a failed or interrupted backup never leaves a plausible-looking file.
    """
    db = settings.database_path
    if not db.is_file():
        raise OpsError(f"There is no database at {db}, so there is nothing to back up yet.")
    if target is None:
        target = default_backup_path(settings)
    elif target.is_dir():
        target = target / default_backup_path(settings).name
    if target.exists() and target.resolve() == db.resolve():
        raise OpsError(f"{target} is the live database itself; choose another backup path.")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        source = sqlite3.connect(db, timeout=30.0)
        try:
            copy = sqlite3.connect(tmp)
            try:
                source.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")
            finally:
                copy.close()
        finally:
            source.close()
        try:
            inspect_database(tmp, immutable=True)
        except DamagedDatabaseError as exc:
            raise OpsError(
                f"The copy failed its integrity check ({exc}); the live database may be"
                " damaged. Nothing was saved; run `tiesbot doctor`."
            ) from None
        os.chmod(tmp, (db.stat().st_mode & 0o777) | 0o600)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except sqlite3.Error as exc:
        raise OpsError(f"The backup of {db} failed: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
        for suffix in SIDECARS:
            _beside(tmp, suffix).unlink(missing_ok=True)
    return target


async def backup(settings: Settings, target: Path | None = None) -> Path:
    """`backup_database` off the event loop, so the running bot can call it too."""
    return await asyncio.to_thread(backup_database, settings, target)


# -- restore -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoreReport:
    source: Path
    database: Path
    restored: DatabaseInfo
    kept: Path | None
    kept_sidecars: tuple[Path, ...]


def check_backup_file(path: Path, *, shown_as: Path | None = None) -> DatabaseInfo:
    """Decide whether a file may replace the bot's database; RestoreRefusedError if not.

    The file is opened immutable: it must be a private copy nobody writes to, and a backup
    must stand on its own, without -wal files beside it.
    """
    name = shown_as or path
    try:
        info = inspect_database(path, immutable=True)
    except DamagedDatabaseError as exc:
        raise RestoreRefusedError(
            "corrupt",
            f"{name} is not a usable database ({exc}). It may be damaged or incomplete;"
            " try an older backup.",
        ) from None
    if not info.is_tiesbot:
        raise RestoreRefusedError(
            "foreign",
            f"{name} is an SQLite database, but not one of this bot's (no facts table or no"
            " schema version). Give a file made by `tiesbot backup`.",
        )
    if info.version > LATEST:
        raise RestoreRefusedError(
            "newer",
            f"{name} was written by a newer tiesbot (schema {info.version}; this program"
            f" knows up to {LATEST}). Upgrade tiesbot first, then restore.",
        )
    return info


def restore_database(settings: Settings, source: Path) -> RestoreReport:
    """Replace the database with a backup, keeping the current one next to it.

    Order matters: refuse while the bot holds the database; copy the backup to a temporary
    file beside the database and judge that copy (the very bytes that will be installed);
    fold any -wal/-journal into the current database (or move them aside with it when it is
    too damaged to open), since a stale WAL left next to a new database would be replayed
    into it; keep the current database as `<db>.before-restore-<timestamp>` via a hard link;
    then `os.replace` the copy in, so at every instant the database path holds a complete
    database.
    """
    try:
        with hold_instance_lock(settings):
            return _restore_locked(settings.database_path, source)
    except InstanceLockedError as exc:
        raise RestoreRefusedError(
            "running",
            f"The bot is running: {exc} Stop it first (systemctl stop tiesbot, or docker"
            " compose stop tiesbot), then run the restore again. Nothing was changed.",
        ) from None


def _restore_locked(db: Path, source: Path) -> RestoreReport:
    if not source.exists():
        raise RestoreRefusedError(
            "missing", f"There is no file at {source}. Check the path and try again."
        )
    if not source.is_file():
        raise RestoreRefusedError(
            "missing", f"{source} is not a file. Give the backup file itself."
        )
    fd, tmp_name = tempfile.mkstemp(prefix=f".{db.name}.restore-", suffix=".tmp", dir=db.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        info = check_backup_file(tmp, shown_as=source)
        mode = (db.stat().st_mode & 0o777) | 0o600 if db.exists() else 0o640
        os.chmod(tmp, mode)
        kept, sidecars = _set_aside(db)
        os.replace(tmp, db)
        _fsync_dir(db.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return RestoreReport(source, db, info, kept, sidecars)


def _set_aside(db: Path) -> tuple[Path | None, tuple[Path, ...]]:
    """Keep the current database (and anything only its side files hold) under a new name.

    The side files are copied before SQLite is asked to fold them in, because SQLite may
    delete them when it gives up on a damaged database. When the fold works, the kept file
    alone holds everything and the copies go; otherwise the copies stay beside it, named so
    that SQLite pairs them with the kept file.
    """
    keep = _unused(_beside(db, f".before-restore-{_stamp()}"))
    saved = []
    for suffix in DURABLE_SIDECARS:
        side = _beside(db, suffix)
        if side.exists():
            shutil.copy2(side, _beside(keep, suffix))
            saved.append(_beside(keep, suffix))
    if saved and db.exists() and _fold_journal(db):
        for copy in saved:
            copy.unlink()
        saved = []
    kept: Path | None = None
    if db.exists():
        try:
            os.link(db, keep)
        except OSError:  # a file system without hard links
            shutil.copy2(db, keep)
        kept = keep
    for suffix in SIDECARS:
        _beside(db, suffix).unlink(missing_ok=True)
    _fsync_dir(db.parent)
    return kept, tuple(saved)


def _fold_journal(db: Path) -> bool:
    """Bring WAL and hot-journal contents into the main file; True if no side file is left."""
    try:
        conn = sqlite3.connect(db, timeout=5.0)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode = DELETE")
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return not any(_beside(db, s).exists() for s in DURABLE_SIDECARS)


def _unused(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists() or any(_beside(candidate, s).exists() for s in SIDECARS):
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


async def restore(settings: Settings, source: Path) -> RestoreReport:
    """`restore_database` off the event loop."""
    return await asyncio.to_thread(restore_database, settings, source)


# -- heartbeat and health ----------------------------------------------------------------


def write_heartbeat(settings: Settings, at: dt.datetime | None = None) -> None:
    """Record that the bot's event loop is alive; the JobQueue calls this every 30 s.

    The file is replaced atomically, so `health` never reads half a timestamp.
    """
    path = heartbeat_path(settings)
    stamp = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(stamp + "\n", encoding="ascii")
    os.replace(tmp, path)


def heartbeat_age(settings: Settings, now: dt.datetime | None = None) -> float | None:
    """Seconds since the last heartbeat; None when there is none. ValueError if unreadable."""
    path = heartbeat_path(settings)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    try:
        beat = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{path} does not hold a timestamp") from None
    if beat.tzinfo is None:
        raise ValueError(f"{path} holds a timestamp without a time zone")
    return ((now or dt.datetime.now(dt.UTC)) - beat).total_seconds()


def check_health(
    settings: Settings, max_age: float = HEARTBEAT_MAX_AGE, now: dt.datetime | None = None
) -> tuple[bool, str]:
    """Whether the bot is alive, with one line saying why (not).

    Deliberately cheap: it runs every minute next to the live bot, so it only proves the
    database opens and reads its schema; the full integrity check is `doctor`'s job.
    """
    db = settings.database_path
    if not db.is_file():
        return False, f"no database at {db} (the bot creates it when it first starts)"
    try:
        inspect_database(db, full=False)
    except DamagedDatabaseError as exc:
        return False, f"database {db} does not open: {exc}"
    try:
        age = heartbeat_age(settings, now)
    except ValueError as exc:
        return False, f"heartbeat unreadable: {exc}"
    if age is None:
        return False, f"no heartbeat at {heartbeat_path(settings)}: the bot is not running"
    if age > max_age:
        return False, (
            f"heartbeat is {age:.0f} s old (limit {max_age:.0f} s): the bot has stopped working"
        )
    return True, f"ok: database opens, heartbeat {max(age, 0):.0f} s old"


# -- doctor ------------------------------------------------------------------------------

Status = Literal["OK", "WARN", "FAIL"]


@dataclass(frozen=True)
class Check:
    """One line of `doctor` output."""

    status: Status
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.status:<4}  {self.name}: {self.detail}"


def mask_token(token: str) -> str:
    """How a token may appear in output: the bot id (public anyway) and nothing secret."""
    head, sep, _ = token.partition(":")
    return f"{head}:***" if sep and head.isdigit() else "***"


def check_configuration(settings: Settings) -> list[Check]:
    checks = []
    mode = f"webhook {settings.webhook_url}" if settings.webhook_url else "long polling"
    parts = [mode, f"{len(settings.admin_ids)} admin(s)"]
    if settings.digest_channel:
        parts.append(f"digest channel {settings.digest_channel}")
    if settings.token:
        parts.insert(0, f"token {mask_token(settings.token)}")
    checks.append(Check("OK", "configuration", "settings valid: " + ", ".join(parts)))
    if not settings.token:
        checks.append(
            Check(
                "WARN",
                "configuration",
                "TELEGRAM_BOT_TOKEN is empty: the bot only runs as a console chat, and the"
                " Bot API is not checked",
            )
        )
    if not settings.admin_ids:
        checks.append(
            Check("WARN", "configuration", "ADMIN_IDS is empty: nobody can use admin commands")
        )
    return checks


def check_database(path: Path) -> Check:
    """Integrity and schema version of the database, safe to run beside the live bot."""
    if not path.exists():
        return Check(
            "WARN", "database", f"not created yet at {path} (the bot creates it on first start)"
        )
    try:
        info = inspect_database(path)
    except DamagedDatabaseError as exc:
        return Check(
            "FAIL",
            "database",
            f"{path} is damaged or unreadable ({exc}); restore a backup with `tiesbot restore`",
        )
    if info.version == 0 and not info.tables:
        return Check("WARN", "database", f"{path} is empty (the bot sets it up on start)")
    if not info.is_tiesbot:
        return Check("FAIL", "database", f"{path} is not a tiesbot database (no facts table)")
    if info.version > LATEST:
        return Check(
            "FAIL",
            "database",
            f"schema {info.version} is newer than this program's ({LATEST}): upgrade tiesbot",
        )
    if info.version < LATEST:
        return Check(
            "WARN",
            "database",
            f"integrity ok, {_describe(info)}; migrations to schema {LATEST} run when the"
            " bot starts",
        )
    return Check("OK", "database", f"{path}: integrity ok, {_describe(info)}")


def check_fact_base(knowledge_dir: Path, sources_dir: Path) -> Check:
    """The same validator as `tiesbot knowledge check`, summarised in one line."""
    if not knowledge_dir.is_dir():
        return Check("FAIL", "fact base", f"no folder {knowledge_dir} (KNOWLEDGE_DIR)")
    try:
        base = load_folder(knowledge_dir, SourceTexts.from_dir(sources_dir))
    except KnowledgeError as exc:
        return Check(
            "FAIL",
            "fact base",
            f"{len(exc.problems)} problem(s) in {knowledge_dir}, first: {exc.problems[0]}"
            " (`tiesbot knowledge check` lists all)",
        )
    except (OSError, UnicodeDecodeError) as exc:
        return Check("FAIL", "fact base", f"cannot read {knowledge_dir}: {exc}")
    if not base.facts:
        return Check("WARN", "fact base", f"no facts in {knowledge_dir}")
    detail = f"{len(base.facts)} facts and {len(base.sources)} sources in {knowledge_dir} valid"
    if not sources_dir.is_dir():
        return Check(
            "WARN", "fact base", f"{detail}; quotes not verified (no folder {sources_dir})"
        )
    return Check("OK", "fact base", detail)


def check_instance(settings: Settings, max_age: float = HEARTBEAT_MAX_AGE) -> Check:
    try:
        running = instance_running(settings)
    except OSError as exc:
        return Check("WARN", "bot", f"cannot tell whether it runs: {exc}")
    if not running:
        return Check("WARN", "bot", f"not running (nothing holds {lock_path(settings)})")
    try:
        age = heartbeat_age(settings)
    except ValueError as exc:
        return Check("WARN", "bot", f"running, but the heartbeat is unreadable: {exc}")
    if age is None or age > max_age:
        when = "missing" if age is None else f"{age:.0f} s old"
        return Check("WARN", "bot", f"running, but its heartbeat is {when}")
    return Check("OK", "bot", f"running, heartbeat {max(age, 0):.0f} s old")


def _chat_id(channel: str) -> str | int:
    return int(channel) if channel.lstrip("-").isdigit() else channel


async def check_bot_api(settings: Settings, call_timeout: float = NETWORK_TIMEOUT) -> list[Check]:
    """getMe, then the bot's standing in the digest channel; no call waits past the limit."""

    def request() -> AiohttpRequest:
        return AiohttpRequest(
            connect_timeout=call_timeout,
            read_timeout=call_timeout,
            write_timeout=call_timeout,
            pool_timeout=call_timeout,
        )

    api = settings.api_base_url
    bot = Bot(
        settings.token,
        base_url=settings.bot_api_url,
        base_file_url=settings.file_api_url,
        request=request(),
        get_updates_request=request(),
    )
    checks: list[Check] = []
    try:
        try:
            async with asyncio.timeout(call_timeout + 1):
                await bot.initialize()  # calls getMe
        except InvalidToken:
            return [
                Check(
                    "FAIL",
                    "bot api",
                    f"token {mask_token(settings.token)} rejected by {api}: copy it again"
                    " from @BotFather, or /revoke it there and use the new one",
                )
            ]
        except BadRequest as exc:
            return [Check("FAIL", "bot api", f"getMe failed at {api}: {exc.message}")]
        except (NetworkError, TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
            return [
                Check(
                    "FAIL",
                    "bot api",
                    f"{api} unreachable ({reason}); check the network, firewall or proxy and"
                    " TELEGRAM_API_BASE_URL",
                )
            ]
        except TelegramError as exc:
            return [Check("FAIL", "bot api", f"getMe failed at {api}: {exc.message}")]
        me = bot.bot
        checks.append(Check("OK", "bot api", f"getMe: @{me.username} (id {me.id}) at {api}"))
        if not me.supports_inline_queries:
            checks.append(
                Check(
                    "WARN",
                    "bot api",
                    "inline mode is off: send /setinline to @BotFather to turn it on",
                )
            )
        if settings.digest_channel:
            checks.append(await _check_channel(bot, settings.digest_channel, me.id, call_timeout))
    finally:
        await bot.shutdown()
    return checks


async def _check_channel(bot: Bot, channel: str, bot_id: int, call_timeout: float) -> Check:
    name = "digest channel"
    hint = (
        f"make the bot an administrator of {channel} with the right to post messages"
        " (Manage channel → Administrators → Add administrator)"
    )
    try:
        async with asyncio.timeout(2 * call_timeout + 1):
            chat = await bot.get_chat(_chat_id(channel))
            member = await bot.get_chat_member(chat.id, bot_id)
    except (BadRequest, Forbidden) as exc:
        return Check("FAIL", name, f"{channel}: {exc.message}; {hint}")
    except (NetworkError, TimeoutError) as exc:
        reason = str(exc) or type(exc).__name__
        return Check("FAIL", name, f"Bot API unreachable while checking {channel} ({reason})")
    except TelegramError as exc:
        return Check("FAIL", name, f"{channel}: {exc.message}")
    title = f"{channel} ({chat.title})" if chat.title else channel
    if member.status == ChatMember.OWNER:
        return Check("OK", name, f"the bot owns {title}")
    if member.status != ChatMember.ADMINISTRATOR:
        return Check(
            "FAIL",
            name,
            f"the bot is not an administrator of {title} (status: {member.status}); {hint}",
        )
    if (
        chat.type == chat.CHANNEL
        and isinstance(member, ChatMemberAdministrator)
        and not member.can_post_messages
    ):
        return Check(
            "FAIL",
            name,
            f"the bot is an administrator of {title} but may not post messages; give it the"
            " 'Post messages' right",
        )
    return Check("OK", name, f"the bot is an administrator of {title} and may post")


def _fallback_paths(
    environ: Mapping[str, str] | None, env_file: Path | None
) -> tuple[Settings, str]:
    """The paths and raw token from settings that failed validation, to check what we can."""
    merged = dict(read_env_file(env_file)) if env_file else {}
    merged.update(os.environ if environ is None else environ)

    def get(name: str, default: str) -> str:
        return (merged.get(name) or default).strip()

    defaults = Settings()
    settings = Settings(
        database_path=Path(get("DATABASE_PATH", str(defaults.database_path))),
        knowledge_dir=Path(get("KNOWLEDGE_DIR", str(defaults.knowledge_dir))),
        sources_dir=Path(get("SOURCES_DIR", str(defaults.sources_dir))),
    )
    return settings, get("TELEGRAM_BOT_TOKEN", "")


async def doctor(
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
    *,
    call_timeout: float = NETWORK_TIMEOUT,
) -> list[Check]:
    """Every check, in the order an operator would fix things.

    It must work precisely when things are broken, so invalid settings are reported as
    FAIL lines rather than stopping it, and the database and fact base are still checked
    with whatever paths the settings name.
    """
    checks: list[Check] = []
    valid: Settings | None
    try:
        valid = load_settings(environ, env_file)
    except SettingsError as exc:
        valid = None
        checks += [Check("FAIL", "configuration", problem) for problem in exc.problems]
        settings, raw_token = _fallback_paths(environ, env_file)
    else:
        settings, raw_token = valid, valid.token
        checks += check_configuration(valid)
    checks.append(await asyncio.to_thread(check_database, settings.database_path))
    checks.append(
        await asyncio.to_thread(check_fact_base, settings.knowledge_dir, settings.sources_dir)
    )
    checks.append(check_instance(settings))
    if valid is None:
        if raw_token:
            checks.append(Check("WARN", "bot api", "not checked until the settings are fixed"))
    elif valid.token:
        checks += await check_bot_api(valid, call_timeout)
    if raw_token:
        checks = [
            Check(c.status, c.name, c.detail.replace(raw_token, mask_token(raw_token)))
            for c in checks
        ]
    return checks


# -- commands ----------------------------------------------------------------------------


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The operations subcommands, described where they are implemented."""
    backup_cmd = sub.add_parser("backup", help="copy the database safely, also while the bot runs")
    backup_cmd.add_argument(
        "path",
        nargs="?",
        type=Path,
        help="where to write the copy (default: <database dir>/backups/"
        "tiesbot-YYYYmmdd-HHMMSS.sqlite3)",
    )
    restore_cmd = sub.add_parser(
        "restore",
        help="replace the database with a backup (the bot must be stopped)",
        epilog=f"exit codes: {EXIT_BOT_RUNNING} bot running, {EXIT_NOT_FOUND} file missing,"
        f" {EXIT_CORRUPT} damaged file, {EXIT_FOREIGN} not a tiesbot database,"
        f" {EXIT_NEWER} newer schema",
    )
    restore_cmd.add_argument("path", type=Path, help="the backup file")
    sub.add_parser("health", help="exit 0 if the database opens and the bot's heartbeat is fresh")
    doctor_cmd = sub.add_parser(
        "doctor", help="check settings, database, fact base and the Bot API"
    )
    doctor_cmd.add_argument(
        "--timeout",
        type=float,
        default=NETWORK_TIMEOUT,
        help=f"seconds per Bot API call (default {NETWORK_TIMEOUT:.0f})",
    )


async def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    try:
        path = await backup(settings, args.path)
    except OpsError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"The backup failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(path)
    return 0


async def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    try:
        report = await restore(settings, args.path)
    except OpsError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"The restore failed: {exc}. The database was not replaced.", file=sys.stderr)
        return EXIT_FAILED
    info = report.restored
    print(f"Checked {report.source}: integrity ok, {_describe(info)}.")
    if report.kept is not None:
        print(f"Kept the previous database as {report.kept}.")
    else:
        print(f"There was no database at {report.database} before.")
    for side in report.kept_sidecars:
        print(f"Kept the previous database's unmerged journal as {side}.")
    print(f"Restored {report.database} from {report.source}.")
    if info.version < LATEST:
        print(f"The bot upgrades it from schema {info.version} to {LATEST} when it starts.")
    print("Start the bot again (systemctl start tiesbot, or docker compose start tiesbot).")
    return 0


async def cmd_health(settings: Settings, args: argparse.Namespace) -> int:
    ok, line = await asyncio.to_thread(check_health, settings)
    print(line, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else EXIT_FAILED


async def cmd_doctor(args: argparse.Namespace) -> int:
    """Takes no Settings: invalid settings are one of the things it reports."""
    checks = await doctor(env_file=args.env_file, call_timeout=args.timeout)
    for check in checks:
        print(check, flush=True)
    return EXIT_FAILED if any(c.status == "FAIL" for c in checks) else 0
