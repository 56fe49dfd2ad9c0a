"""DIGEST_CHANNEL_ID at start-up: a channel the bot may not post in is a warning in the log and
a message to the admins, not a silent gap; a channel set up right says nothing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.fakebot import FakeBotApi
from tests.tg.digest_helpers import (
    CHANNEL_ID,
    CHANNEL_NAME,
    admin_texts,
    digest_bot,
    digest_settings,
    make_channel,
    owner,
)


async def test_a_channel_set_up_right_is_not_reported(
    fake: FakeBotApi, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    owner(fake)
    make_channel(fake)
    async with digest_bot(fake, digest_settings(fake, database)) as bot:
        assert bot.app.bot_data.digest.channel_id == CHANNEL_ID
    member_calls = fake.calls_to("getChatMember")
    assert [(c.params["chat_id"], c.params["user_id"]) for c in member_calls] == [
        (CHANNEL_ID, fake.bot_id)
    ]
    assert admin_texts(fake) == ""
    assert not [r for r in caplog.records if "digest channel" in r.getMessage()]


@pytest.mark.parametrize(
    ("setup", "problem"),
    [
        ("not admin", "the bot is not an administrator there (status: left)"),
        ("no post right", "the bot is an administrator but may not post messages"),
        ("missing", "Chat not found"),
    ],
)
async def test_a_channel_the_bot_cannot_post_in_is_reported_at_start_up(
    fake: FakeBotApi,
    database: Path,
    caplog: pytest.LogCaptureFixture,
    setup: str,
    problem: str,
) -> None:
    owner(fake)
    if setup == "not admin":
        make_channel(fake, bot_admin=False)
    elif setup == "no post right":
        channel = make_channel(fake)
        fake.set_bot_admin(channel, can_post_messages=False)
    caplog.set_level(logging.WARNING, logger="bot.tg.digest_job")
    async with digest_bot(fake, digest_settings(fake, database)):
        pass
    report = admin_texts(fake)
    assert f"Digest channel @{CHANNEL_NAME}: {problem}." in report
    assert "administrator of the channel with the right to post messages" in report
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any(problem in r.getMessage() for r in warnings)
