"""Every Bot API call goes through here: Telegram's flood limits, then bounded retries.

`AIORateLimiter` keeps the bot under Telegram's limits and waits out a 429's `retry_after`;
it does not retry a 5xx answer or a dropped connection, which Telegram produces now and then
and which would otherwise cost a user their answer. This adds a few spaced retries for those.
A timeout is not retried: the request may have reached Telegram, and a retry could post the
answer twice. Neither is a 4xx, which would fail the same way again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]
DEFAULT_BACKOFF = (0.25, 1.0, 3.0)


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter plus retries of server errors and dropped connections."""

    def __init__(
        self,
        overall_max_rate: float = 30,
        group_max_rate: float = 20,
        max_retries: int = 3,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
    ) -> None:
        super().__init__(
            overall_max_rate=overall_max_rate,
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
        rate_limit_args: int | None,
    ) -> JSONResult:
        """Run one Bot API call through the flood limits, retrying transient failures."""
        attempt = 0
        while True:
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
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
                if attempt >= len(self.backoff):
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
