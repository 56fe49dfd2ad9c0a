"""The bot's HTTP to the Bot API: PTB's `BaseRequest` over aiohttp.

PTB's default HTTPXRequest costs about 1.2 ms of CPU per request on our machines (httpx,
httpcore and anyio, and a connection-pool scan that grows with the pool), against about
0.4 ms for aiohttp (benchmarks/bench_digest.py). A weekly digest at a raised broadcast limit
of 1,000 messages a second cannot be sent from one process through httpx; through aiohttp it
can. `BaseRequest` is PTB's own extension point for this: everything above it (the Bot, its
rate limiter, JSON parsing, error classes) is unchanged.

What a failure means is kept apart, because the digest's ledger depends on it
(`never_sent`): a connection that was never made (refused, or no connection free or made in
time) cannot have delivered anything; a read timeout or a connection dropped after the
request went out may have.
"""

from __future__ import annotations

import ssl
from typing import Any, Final

import aiohttp
import certifi
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# Failures raised before a byte of the request left: Telegram cannot have seen it.
_NOT_SENT: Final = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)


class AiohttpRequest(BaseRequest):
    """Bot API requests through one aiohttp session with a bounded connection pool.

    Timeouts follow HTTPXRequest's meaning: `connect_timeout` to open a connection,
    `pool_timeout` to wait for a free one (aiohttp counts both in its `connect`), and
    `read_timeout` between chunks of the answer. aiohttp has no separate write timeout, so
    `write_timeout` (and `media_write_timeout` for uploads) bounds the whole request together
    with the read timeout, which is what a stalled upload needs.
    """

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout; PTB adds it to getUpdates' long-polling timeout."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (again, after a shutdown: PTB may initialise a bot twice)."""
        if self._session is None or self._session.closed:
            # As with httpx before: Mozilla's CA bundle, and HTTPS_PROXY & co. from the
            # environment (where Telegram is blocked, a proxy is how the bot reaches it).
            tls = ssl.create_default_context(cafile=certifi.where())
            connector = aiohttp.TCPConnector(limit=self._pool_size, ssl=tls)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}, trust_env=True
            )

    async def shutdown(self) -> None:
        """Close the session and its connections; a second call does nothing."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One request; aiohttp's failures become PTB's TimedOut or NetworkError, caused by
        the aiohttp error so that `never_sent` can read them."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else {}
        form: aiohttp.FormData | None = None
        payload: dict[str, Any] | None = None
        if files and request_data is not None:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mime_type) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime_type)
        elif request_data is not None:
            # A JSON body (which the Bot API takes for anything but uploads) encodes in C;
            # a form body is quoted byte by byte in Python, a third of a digest send's CPU.
            payload = request_data.parameters
        timeout = self._timeout(
            read_timeout, write_timeout, connect_timeout, pool_timeout, bool(files)
        )
        try:
            async with self._session.request(
                method, url, data=form, json=payload, timeout=timeout
            ) as res:
                return res.status, await res.read()
        except aiohttp.ConnectionTimeoutError as err:
            raise TimedOut(
                "Connect or pool timeout: the request was *not* sent to Telegram."
            ) from err
        except TimeoutError as err:  # aiohttp's read and total timeouts included
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err

    def _timeout(
        self,
        read: ODVInput[float],
        write: ODVInput[float],
        connect: ODVInput[float],
        pool: ODVInput[float],
        upload: bool,
    ) -> aiohttp.ClientTimeout:
        read_s = self._read_timeout if isinstance(read, DefaultValue) else read
        connect_s = self._connect_timeout if isinstance(connect, DefaultValue) else connect
        pool_s = self._pool_timeout if isinstance(pool, DefaultValue) else pool
        if isinstance(write, DefaultValue):
            write = self._media_write_timeout if upload else self._write_timeout
        waiting = None if connect_s is None or pool_s is None else connect_s + pool_s
        total = None
        if waiting is not None and read_s is not None and write is not None:
            total = waiting + write + read_s
        return aiohttp.ClientTimeout(
            total=total, connect=waiting, sock_connect=connect_s, sock_read=read_s
        )


def never_sent(exc: NetworkError) -> bool:
    """Whether a failed request certainly never reached Telegram (so repeating it is safe)."""
    return isinstance(exc.__cause__, _NOT_SENT)


__all__ = ["AiohttpRequest", "never_sent"]
