"""`tiesbot doctor` must name each kind of failure an operator meets, and never the token.

The Bot API side runs against the fake Bot API server (tests/fakebot), reached over real HTTP
on 127.0.0.1, so PTB's own error mapping (InvalidToken, NetworkError) is what is tested.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import ops
from bot.settings import Settings
from tests.fakebot import FakeBotApi

from .conftest import ROOT, TOKEN, env_for, sidecars

CHANNEL_ID = -1001234567890


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN, bot_username="ties_test_bot") as api:
        yield api


def environ(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_PATH": str(settings.database_path),
        "KNOWLEDGE_DIR": str(settings.knowledge_dir),
        "SOURCES_DIR": str(settings.sources_dir),
        "ADMIN_IDS": "42",
        **extra,
    }


async def run_doctor(settings: Settings, **extra: str) -> list[ops.Check]:
    return await ops.doctor(environ(settings, **extra), env_file=None, call_timeout=3.0)


def lines(checks: list[ops.Check]) -> list[str]:
    return [str(c) for c in checks]


def failures(checks: list[ops.Check], name: str) -> list[str]:
    return [c.detail for c in checks if c.status == "FAIL" and c.name == name]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_everything_fine(database: Path, settings: Settings, fake: FakeBotApi) -> None:
    fake.channel(CHANNEL_ID, "Belarus ties", username="belarus_ties", bot_admin=True)
    checks = await run_doctor(
        settings,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.url,
        DIGEST_CHANNEL_ID="@belarus_ties",
    )
    text = "\n".join(lines(checks))
    assert not [c for c in checks if c.status == "FAIL"], text
    assert "OK    configuration: settings valid: token 123456789:***" in text
    assert "OK    database:" in text
    assert "integrity ok, schema" in text
    assert "OK    fact base: 89 facts" in text
    assert "OK    bot api: getMe: @ties_test_bot (id 123456789)" in text
    assert "OK    digest channel: the bot is an administrator of @belarus_ties" in text
    assert TOKEN not in text
    assert [c.method for c in fake.calls] == ["getMe", "getChat", "getChatMember"]
    assert sidecars(database) == []


async def test_bad_token_format_is_a_settings_failure(database: Path, settings: Settings) -> None:
    bad = "12345:short-and-secret"
    checks = await run_doctor(settings, TELEGRAM_BOT_TOKEN=bad)
    [problem] = failures(checks, "configuration")
    assert problem.startswith("TELEGRAM_BOT_TOKEN: not a bot token")
    # The rest still runs: the database and fact base are checked with the named paths.
    assert [c.status for c in checks if c.name in ("database", "fact base")] == ["OK", "OK"]
    assert ("WARN", "bot api") in [(c.status, c.name) for c in checks]
    assert "short-and-secret" not in "\n".join(lines(checks))


async def test_several_bad_settings_each_get_a_line(settings: Settings) -> None:
    checks = await run_doctor(settings, LOG_LEVEL="LOUD", DIGEST_TIME="25:00")
    assert len(failures(checks, "configuration")) == 2
    assert ("WARN", "database") in [(c.status, c.name) for c in checks]  # not created yet


async def test_unreachable_api(database: Path, settings: Settings) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    checks = await run_doctor(settings, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=url)
    [problem] = failures(checks, "bot api")
    assert f"{url} unreachable" in problem
    assert TOKEN not in "\n".join(lines(checks))


async def test_rejected_token(database: Path, settings: Settings, fake: FakeBotApi) -> None:
    other = "987654321:AAF-a-token-the-server-does-not-know-1"
    checks = await run_doctor(settings, TELEGRAM_BOT_TOKEN=other, TELEGRAM_API_BASE_URL=fake.url)
    [problem] = failures(checks, "bot api")
    assert problem.startswith("token 987654321:*** rejected")
    assert other not in "\n".join(lines(checks))


async def test_bot_not_channel_admin(database: Path, settings: Settings, fake: FakeBotApi) -> None:
    fake.channel(CHANNEL_ID, "Belarus ties", bot_admin=False)
    checks = await run_doctor(
        settings,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.url,
        DIGEST_CHANNEL_ID=str(CHANNEL_ID),
    )
    [problem] = failures(checks, "digest channel")
    assert f"the bot is not an administrator of {CHANNEL_ID} (Belarus ties)" in problem
    assert "make the bot an administrator" in problem


async def test_channel_admin_without_the_right_to_post(
    database: Path, settings: Settings, fake: FakeBotApi
) -> None:
    chat = fake.channel(CHANNEL_ID, "Belarus ties", username="belarus_ties")
    fake.set_bot_admin(chat, True, can_post_messages=False)
    checks = await run_doctor(
        settings,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.url,
        DIGEST_CHANNEL_ID="@belarus_ties",
    )
    [problem] = failures(checks, "digest channel")
    assert "may not post messages" in problem


async def test_unknown_channel(database: Path, settings: Settings, fake: FakeBotApi) -> None:
    checks = await run_doctor(
        settings,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.url,
        DIGEST_CHANNEL_ID="@no_such_channel",
    )
    [problem] = failures(checks, "digest channel")
    assert "not found" in problem.lower()


def test_corrupt_database(settings: Settings) -> None:
    settings.database_path.parent.mkdir(parents=True)
    settings.database_path.write_bytes(os.urandom(16 * 1024))
    checks = asyncio.run(run_doctor(settings))
    [problem] = failures(checks, "database")
    assert "damaged or unreadable" in problem
    assert "tiesbot restore" in problem


async def test_invalid_fact_files(database: Path, settings: Settings, tmp_path: Path) -> None:
    broken = tmp_path / "knowledge"
    (broken / "facts").mkdir(parents=True)
    (broken / "sources.yaml").write_text("[]\n")
    (broken / "facts" / "iran.yaml").write_text("- id: Not A Slug\n  country: mars\n")
    checks = await run_doctor(settings, KNOWLEDGE_DIR=str(broken))
    [problem] = failures(checks, "fact base")
    assert "problem(s)" in problem
    assert "tiesbot knowledge check" in problem


async def test_running_bot_is_reported(database: Path, settings: Settings) -> None:
    with ops.hold_instance_lock(settings):
        ops.write_heartbeat(settings)
        checks = await run_doctor(settings)
    assert ("OK", "bot") in [(c.status, c.name) for c in checks]


async def test_doctor_command_in_a_subprocess(settings: Settings, fake: FakeBotApi) -> None:
    """The real command line: settings from the environment, one line per check, exit 1."""
    fake.channel(CHANNEL_ID, "Belarus ties", bot_admin=False)
    settings.database_path.parent.mkdir(parents=True)
    settings.database_path.write_bytes(os.urandom(16 * 1024))
    env = env_for(
        settings,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.url,
        DIGEST_CHANNEL_ID=str(CHANNEL_ID),
        LOG_LEVEL="DEBUG",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--env-file",
        "/nonexistent",
        "doctor",
        "--timeout",
        "5",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    stdout, stderr = out.decode(), err.decode()
    assert proc.returncode == 1, stdout + stderr
    assert TOKEN not in stdout + stderr
    output = stdout.splitlines()
    assert all(line.split("  ", 1)[0].strip() in ("OK", "WARN", "FAIL") for line in output)
    assert any(line.startswith("FAIL  database:") for line in output)
    assert any(line.startswith("FAIL  digest channel:") for line in output)
    assert any(line.startswith("OK    bot api:") for line in output)
