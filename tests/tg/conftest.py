"""Fixtures for end-to-end bot tests: the fake Bot API, and the real bot polling it.

The bot is the Application `bot.tg.app.build_application` builds for production, pointed at
the fake server on 127.0.0.1 through `base_url`. Each test gets its own database, copied from
one imported at session start, so tests are independent without re-importing the facts.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import TypeHandler

from bot.service import FactService
from bot.settings import Settings
from bot.tg.app import build_application, start_app, stop_app
from bot.tg.context import Context, TiesApp
from bot.tg.delivery import RetryingRateLimiter
from tests.fakebot import FakeBotApi, FakeChat, FakeUser, InjectedUpdate, StoredMessage

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = ROOT / "knowledge"
ARTICLES = ROOT / "knowledge" / "articles"
# A token the settings validator accepts (the fake's default one is too short for it).
TOKEN = "123456789:" + "T" * 35
USERNAME = "tiesbot_test_bot"
ADMIN_ID = 777_000_001


class FakeClock:
    """A monotonic clock the test moves by hand, for flood windows and alert cooldowns."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Harness:
    """The running bot plus the fake, with helpers that wait for events instead of sleeping.

    `processed` is set by a handler in the last group: PTB runs groups in order for one
    update, so once it fires the bot has finished with that update, replies included.
    """

    def __init__(self, fake: FakeBotApi, app: TiesApp) -> None:
        self.fake = fake
        self.app = app
        self.processed: set[int] = set()
        self._changed = asyncio.Condition()
        app.add_handler(TypeHandler(Update, self._mark), group=1_000)

    @property
    def service(self) -> FactService:
        return self.app.bot_data.service

    async def _mark(self, update: Update, context: Context) -> None:
        async with self._changed:
            self.processed.add(update.update_id)
            self._changed.notify_all()

    async def wait_processed(self, injected: InjectedUpdate, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has fully handled an update it was sent."""
        update_id = injected.update_id
        assert update_id is not None, "the fake did not deliver this update to the bot"
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: update_id in self.processed)

    async def say(
        self,
        user: FakeUser,
        text: str,
        chat: FakeChat | int | None = None,
        reply_to: StoredMessage | InjectedUpdate | None = None,
    ) -> list[StoredMessage]:
        """Send a message as a user; return what the bot sent to that chat in response."""
        target = chat if chat is not None else user.id
        before = len(self.fake.messages_to(target))
        injected = await self.fake.send_text(user, text, chat=chat, reply_to=reply_to)
        await self.wait_processed(injected)
        return self.fake.messages_to(target)[before:]

    async def ask(
        self, user: FakeUser, text: str, chat: FakeChat | int | None = None
    ) -> StoredMessage:
        """Send a message and return the bot's single reply."""
        replies = await self.say(user, text, chat)
        assert len(replies) == 1, [m.text for m in replies]
        return replies[0]

    async def press(self, user: FakeUser, message: StoredMessage, data: str) -> InjectedUpdate:
        injected = await self.fake.press_button(user, message, data)
        await self.wait_processed(injected)
        return injected

    async def press_label(
        self, user: FakeUser, message: StoredMessage, text: str
    ) -> InjectedUpdate:
        button = message.button(text)
        return await self.press(user, message, button["callback_data"])


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns when RetryAfter.retry_after is read as a number unless this opt-in is set,
    # and warnings are errors in this project.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the knowledge imported once; each test works on its own copy."""
    path = tmp_path_factory.mktemp("template") / "tiesbot.sqlite3"

    async def build() -> None:
        service = await FactService.open(path, KNOWLEDGE, ARTICLES)
        await service.close()

    asyncio.run(build())
    return path


@pytest.fixture
def database(tmp_path: Path, template_db: Path) -> Path:
    target = tmp_path / "tiesbot.sqlite3"
    shutil.copyfile(template_db, target)
    return target


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN, bot_username=USERNAME) as api:
        yield api


def make_settings(fake: FakeBotApi, database: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "token": TOKEN,
        "api_base_url": fake.url,
        "admin_ids": frozenset({ADMIN_ID}),
        "database_path": database,
        "knowledge_dir": KNOWLEDGE,
        "sources_dir": ARTICLES,
        "flood_limit": 20,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(fake: FakeBotApi, database: Path) -> Settings:
    return make_settings(fake, database)


def quick_limiter() -> RetryingRateLimiter:
    """Production limits and retries, with short pauses so fault tests stay fast."""
    return RetryingRateLimiter(backoff=(0.05, 0.1, 0.2))


@pytest.fixture
async def bot(fake: FakeBotApi, settings: Settings, clock: FakeClock) -> AsyncIterator[Harness]:
    """The real bot, long polling the fake, with its time windows on the test's clock."""
    app = build_application(settings, rate_limiter=quick_limiter())
    app.bot_data.flood.clock = clock
    app.bot_data.alerts.clock = clock
    harness = Harness(fake, app)
    async with running(app):
        yield harness


class _Running:
    def __init__(self, app: TiesApp) -> None:
        self.app = app

    async def __aenter__(self) -> TiesApp:
        await start_app(self.app)
        assert self.app.updater is not None
        try:
            await self.app.updater.start_polling(poll_interval=0, timeout=1)
        except BaseException:
            await stop_app(self.app)
            raise
        return self.app

    async def __aexit__(self, *exc: object) -> None:
        await stop_app(self.app)


def running(app: TiesApp) -> _Running:
    """Run the app's real polling loop for a block; leaving it drains in-flight updates."""
    return _Running(app)


@pytest.fixture
def users(fake: FakeBotApi) -> tuple[FakeUser, FakeUser]:
    return fake.user(1001, "Alice", "en"), fake.user(1002, "Boris", "ru")
