"""The one command table (bot/tg/commands.py) agrees with the handlers, /help and the menu."""

from __future__ import annotations

import re
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler, TypeHandler

from bot.tg.commands import ADMIN_COMMANDS, COMMANDS
from bot.tg.texts import EN, RU
from tests.fakebot import FakeBotApi, FakeUser
from tests.tg.conftest import Harness


def command_handlers(bot: Harness) -> list[CommandHandler[Any, Any]]:
    """Every CommandHandler, including those that open or run a conversation."""
    found: list[CommandHandler[Any, Any]] = []
    pending: list[BaseHandler[Any, Any, Any]] = [
        h for handlers in bot.app.handlers.values() for h in handlers
    ]
    while pending:
        handler = pending.pop()
        if isinstance(handler, CommandHandler):
            found.append(handler)
        elif isinstance(handler, ConversationHandler):
            pending += handler.entry_points + handler.fallbacks
            pending += [h for step in handler.states.values() for h in step]
    return found


async def test_command_table_agrees_with_handlers_help_and_the_menu(
    bot: Harness, fake: FakeBotApi, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, boris = users
    registered = {name for handler in command_handlers(bot) for name in handler.commands}
    assert not set(COMMANDS) & set(ADMIN_COMMANDS)
    assert registered == set(COMMANDS) | set(ADMIN_COMMANDS)
    for lang, table in (("", EN), ("ru", RU)):
        menu = fake.commands_for(None, lang)
        assert [c["command"] for c in menu] == list(COMMANDS), "admin commands stay off the menu"
        assert [c["description"] for c in menu] == [table.commands[n] for n in COMMANDS]
    for user, table in ((alice, EN), (boris, RU)):
        help_text = (await bot.ask(user, "/help")).text or ""
        listed = re.findall(r"^/(\w+) — (.+)$", help_text, re.M)
        assert listed == [(n, table.commands[n]) for n in COMMANDS]


async def test_no_command_answers_an_edited_message(bot: Harness) -> None:
    for handler in command_handlers(bot):
        assert "UpdateType.MESSAGE" in repr(handler.filters), handler.commands


async def test_every_update_is_named_in_the_log_lines_of_its_handling(
    bot: Harness, fake: FakeBotApi, users: tuple[FakeUser, FakeUser]
) -> None:
    from bot.logs import current_update

    seen: list[int | None] = []

    async def record(update: Update, context: Any) -> None:
        seen.append(current_update.get())

    bot.app.add_handler(TypeHandler(Update, record), group=999)
    alice, _ = users
    sent = await fake.send_text(alice, "When did Lukashenka visit Iran?")
    await fake.wait_for(lambda: seen)
    assert seen == [sent.update_id]
