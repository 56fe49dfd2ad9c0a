"""Settings from the environment or `.env`, validated once at start with one message per problem.

Built in `main()`, never at import time, so tests and commands can pass their own environment.
The token is kept out of `repr` so it can never reach a log line by accident.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TOKEN_RE = re.compile(r"^\d{5,12}:[A-Za-z0-9_-]{30,64}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
CHANNEL_RE = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-100\d{5,15}|-?\d{5,15})$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_API = "https://api.telegram.org"


class SettingsError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    token: str = field(default="", repr=False)
    api_base_url: str = DEFAULT_API
    admin_ids: frozenset[int] = frozenset()
    database_path: Path = Path("data/tiesbot.sqlite3")
    knowledge_dir: Path = Path("knowledge")
    sources_dir: Path = Path("knowledge/articles")
    digest_channel: str = ""
    digest_weekday: int = 0  # Monday = 0, as datetime.weekday()
    digest_time: tuple[int, int] = (9, 0)
    digest_tz: str = "Europe/Minsk"
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    flood_limit: int = 20
    log_level: str = "INFO"
    admin_timeout: float = 15 * 60.0  # seconds an unfinished /add or /edit is kept

    @property
    def bot_api_url(self) -> str:
        return f"{self.api_base_url.rstrip('/')}/bot"

    @property
    def file_api_url(self) -> str:
        return f"{self.api_base_url.rstrip('/')}/file/bot"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.digest_tz)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments skipped; optional quotes removed."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip().removeprefix("export ").strip()] = value
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Merge `.env` under the real environment and validate every field."""
    merged = dict(read_env_file(env_file)) if env_file else {}
    merged.update(os.environ if environ is None else environ)

    def get(name: str, default: str = "") -> str:
        return (merged.get(name) or default).strip()

    problems: list[str] = []
    token = get("TELEGRAM_BOT_TOKEN")
    if token and not TOKEN_RE.match(token):
        problems.append(
            "TELEGRAM_BOT_TOKEN: not a bot token (expected digits, a colon and 30+ letters,"
            " as @BotFather gives it)"
        )
    api = get("TELEGRAM_API_BASE_URL", DEFAULT_API)
    if not re.match(r"^https?://[^\s/]+", api):
        problems.append("TELEGRAM_API_BASE_URL: must be an http(s) address")
    admins: set[int] = set()
    for part in filter(None, (p.strip() for p in get("ADMIN_IDS").split(","))):
        if re.fullmatch(r"\d{1,15}", part):
            admins.add(int(part))
        else:
            problems.append(f"ADMIN_IDS: '{part}' is not a numeric Telegram user id")
    channel = get("DIGEST_CHANNEL_ID")
    if channel and not CHANNEL_RE.match(channel):
        problems.append("DIGEST_CHANNEL_ID: use @channelname or the numeric id (-100…)")
    weekday = get("DIGEST_WEEKDAY", "monday").lower()
    if weekday not in WEEKDAYS:
        problems.append(f"DIGEST_WEEKDAY: '{weekday}' is not one of {', '.join(WEEKDAYS)}")
    time_text = get("DIGEST_TIME", "09:00")
    time_match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", time_text)
    if not time_match:
        problems.append(f"DIGEST_TIME: '{time_text}' is not a time like 09:00")
    tz = get("DIGEST_TZ", "Europe/Minsk")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"DIGEST_TZ: '{tz}' is not an IANA time zone such as Europe/Minsk")
    webhook = get("WEBHOOK_URL")
    secret = get("WEBHOOK_SECRET")
    if webhook:
        if not webhook.startswith("https://"):
            problems.append("WEBHOOK_URL: Telegram only calls https:// addresses")
        if not SECRET_RE.match(secret):
            problems.append(
                "WEBHOOK_SECRET: required with WEBHOOK_URL; 1-256 characters of A-Z a-z 0-9 _ -"
            )
    port_text = get("WEBHOOK_PORT", "8443")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        problems.append(f"WEBHOOK_PORT: '{port_text}' is not a port number")
    flood = get("FLOOD_LIMIT", "20")
    if not flood.isdigit() or int(flood) < 1:
        problems.append(f"FLOOD_LIMIT: '{flood}' must be a whole number of questions, 1 or more")
    draft_minutes = get("ADMIN_DRAFT_MINUTES", "15")
    if not draft_minutes.isdigit() or not 1 <= int(draft_minutes) <= 1440:
        problems.append(
            f"ADMIN_DRAFT_MINUTES: '{draft_minutes}' must be a whole number of minutes, 1 to 1440"
        )
    level = get("LOG_LEVEL", "INFO").upper()
    if level not in LOG_LEVELS:
        problems.append(f"LOG_LEVEL: '{level}' is not one of {', '.join(LOG_LEVELS)}")
    if problems:
        raise SettingsError(problems)
    assert time_match is not None
    return Settings(
        token=token,
        api_base_url=api,
        admin_ids=frozenset(admins),
        database_path=Path(get("DATABASE_PATH", "data/tiesbot.sqlite3")),
        knowledge_dir=Path(get("KNOWLEDGE_DIR", "knowledge")),
        sources_dir=Path(get("SOURCES_DIR", "knowledge/articles")),
        digest_channel=channel,
        digest_weekday=WEEKDAYS.index(weekday),
        digest_time=(int(time_match[1]), int(time_match[2])),
        digest_tz=tz,
        webhook_url=webhook,
        webhook_secret=secret,
        webhook_listen=get("WEBHOOK_LISTEN", "127.0.0.1"),
        webhook_port=int(port_text),
        flood_limit=int(flood),
        log_level=level,
        admin_timeout=60.0 * int(draft_minutes),
    )
