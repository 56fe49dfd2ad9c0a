"""`tiesbot health` is what Docker restarts the bot on, so both of its answers must be right."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path

import pytest

from bot import ops
from bot.__main__ import main
from bot.settings import Settings

from .conftest import make_database, sidecars


def test_no_database_is_unhealthy(settings: Settings) -> None:
    ok, line = ops.check_health(settings)
    assert not ok
    assert "no database" in line


def test_missing_heartbeat_is_unhealthy(database: Path, settings: Settings) -> None:
    ok, line = ops.check_health(settings)
    assert not ok
    assert "no heartbeat" in line


def test_stale_heartbeat_is_unhealthy(database: Path, settings: Settings) -> None:
    ops.write_heartbeat(settings, at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=300))
    ok, line = ops.check_health(settings)
    assert not ok
    assert "heartbeat is 300 s old" in line
    assert "\n" not in line


def test_fresh_heartbeat_is_healthy(database: Path, settings: Settings) -> None:
    ops.write_heartbeat(settings, at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=100))
    assert ops.check_health(settings)[0]
    ops.write_heartbeat(settings)
    ok, line = ops.check_health(settings)
    assert ok, line
    # Reading must not leave -wal/-shm files behind (they would belong to whoever ran it).
    assert sidecars(database) == []
    assert ops.heartbeat_path(settings).read_text().strip().endswith("+00:00")


def test_garbage_heartbeat_is_unhealthy(database: Path, settings: Settings) -> None:
    ops.heartbeat_path(settings).write_text("yesterday\n")
    ok, line = ops.check_health(settings)
    assert not ok
    assert "does not hold a timestamp" in line


def test_damaged_database_is_unhealthy_even_with_a_heartbeat(settings: Settings) -> None:
    settings.database_path.parent.mkdir(parents=True)
    settings.database_path.write_bytes(os.urandom(8192))
    ops.write_heartbeat(settings)
    ok, line = ops.check_health(settings)
    assert not ok
    assert "does not open" in line


def test_health_command_exit_codes(cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(make_database(cli_env.database_path))
    assert main(["--env-file", "/nonexistent", "health"]) == 1
    assert "no heartbeat" in capsys.readouterr().err
    ops.write_heartbeat(cli_env)
    assert main(["--env-file", "/nonexistent", "health"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok:")
    assert out.count("\n") == 1
