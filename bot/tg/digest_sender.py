"""The digest's `Sender`: one HTML message through the bot, Bot API errors read for the ledger.

bot/broadcast.py decides what to do with a failed send from the exception class alone, so
this is where a Telegram error becomes a verdict. The line that matters is whether the
request may have reached Telegram: a refused connection or a 5xx answer means the message
was not posted and may be tried again; a read timeout or a connection dropped after the
request went out means nobody knows, and the chat is recorded 'unknown' rather than risk a
second copy. For the same reason the send opts out of bot/tg/delivery.py's network retries
(`SEND_ONCE`); AIORateLimiter still paces it and waits out 429s, which are refusals.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ExtBot
from telegram.warnings import PTBDeprecationWarning

from bot.broadcast import (
    DeliveryError,
    DeliveryUncertain,
    PermanentError,
    RecipientGone,
    RecipientMoved,
    RetryLater,
    TransientError,
)
from bot.tg.delivery import SEND_ONCE, RetryingRateLimiter
from bot.tg.transport import never_sent

# Bad Request texts that mean the chat itself is gone, not this message.
_GONE = ("chat not found",)


class TelegramSender:
    """Sends digest parts with the application's bot (its defaults, its rate limiter)."""

    def __init__(self, bot: ExtBot[Any] | Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: int, text: str) -> None:
        """Post one part; raise the DeliveryError the ledger should record."""
        extra: dict[str, Any] = {}
        # Only RetryingRateLimiter repeats requests on its own and knows SEND_ONCE; a plain
        # AIORateLimiter would read it as its retry count.
        if isinstance(self.bot, ExtBot) and isinstance(self.bot.rate_limiter, RetryingRateLimiter):
            extra["rate_limit_args"] = SEND_ONCE
        try:
            await self.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, **extra)
        except TelegramError as exc:
            raise classify(exc) from exc


def classify(exc: TelegramError) -> DeliveryError:
    """What a Bot API error means for one digest delivery."""
    message = exc.message
    if isinstance(exc, RetryAfter):
        return RetryLater(retry_seconds(exc))
    if isinstance(exc, Forbidden):
        return RecipientGone(message)
    if isinstance(exc, BadRequest):
        if any(text in message.lower() for text in _GONE):
            return RecipientGone(message)
        return PermanentError(message)
    if isinstance(exc, ChatMigrated):
        # The group became a supergroup; the message was not posted, and the same readers
        # are in the new chat.
        return RecipientMoved(exc.new_chat_id)
    if isinstance(exc, NetworkError):  # TimedOut included
        if never_sent(exc):
            return TransientError(message)
        if exc.__cause__ is None and not isinstance(exc, TimedOut):
            return TransientError(message)  # an HTTP answer: a 5xx, so nothing was posted
        return DeliveryUncertain(message)
    return PermanentError(message)


def retry_seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds, whichever way PTB reports it."""
    with warnings.catch_warnings():
        # PTB 22 warns when retry_after is read as a number (without PTB_TIMEDELTA=true).
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


__all__ = ["TelegramSender", "classify", "retry_seconds"]
