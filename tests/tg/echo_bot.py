"""A minimal, real python-telegram-bot echo bot.

The fake Bot API is only worth trusting if an unmodified PTB Application can
drive it end to end, so the fake's own tests run this bot. A benchmark reuses it
as a baseline: it measures the cost of PTB plus the fake with no bot logic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

START_TEXT = "Hi! Send me any text and I will send it back."


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(START_TEXT)


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text, do_quote=False)


def build_echo_app(
    base_url: str,
    token: str,
    *,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    concurrent_updates: bool | int = False,
    request: Callable[[int], BaseRequest] | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Build (not start) the echo bot against a Bot API at ``base_url``.

    ``base_url`` is the server root (``FakeBotApi.url``), because PTB needs two
    derived URLs: ``/bot`` for methods and ``/file/bot`` for downloads. Callers
    may add handlers before starting it. ``concurrent_updates`` and ``request`` (a factory
    taking the connection pool size) let a benchmark give the baseline the same concurrency
    and HTTP stack as the bot it is compared with.
    """
    root = base_url.rstrip("/")
    builder = ApplicationBuilder().token(token).base_url(f"{root}/bot")
    builder = builder.base_file_url(f"{root}/file/bot")
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    builder = builder.concurrent_updates(concurrent_updates)
    if request is not None:
        builder = builder.request(request(256)).get_updates_request(request(1))
    app = builder.build()
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    return app
