"""The digest Sender's reading of Bot API errors, and the limiter's promise for SEND_ONCE.

Whether a failed send may be repeated depends on whether the request can have reached
Telegram; these pin each PTB error (with the aiohttp error underneath, as bot/tg/transport.py
raises it; tests/tg/test_transport.py makes them on real sockets) to the ledger's verdict,
and check that the pacing keeps Telegram's limit in every window.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import aiohttp
import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter

from bot.broadcast import (
    DeliveryError,
    DeliveryUncertain,
    PermanentError,
    RecipientGone,
    RecipientMoved,
    RetryLater,
    TransientError,
)
from bot.tg.app import build_application
from bot.tg.delivery import SEND_ONCE, RetryingRateLimiter, paced
from bot.tg.digest_sender import classify
from tests.fakebot import FakeBotApi
from tests.tg.conftest import running
from tests.tg.digest_helpers import (
    MINSK,
    digest_settings,
    digests_to,
    fire_weekly,
    readers,
    subscribe_all,
    wait_ready,
)


def caused(error: TelegramError, cause: BaseException) -> TelegramError:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        (Forbidden("Forbidden: bot was blocked by the user"), RecipientGone),
        (Forbidden("Forbidden: bot was kicked from the supergroup chat"), RecipientGone),
        (BadRequest("Bad Request: chat not found"), RecipientGone),
        (BadRequest("Bad Request: can't parse entities"), PermanentError),
        (BadRequest("Bad Request: message is too long"), PermanentError),
        (ChatMigrated(-100_123), RecipientMoved),
        (InvalidToken("Unauthorized"), PermanentError),
        (NetworkError("Internal Server Error"), TransientError),  # a 5xx answer
        (NetworkError("Bad Gateway"), TransientError),
        (
            caused(TimedOut(), aiohttp.ConnectionTimeoutError("connect or pool")),
            TransientError,
        ),
        (caused(TimedOut(), aiohttp.SocketTimeoutError("read")), DeliveryUncertain),
        (
            caused(NetworkError("dropped"), aiohttp.ServerDisconnectedError()),
            DeliveryUncertain,
        ),
        (caused(NetworkError("reset"), aiohttp.ClientOSError(104, "reset")), DeliveryUncertain),
        (caused(NetworkError("Unknown error in HTTP"), RuntimeError("?")), DeliveryUncertain),
        (TimedOut(), DeliveryUncertain),
    ],
)
def test_each_bot_api_error_gets_the_ledgers_verdict(
    error: TelegramError, verdict: type[DeliveryError]
) -> None:
    assert type(classify(error)) is verdict


def test_retry_after_becomes_a_wait_of_that_many_seconds() -> None:
    result = classify(RetryAfter(dt.timedelta(seconds=7)))
    assert isinstance(result, RetryLater)
    assert result.seconds == 7.0


@pytest.mark.parametrize(("rate", "period"), [(30, 1), (1000, 1), (20, 60), (5, 1)])
def test_pacing_never_lets_a_window_exceed_the_limit(rate: float, period: float) -> None:
    burst, refill_period = paced(rate, period)
    # A leaky bucket of `burst` refilled at burst/refill_period passes at most
    # burst + period·burst/refill_period requests in any window of `period` seconds.
    most = burst + period * burst / refill_period
    assert most <= rate * 0.97 + 1e-9
    assert most >= rate * 0.9, "the pacing gives away more than a tenth of the limit"


def test_no_limit_stays_no_limit() -> None:
    assert paced(0, 1) == (0, 0)


async def test_send_once_skips_the_network_retries_only() -> None:
    limiter = RetryingRateLimiter(backoff=(0.01, 0.01))
    calls = 0

    async def dropped(*args: object, **kwargs: object) -> bool:
        nonlocal calls
        calls += 1
        raise NetworkError("aiohttp.ServerDisconnectedError: Server disconnected")

    with pytest.raises(NetworkError):
        await limiter.process_request(dropped, (), {}, "sendMessage", {"chat_id": 1}, SEND_ONCE)
    assert calls == 1
    calls = 0
    with pytest.raises(NetworkError):
        await limiter.process_request(dropped, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert calls == 3, "an ordinary answer is still retried"


async def test_a_plain_aioratelimiter_still_delivers_the_digest(
    fake: FakeBotApi, database: Path
) -> None:
    fake.user(777_000_001, "Olga", started=True)
    [alice] = readers(fake, 1)
    settings = digest_settings(fake, database, digest_channel="")
    app = build_application(settings, rate_limiter=AIORateLimiter(max_retries=1))
    async with running(app):
        await wait_ready(app)
        await subscribe_all(app, [alice.id])
        await fire_weekly(app, dt.datetime(2031, 3, 3, 9, 0, tzinfo=MINSK))
    assert len(digests_to(fake, alice)) == 1
