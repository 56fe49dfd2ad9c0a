"""`python -m bot run` as an operator starts it: a real process, real settings, real signals.

With a token it must reach the Bot API (here the fake, through TELEGRAM_API_BASE_URL), publish
its commands, poll, answer, and exit 0 on SIGTERM without ever printing the token. In webhook
mode it must refuse requests without the secret header. Without a token it is a console chat.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.fakebot import FakeBotApi
from tests.tg.conftest import ARTICLES, KNOWLEDGE, ROOT, TOKEN

QUESTION = "When did Lukashenka visit Iran?"


def bot_env(database: Path, **extra: str) -> dict[str, str]:
    """The operator's environment: nothing inherited that could point the bot elsewhere."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "WEBHOOK_", "ADMIN_", "DATABASE_", "FLOOD_"))
    }
    env.update(
        DATABASE_PATH=str(database),
        KNOWLEDGE_DIR=str(KNOWLEDGE),
        SOURCES_DIR=str(ARTICLES),
        LOG_LEVEL="DEBUG",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


async def start_bot(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--env-file",
        str(tmp_path / "absent.env"),
        "run",
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop_bot(process: asyncio.subprocess.Process) -> str:
    """SIGTERM, as systemd and Docker send it; returns the log, asserting a clean exit."""
    process.send_signal(signal.SIGTERM)
    try:
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    log = err.decode()
    assert process.returncode == 0, log[-3000:]
    return log


async def test_run_with_a_token_polls_the_bot_api_and_stops_on_sigterm(
    fake: FakeBotApi, database: Path, tmp_path: Path
) -> None:
    env = bot_env(database, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake.url)
    process = await start_bot(tmp_path, env)
    try:
        await fake.wait_for(lambda: fake.calls_to("getUpdates"), timeout=60)
        assert fake.calls_to("getMe")
        assert len(fake.calls_to("setMyCommands")) == 2
        assert fake.commands_for(None, "ru"), "the Russian command menu was not set"
        user = fake.user(4242, "Dana")
        await fake.send_text(user, QUESTION)
        answer = (await fake.wait_for_messages(user.id, 1, timeout=30))[0]
        assert "Source:" in (answer.text or "")
        allowed = fake.calls_to("getUpdates")[-1].params.get("allowed_updates")
        assert isinstance(allowed, list)
        assert "callback_query" in allowed
        assert "chat_member" in allowed
        await wait_for_file(database.with_name(database.name + ".heartbeat"))
        second = await start_bot(tmp_path, env)
        _, err = await asyncio.wait_for(second.communicate(), timeout=30)
        assert second.returncode == 3, err.decode()[-2000:]
        assert "is in use by process" in err.decode()
    finally:
        log = await stop_bot(process)
    assert TOKEN not in log
    assert TOKEN.split(":")[1] not in log
    assert fake.pending_updates == [], "the last update was not confirmed on shutdown"


async def wait_listening(port: int, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    """PTB sets the webhook before its server listens; nothing announces the moment, so poll."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return


async def wait_for_file(path: Path, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """The heartbeat job writes a file; nothing else announces it, so look until it is there."""
    async with asyncio.timeout(timeout):
        while True:
            if await asyncio.to_thread(path.exists):
                return
            await asyncio.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_checks_the_secret_token(
    fake: FakeBotApi, database: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = bot_env(
        database,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.url,
        WEBHOOK_URL="https://bot.example.org/telegram/hook",
        WEBHOOK_SECRET="s3cret-Token_1",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
    )
    process = await start_bot(tmp_path, env)
    user = fake.user(4343, "Eve", started=True)
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": user.to_api(),
            "text": QUESTION,
        },
    }
    url = f"http://127.0.0.1:{port}/telegram/hook"
    try:
        await fake.wait_for(lambda: fake.webhook is not None, timeout=60)
        assert fake.webhook is not None
        assert fake.webhook["url"] == "https://bot.example.org/telegram/hook"
        assert fake.webhook["secret_token"] == "s3cret-Token_1"
        await wait_listening(port)
        async with aiohttp.ClientSession() as session:
            for secret, expected in (("wrong", 403), ("s3cret-Token_1", 200)):
                headers = {
                    "Content-Type": "application/json",
                    "X-Telegram-Bot-Api-Secret-Token": secret,
                }
                async with session.post(url, data=json.dumps(update), headers=headers) as resp:
                    assert resp.status == expected
        answer = (await fake.wait_for_messages(user.id, 1, timeout=30))[0]
        assert "Source:" in (answer.text or "")
        assert len(fake.messages_to(user.id)) == 1, "the update without the secret was handled"
    finally:
        log = await stop_bot(process)
    assert TOKEN.split(":")[1] not in log
    assert "s3cret-Token_1" not in log


def test_run_without_a_token_is_a_console_chat(database: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--env-file", str(tmp_path / "absent.env"), "run"],
        cwd=ROOT,
        env=bot_env(database, LOG_LEVEL="INFO"),
        input=f"{QUESTION}\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "@BotFather" in done.stdout
    assert "Lukashenka paid an official visit to Iran" in done.stdout
    assert "Source: “Belarus-Iran: Minsk Goes Where Doors Are Open”" in done.stdout
    assert "📄 What the article says" in done.stdout
    assert done.stdout.rstrip().endswith("Bye.")


async def test_ctrl_c_leaves_the_console_cleanly(database: Path, tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--env-file",
        str(tmp_path / "absent.env"),
        "run",
        cwd=ROOT,
        env=bot_env(database, LOG_LEVEL="INFO"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(b"/sources\n")
    await process.stdin.drain()
    async with asyncio.timeout(30):
        while b"Sources" not in await process.stdout.readline():
            pass
    process.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()[-2000:]
    assert b"Traceback" not in err
