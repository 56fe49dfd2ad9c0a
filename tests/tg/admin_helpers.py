"""Helpers for the admin end-to-end tests: the admins, a database dump, a guided /add."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from bot.domain.models import Fact
from bot.tg.render import label
from bot.tg.texts import ADMIN
from tests.fakebot import FakeBotApi, FakeUser, StoredMessage
from tests.tg.conftest import ADMIN_ID, Harness

EDITOR_ID = 777_000_002
STRANGER_ID = 1001
FACT_ID = "ir-30th-anniversary"
SOURCE_ID = "mdc-2023-belarus-iran"
QUOTE = (
    "Symbolically, the visit was meant to mark the 30th anniversary of establishing official"
    " diplomatic relations between the two countries."
)
NEW_QUESTION = "What is the zebra partnership of Belarus and Iran?"
NOT_ALLOWED = ADMIN.not_allowed["en"]

Dump = dict[str, list[tuple[Any, ...]]]


def owner(fake: FakeBotApi) -> FakeUser:
    return fake.user(ADMIN_ID, "Olga", "en")


def editor(fake: FakeBotApi) -> FakeUser:
    return fake.user(EDITOR_ID, "Erik", "en")


def stranger(fake: FakeBotApi) -> FakeUser:
    return fake.user(STRANGER_ID, "Alice", "en")


def dump(path: Path | str) -> Dump:
    """Every table's rows, read by a separate connection as another process would."""
    with closing(sqlite3.connect(str(path))) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {n: conn.execute(f"SELECT * FROM {n} ORDER BY 1").fetchall() for n in names}


def texts_of(messages: list[StoredMessage]) -> str:
    return "\n".join(m.text or m.caption or "" for m in messages)


def last(bot: Harness, user: FakeUser) -> StoredMessage:
    message = bot.fake.last_message_to(user.id)
    assert message is not None
    return message


async def press(bot: Harness, user: FakeUser, text: str) -> list[StoredMessage]:
    """Press the button labelled `text` on the newest bot message that has it; return replies."""
    for message in reversed(bot.fake.messages_to(user.id)):
        if any(b.get("text") == text for b in message.buttons):
            before = len(bot.fake.messages_to(user.id))
            await bot.press_label(user, message, text)
            return bot.fake.messages_to(user.id)[before:]
    raise AssertionError(f"no button {text!r} in the chat")


def source_label(bot: Harness, source_id: str = SOURCE_ID) -> str:
    source = bot.service.sources[source_id]
    return label(f"{source.title} ({source.published[:4]})")


async def add_until_source(bot: Harness, user: FakeUser) -> None:
    """The guided /add up to the source step, with valid values."""
    await bot.say(user, "/add")
    await press(bot, user, "🇮🇷 Iran")
    await press(bot, user, "Economy")
    steps = [
        "2023-03",
        "The zebra partnership of Belarus and Iran is a test fact.",
        "Партнёрство «зебра» Беларуси и Ирана — тестовый факт.",
        f"{NEW_QUESTION}\nzebra partnership belarus iran\nTell me about the zebra partnership",
        "Что такое партнёрство «зебра»?\nзебра беларусь иран",
        "zebra, partnership, зебра",
    ]
    for text in steps:
        replies = await bot.say(user, text)
        assert "Not accepted" not in texts_of(replies), texts_of(replies)


async def add_fact(bot: Harness, user: FakeUser) -> Fact:
    """A whole guided /add with a known source and a verified quote; returns the saved fact."""
    await add_until_source(bot, user)
    await press(bot, user, source_label(bot))
    replies = await bot.say(user, QUOTE)
    assert "found in the article" in texts_of(replies)
    replies = await press(bot, user, ADMIN.button_preview)
    assert "Preview of" in texts_of(replies)
    replies = await press(bot, user, ADMIN.button_save)
    assert "Saved as" in texts_of(replies), texts_of(replies)
    new = [f for f in bot.service.facts() if f.keywords and f.keywords[0] == "zebra"]
    assert len(new) == 1
    return new[0]
