"""The typed state every handler reaches through `context.bot_data`, and the chat's language.

PTB's `ContextTypes(bot_data=BotData)` makes `context.bot_data` this dataclass instead of a
dict, so handlers read `context.bot_data.service` with types and no `cast`. PTB builds it
without arguments before anything is open, hence the defaults and the `service` property that
fails loudly if a handler runs before `post_init` opened the fact service.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.broadcast import BroadcastOptions
from bot.service import FactService
from bot.settings import Settings
from bot.storage.store import Store
from bot.tg.flood import Cooldown, FloodLimiter

LANG_CODES = ("en", "ru")
# Telegram's language_code for people who will rather read Russian than English.
_RUSSIAN_READERS = ("ru", "be", "uk", "kk")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class DigestState:
    """The weekly digest's working parts (bot/tg/digest_job.py).

    `store` is a connection of its own, opened in post_init: ledger writes are single
    autocommit statements and must never land inside a handler's open transaction. `lock`
    keeps the weekly job, the start-up catch-up and /digest send from broadcasting at once.
    `channel_id` is DIGEST_CHANNEL_ID resolved to its number (the ledger is keyed by ids).
    `clock` and `options` are there for tests and benchmarks to set; `ready` is set once the
    start-up catch-up is over.
    """

    store: Store | None = None
    channel_id: int | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    options: BroadcastOptions = field(default_factory=BroadcastOptions)
    clock: Callable[[], dt.datetime] = _utc_now


@dataclass
class BotData:
    """What the whole bot shares: settings, the fact service and the rate-keeping state."""

    settings: Settings = field(default_factory=Settings)
    flood: FloodLimiter = field(default_factory=lambda: FloodLimiter(20))
    alerts: Cooldown = field(default_factory=Cooldown)
    fact_service: FactService | None = None
    owns_service: bool = True
    heartbeat: bool = False
    chat_langs: dict[int, str | None] = field(default_factory=dict)
    digest: DigestState = field(default_factory=DigestState)

    @property
    def service(self) -> FactService:
        if self.fact_service is None:
            raise RuntimeError("the fact service is not open yet (post_init has not run)")
        return self.fact_service


Context = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]
TiesApp = Application[
    ExtBot[Any], Context, dict[Any, Any], dict[Any, Any], BotData, JobQueue[Context]
]


async def chat_lang(data: BotData, chat_id: int) -> str | None:
    """The language a chat chose with /lang, or None; cached since every question asks."""
    if chat_id not in data.chat_langs:
        data.chat_langs[chat_id] = await data.service.store.chat_lang(chat_id)
    return data.chat_langs[chat_id]


async def set_chat_lang(data: BotData, chat_id: int, kind: str, lang: str) -> None:
    """Store a /lang choice and update the cache, so the next answer already uses it."""
    await data.service.store.set_chat_lang(chat_id, kind, lang)
    data.chat_langs[chat_id] = lang


def user_lang(update: Update) -> str:
    """The language the user's Telegram app runs in, reduced to the two the bot speaks."""
    user = update.effective_user
    code = (user.language_code or "") if user else ""
    return "ru" if code.split("-")[0].lower() in _RUSSIAN_READERS else "en"


async def ui_lang(update: Update, context: Context) -> str:
    """Language for menus and notices: the chat's /lang choice, else the user's app language."""
    chat = update.effective_chat
    chosen = await chat_lang(context.bot_data, chat.id) if chat else None
    return chosen or user_lang(update)


async def answer_lang(update: Update, context: Context, question_lang: str) -> str:
    """Language for an answer: the chat's /lang choice, else the question's own language."""
    chat = update.effective_chat
    chosen = await chat_lang(context.bot_data, chat.id) if chat else None
    return chosen or question_lang
