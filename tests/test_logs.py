"""Log lines carry the update id being handled and never a secret."""

from __future__ import annotations

import asyncio
import io
import logging

from bot.logs import FORMAT, RedactingFormatter, UpdateIdFilter, current_update

TOKEN = "123456789:AAExampleExampleExampleExampleExample"


def _logger(stream: io.StringIO) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.addFilter(UpdateIdFilter())
    handler.setFormatter(RedactingFormatter(FORMAT, [TOKEN]))
    logger = logging.getLogger("tests.logs")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


async def test_each_task_logs_the_update_it_handles() -> None:
    stream = io.StringIO()
    log = _logger(stream)

    async def handle(update_id: int) -> None:
        current_update.set(update_id)
        await asyncio.sleep(0)  # let the other task run in between
        log.info("answered")

    await asyncio.gather(handle(101), handle(202))
    log.info("idle")
    lines = stream.getvalue().splitlines()
    assert sorted(line.split("[update ")[1].split("]")[0] for line in lines) == ["-", "101", "202"]
    assert all(" INFO tests.logs " in line for line in lines)


def test_the_token_is_masked_even_inside_a_traceback() -> None:
    stream = io.StringIO()
    log = _logger(stream)
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/getMe failed")
    except RuntimeError:
        log.exception("request failed for %s", TOKEN)
    assert TOKEN not in stream.getvalue()
    assert stream.getvalue().count("[secret]") == 2
