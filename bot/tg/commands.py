"""The one command table: handler registration, /help and the command menu all read it.

A command added here shows up in /help and in Telegram's menu in both languages, and a
handler can only be registered under a name listed here, so the three never drift apart
(tests/tg/test_commands.py checks that they agree).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import CommandHandler, filters

from bot.tg.context import Context
from bot.tg.texts import LANGS, texts

# Order is the order of /help and of the menu.
COMMANDS: tuple[str, ...] = (
    "start",
    "help",
    "ask",
    "topics",
    "sources",
    "fact",
    "timeline",
    "lang",
    "subscribe",
    "unsubscribe",
)

# Admin commands (owners and editors, private chat only) stay out of /help and the public menu;
# /admin lists them for admins. bot/tg/handlers/admin_*.py registers them.
ADMIN_COMMANDS: tuple[str, ...] = (
    "admin",
    "add",
    "edit",
    "delete",
    "restore",
    "history",
    "undo",
    "find",
    "unanswered",
    "stats",
    "export",
    "import",
    "admins",
    "digest",
    "cancel",
)

# Edited messages never trigger anything: re-answering an edited question would post a
# second answer out of place in the chat.
NEW_MESSAGES = filters.UpdateType.MESSAGE

Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]


def command(name: str, callback: Callback) -> CommandHandler[Context, None]:
    """A handler for a command of the table, for new messages only (no edits, no channels)."""
    if name not in COMMANDS:
        raise KeyError(f"/{name} is not in the command table (bot/tg/commands.py)")
    return CommandHandler(name, callback, filters=NEW_MESSAGES)


def admin_command(
    name: str, callback: Callable[[Update, Context], Coroutine[Any, Any, Any]]
) -> CommandHandler[Context, Any]:
    """A handler for an admin command; like `command`, new messages only. The callback checks
    the role and the chat itself, so everyone else is told "not allowed"."""
    if name not in ADMIN_COMMANDS:
        raise KeyError(f"/{name} is not in the admin command table (bot/tg/commands.py)")
    return CommandHandler(name, callback, filters=NEW_MESSAGES)


def bot_commands(lang: str) -> list[BotCommand]:
    """The command menu for one language, as set_my_commands takes it."""
    table = texts(lang).commands
    return [BotCommand(name, table[name]) for name in COMMANDS]


def help_lines(lang: str) -> list[str]:
    """One `/command — description` line per table entry, for /help."""
    table = texts(lang).commands
    return [f"/{name} — {table[name]}" for name in COMMANDS]


def _check_table() -> None:
    for lang, table in LANGS.items():
        missing = set(COMMANDS) ^ set(table.commands)
        if missing:
            raise RuntimeError(f"texts.{lang.upper()}.commands disagrees on {sorted(missing)}")


_check_table()
