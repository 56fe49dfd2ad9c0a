"""Helpers for the digest's end-to-end tests: a bot with a digest channel, subscribers, and a
way to fire the weekly job on the test's own clock.

The job is run the way the JobQueue runs it (`Job.run`), at a moment the test chose through
`DigestState.clock`, so no test waits for a real Monday morning.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import Job

from bot.settings import Settings
from bot.tg.app import build_application
from bot.tg.context import Context, TiesApp
from bot.tg.digest_job import WEEKLY_JOB
from tests.fakebot import FakeBotApi, FakeChat, FakeUser, StoredMessage
from tests.tg.conftest import ADMIN_ID, Harness, make_settings, quick_limiter, running

MINSK = ZoneInfo("Europe/Minsk")
CHANNEL_ID = -100_900_000_001
CHANNEL_NAME = "tiesdigest"
GROUP_ID = -100_900_000_002
DIGEST_TITLE = {"en": "Belarus Ties — weekly digest", "ru": "Беларусь и её партнёры"}
SUBSCRIBER_BASE = 60_000


def digest_settings(fake: FakeBotApi, database: Path, **overrides: Any) -> Settings:
    """Production digest settings (Monday 09:00 Europe/Minsk) with the fake's channel."""
    values: dict[str, Any] = {"digest_channel": f"@{CHANNEL_NAME}"}
    values.update(overrides)
    return make_settings(fake, database, **values)


def make_channel(fake: FakeBotApi, *, bot_admin: bool = True) -> FakeChat:
    return fake.channel(
        CHANNEL_ID, "Belarus Ties digest", username=CHANNEL_NAME, bot_admin=bot_admin
    )


def owner(fake: FakeBotApi) -> FakeUser:
    """The owner (ADMIN_IDS), who has started the bot and so can be told things."""
    return fake.user(ADMIN_ID, "Olga", "en", started=True)


def readers(fake: FakeBotApi, count: int, base: int = SUBSCRIBER_BASE) -> list[FakeUser]:
    """Users who have started the bot (so it may write to them)."""
    return [fake.user(base + i, f"Reader {i}", "en", started=True) for i in range(count)]


async def subscribe_all(app: TiesApp, chats: Iterable[int], kind: str = "private") -> None:
    """Subscriptions as /subscribe leaves them (test_digest_subscribe covers the command)."""
    store = app.bot_data.service.store
    for chat_id in chats:
        await store.subscribe(chat_id, kind)


def weekly_job(app: TiesApp) -> Job[Context]:
    [job] = app.job_queue.jobs(WEEKLY_JOB) if app.job_queue else ()
    return job


async def fire_weekly(app: TiesApp, at: dt.datetime | None = None) -> None:
    """Run the weekly job as the JobQueue would, at `at` (default: the real now)."""
    if at is not None:
        app.bot_data.digest.clock = lambda: at
    await weekly_job(app).run(app)


async def wait_ready(app: TiesApp) -> None:
    """The start-up job (channel check, resume, catch-up) has finished."""
    async with asyncio.timeout(15):
        await app.bot_data.digest.ready.wait()


@asynccontextmanager
async def digest_bot(fake: FakeBotApi, settings: Settings) -> AsyncIterator[Harness]:
    """The real bot on the fake, its start-up digest work done before the block runs."""
    app = build_application(settings, rate_limiter=quick_limiter())
    harness = Harness(fake, app)
    async with running(app):
        await wait_ready(app)
        yield harness


def digests_to(fake: FakeBotApi, chat: FakeChat | FakeUser | int) -> list[StoredMessage]:
    """The digest's first parts a chat received (one per digest it got)."""
    return [
        m
        for m in fake.messages_to(chat)
        if m.html is not None and any(t in m.html for t in DIGEST_TITLE.values())
    ]


def digest_parts_to(fake: FakeBotApi, chat: FakeChat | FakeUser | int) -> list[str]:
    """Every digest message (all parts) a chat received, as the HTML the bot sent."""
    parts: list[str] = []
    collecting = False
    for message in fake.messages_to(chat):
        html = message.html or ""
        if any(t in html for t in DIGEST_TITLE.values()):
            collecting = True
        if collecting and message.method == "sendMessage" and not message.buttons:
            parts.append(html)
        if "/unsubscribe" in html:
            collecting = False
    return parts


def send_calls_to(fake: FakeBotApi, chat_id: int) -> list[int | None]:
    """The statuses of every sendMessage the bot made to one chat (0: connection dropped)."""
    return [c.status for c in fake.calls_to("sendMessage") if c.params.get("chat_id") == chat_id]


def ledger(database: Path, digest_id: str | None = None) -> dict[int, str]:
    """Delivery states by chat, read by a separate connection as another process would."""
    with closing(sqlite3.connect(str(database))) as conn:
        sql = "SELECT chat_id, state FROM deliveries"
        rows = (
            conn.execute(sql + " WHERE digest_id = ?", (digest_id,))
            if digest_id
            else conn.execute(sql)
        ).fetchall()
    return {int(chat_id): str(state) for chat_id, state in rows}


def bold_titles(html: str, after: str) -> list[str]:
    """The <b> titles that follow a section heading, up to the next section heading."""
    _, _, rest = html.partition(after)
    section = re.split(r"\n<b>(?:🔥|📚|🆕)", rest)[0]
    return [
        re.sub(r"<[^>]+>", "", t)
        for t in re.findall(r"^<b>(.*?)</b>", section, re.M)
        if not t.startswith(("🆕", "📚", "🔥"))
    ]


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait for a condition the fake does not announce.

    `fake.wait_for` wakes on answered calls; a call whose answer the fake holds back (the
    "delay" fault: Telegram posted the message but has not replied) announces nothing, so
    this looks again every few milliseconds until the deadline.
    """
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - there is no event to wait on (see above)
            await asyncio.sleep(0.005)


def in_flight_calls(fake: FakeBotApi) -> list[int]:
    """Chats of sendMessage calls that reached the fake and are still unanswered."""
    return [c.params["chat_id"] for c in fake.calls_to("sendMessage") if c.status is None]


def admin_texts(fake: FakeBotApi) -> str:
    return "\n".join(m.text or "" for m in fake.messages_to(ADMIN_ID))
