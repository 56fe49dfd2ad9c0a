"""Every Bot API call goes through here: Telegram's flood limits, then bounded retries.

`AIORateLimiter` keeps the bot under Telegram's limits and waits out a 429's `retry_after`;
it does not retry a 5xx answer or a dropped connection, which Telegram produces now and then
and which would otherwise cost a user their answer. This adds a few spaced retries for those.
A timeout is not retried: the request may have reached Telegram, and a retry could post the
answer twice. Neither is a 4xx, which would fail the same way again.

A send that must never be repeated (the weekly digest, whose ledger decides what a dropped
connection means) passes `rate_limit_args=SEND_ONCE`: it keeps the flood limits and the
429 waits, and skips the network retries.

The overall limit is kept in every window, not on average. AIORateLimiter's bucket holds a
whole period's worth, so after a quiet spell it lets `overall_max_rate` requests through at
once and then `overall_max_rate` a second more: a broadcast's first second runs at twice
Telegram's limit and is answered 429, which stops every request for the `retry_after`. Here
the bucket is small and refilled a little under the limit (`HEADROOM` is left for network
jitter), so no window of `overall_time_period` sees more than the limit.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]
DEFAULT_BACKOFF = (0.25, 1.0, 3.0)
# Share of the overall limit left unused, so requests bunched up by network jitter (≈30 ms at
# any rate) still arrive under it; and the share of it that may go out at once after a pause.
HEADROOM = 0.03
BURST = 0.02


@dataclass(frozen=True)
class SendOnce:
    """`rate_limit_args` for a message that must reach Telegram at most once.

    A connection dropped after Telegram accepted the message looks like any other
    NetworkError, so retrying it could post twice; the caller decides instead. A 429 is still
    waited out here: Telegram refused that message. `max_retries` is AIORateLimiter's own
    argument (how many 429s to wait out; None: the limiter's default).
    """

    max_retries: int | None = None


SEND_ONCE = SendOnce()


def paced(rate: float, period: float, headroom: float = HEADROOM) -> tuple[float, float]:
    """AsyncLimiter's (max_rate, time_period) for at most `rate` requests in any window of
    `period` seconds: a bucket of `burst` refilled at (rate·(1-headroom) - burst) a period,
    since a leaky bucket lets `burst + refill` through in one period at most. (0, 0): no limit.
    """
    if rate <= 0 or period <= 0:
        return 0, 0
    allowed = rate * (1 - headroom)
    burst = max(1.0, math.floor(allowed * BURST))
    refill = allowed - burst
    if refill <= 0:  # a limit of a request or two a period: one at a time, evenly spaced
        return 1, period / allowed
    return burst, period * burst / refill


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter plus retries of server errors and dropped connections, with its overall
    limit kept in every window (the per-group limit stays AIORateLimiter's)."""

    def __init__(
        self,
        overall_max_rate: float = 30,
        group_max_rate: float = 20,
        max_retries: int = 3,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        overall_time_period: float = 1,
    ) -> None:
        burst, refill_period = paced(overall_max_rate, overall_time_period)
        super().__init__(
            overall_max_rate=burst,
            overall_time_period=refill_period,
            group_max_rate=group_max_rate,
            max_retries=max_retries,
        )
        self.backoff = tuple(backoff)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | SendOnce | None,
    ) -> JSONResult:
        """Run one Bot API call through the flood limits, retrying transient failures."""
        once = isinstance(rate_limit_args, SendOnce)
        retries = (
            rate_limit_args.max_retries
            if isinstance(rate_limit_args, SendOnce)
            else rate_limit_args
        )
        attempt = 0
        while True:
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, retries
                )
            except (TimedOut, BadRequest):
                raise
            except NetworkError as exc:
                if not _loop_running():
                    # A stop signal during start-up makes PTB close its start-up coroutine
                    # outside the event loop; the HTTP layer then fails instead of unwinding.
                    # close() expects GeneratorExit, and only then does shutdown carry on
                    # (and close the database, whose thread would otherwise block the exit).
                    raise GeneratorExit from exc
                if once or attempt >= len(self.backoff):
                    raise
                delay = self.backoff[attempt]
                attempt += 1
                log.warning(
                    "%s failed (%s); retry %d of %d in %.2fs",
                    endpoint,
                    exc.message,
                    attempt,
                    len(self.backoff),
                    delay,
                )
                await asyncio.sleep(delay)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
