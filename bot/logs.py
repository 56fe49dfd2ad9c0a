"""Log lines: one per event, with level, logger and the update being handled, never a secret.

The update id travels in a context variable: PTB handles each update in a task of its own, so
whatever a handler (or the library under it) logs while that task runs carries the update id.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from contextvars import ContextVar

current_update: ContextVar[int | None] = ContextVar("current_update", default=None)

FORMAT = "%(asctime)s %(levelname)s %(name)s [update %(update_id)s]: %(message)s"


class UpdateIdFilter(logging.Filter):
    """Stamps each record with the id of the update being handled ("-" outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        update_id = current_update.get()
        record.update_id = "-" if update_id is None else update_id
        return True


class RedactingFormatter(logging.Formatter):
    """Masks secrets in every formatted line, tracebacks included.

    PTB's DEBUG logs print Bot API URLs, and a URL holds the token; masking the output is
    the one place that catches every logger and every exception text.
    """

    def __init__(self, fmt: str, secrets: Sequence[str]) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "[secret]")
        return text


def configure_logging(level: str, secrets: Sequence[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(UpdateIdFilter())
    handler.setFormatter(RedactingFormatter(FORMAT, secrets))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # The bot talks through aiohttp (bot/tg/transport.py), which logs no URLs; PTB's default
    # HTTPXRequest logs every request URL, token included, should anything fall back to it.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
