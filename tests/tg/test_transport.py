"""bot/tg/transport.py on real sockets: what each way of failing raises, and what the digest
ledger makes of it; and that a Bot built on it speaks the Bot API (JSON and uploads).

The servers here are raw asyncio servers on 127.0.0.1 that misbehave on purpose: they accept
and never answer, or read the request and hang up.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.broadcast import DeliveryUncertain, TransientError
from bot.tg.digest_sender import classify
from bot.tg.transport import AiohttpRequest, never_sent
from tests.fakebot import FakeBotApi
from tests.tg.conftest import TOKEN

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Coroutine[Any, Any, None]]


@asynccontextmanager
async def server(handle: Handler) -> AsyncIterator[str]:
    """A TCP server on 127.0.0.1 running `handle` per connection; yields its URL. Every
    connection is closed on the way out, whatever its handler was doing."""
    writers: list[asyncio.StreamWriter] = []

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await handle(reader, writer)

    srv = await asyncio.start_server(tracked, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/bot{TOKEN}/sendMessage"
    finally:
        srv.close()
        for writer in writers:
            await close(writer)
        await srv.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    await reader.readexactly(length)


async def close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


def message(chat_id: int = 1) -> RequestData:
    return RequestData(
        [
            RequestParameter.from_input("chat_id", chat_id),
            RequestParameter.from_input("text", "hi"),
        ]
    )


@asynccontextmanager
async def transport(**kwargs: Any) -> AsyncIterator[AiohttpRequest]:
    request = AiohttpRequest(**kwargs)
    await request.initialize()
    try:
        yield request
    finally:
        await request.shutdown()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refused_connection_was_never_sent_and_may_be_retried() -> None:
    url = f"http://127.0.0.1:{free_port()}/bot{TOKEN}/sendMessage"
    async with transport() as request:
        with pytest.raises(NetworkError) as caught:
            await request.do_request(url, "POST", message())
    assert never_sent(caught.value)
    assert isinstance(classify(caught.value), TransientError)


async def test_no_answer_in_time_may_have_been_delivered() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await reader.read()  # until the client gives up and hangs up
        await close(writer)

    async with server(silent) as url, transport(read_timeout=0.2) as request:
        with pytest.raises(TimedOut) as caught:
            await request.do_request(url, "POST", message())
    assert not never_sent(caught.value)
    assert isinstance(classify(caught.value), DeliveryUncertain)


async def test_a_connection_dropped_after_the_request_may_have_been_delivered() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await close(writer)

    async with server(hang_up) as url, transport() as request:
        with pytest.raises(NetworkError) as caught:
            await request.do_request(url, "POST", message())
    assert not isinstance(caught.value, TimedOut)
    assert not never_sent(caught.value)
    assert isinstance(classify(caught.value), DeliveryUncertain)


async def test_waiting_for_a_free_connection_too_long_was_never_sent() -> None:
    release = asyncio.Event()

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await release.wait()
        await close(writer)

    async with server(slow) as url, transport(connection_pool_size=1, read_timeout=5) as request:
        first = asyncio.create_task(request.do_request(url, "POST", message(1)))
        await asyncio.sleep(0.2)  # the only connection is now busy with `first`
        with pytest.raises(TimedOut) as caught:
            await request.do_request(
                url, "POST", message(2), pool_timeout=0.1, connect_timeout=0.1
            )
        release.set()
        with pytest.raises(NetworkError):
            await first
    assert never_sent(caught.value)
    assert isinstance(classify(caught.value), TransientError)


async def test_an_uninitialised_transport_says_so() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:1/", "POST", message())


async def test_a_bot_on_it_sends_markup_as_json_and_uploads_as_multipart(
    fake: FakeBotApi,
) -> None:
    fake.user(5, "Ann", started=True)
    bot = Bot(TOKEN, base_url=f"{fake.url}/bot", request=AiohttpRequest())
    async with bot:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Why?", callback_data="why")]])
        sent = await bot.send_message(
            5, "<b>Minsk</b> and Baku", parse_mode="HTML", reply_markup=keyboard
        )
        await bot.send_document(5, b"id: minsk\n", filename="facts.yaml", caption="export")
    assert sent.text == "Minsk and Baku"
    [text_call] = fake.calls_to("sendMessage")
    assert text_call.params["reply_markup"] == keyboard.to_dict()
    [upload] = fake.calls_to("sendDocument")
    assert upload.params["document"].data == b"id: minsk\n"
    assert upload.params["caption"] == "export"


async def test_the_proxy_from_the_environment_carries_the_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head.split(b"\r\n")[0])
        body = b'{"ok":true,"result":true}'
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
        )
        await close(writer)

    async with server(proxy) as url:
        address = url.split("/bot", 1)[0]
        monkeypatch.delenv("http_proxy", raising=False)  # the lower-case one would win
        monkeypatch.setenv("HTTP_PROXY", address)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with transport() as request:
            status, _ = await request.do_request(
                "http://api.telegram.invalid/bot1:x/getMe", "POST", message()
            )
    assert status == 200
    assert seen == [b"POST http://api.telegram.invalid/bot1:x/getMe HTTP/1.1"]
