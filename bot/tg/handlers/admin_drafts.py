"""The admins' guided conversations (/add, /edit, /import) as one ConversationHandler.

One handler, so starting one conversation replaces any other under way (`allow_reentry`)
and an admin's typing always goes to the step they are at. `/cancel` works at every step; a
conversation left alone for ADMIN_DRAFT_MINUTES lapses (PTB's `conversation_timeout`, run by
the JobQueue) and, like /cancel, saves nothing: nothing is written before the final button.

Must be registered before the question handlers, or an admin's answer to a step would be
taken for a question.
"""

from __future__ import annotations

import warnings

from telegram import Update
from telegram.ext import (
    BaseHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.tg.admin import END, allowed, say, session
from bot.tg.commands import NEW_MESSAGES, admin_command
from bot.tg.context import Context, TiesApp
from bot.tg.handlers import admin_add, admin_edit, admin_import, admin_missed
from bot.tg.render import Outgoing
from bot.tg.texts import ADMIN


async def cancel(update: Update, context: Context) -> object:
    """/cancel inside a conversation: drop the draft, write nothing."""
    if await allowed(update, context) is None:
        return END
    session(context).end()
    await say(update, context, Outgoing(ADMIN.cancelled))
    return END


async def wrong_input(update: Update, context: Context) -> object:
    """A photo, sticker or the like where a step wants text or a file."""
    if await allowed(update, context) is None:
        return END
    await say(update, context, Outgoing(ADMIN.wrong_input))
    return None


async def timed_out(update: object, context: Context) -> None:
    """The conversation lapsed: say so; nothing was saved, so there is nothing to undo."""
    if context.user_data is not None:
        session(context).end()
    if isinstance(update, Update) and update.effective_chat is not None:
        minutes = round(context.bot_data.settings.admin_timeout / 60) or 1
        await context.bot.send_message(
            update.effective_chat.id, ADMIN.timed_out.format(minutes=minutes)
        )


def conversation(timeout: float) -> ConversationHandler[Context]:
    """The one ConversationHandler for /add, /edit and /import."""
    entry: list[BaseHandler[Update, Context, object]] = [
        *admin_add.entry_points(),
        *admin_edit.entry_points(),
        *admin_import.entry_points(),
        *admin_missed.draft_entry_points(),
    ]
    states: dict[object, list[BaseHandler[Update, Context, object]]] = {
        **admin_add.states(),
        **admin_edit.states(),
        **admin_import.states(),
        ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
    }
    fallbacks: list[BaseHandler[Update, Context, object]] = [
        admin_command("cancel", cancel),
        MessageHandler(~filters.COMMAND & NEW_MESSAGES, wrong_input),
    ]
    with warnings.catch_warnings():
        # Buttons are tracked per chat and user on purpose (the steps mix typing and buttons);
        # stale buttons are told apart by the conversation token they carry instead.
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        return ConversationHandler(
            entry_points=entry,
            states=states,
            fallbacks=fallbacks,
            allow_reentry=True,
            conversation_timeout=timeout,
            name="admin",
        )


async def nothing_to_cancel(update: Update, context: Context) -> None:
    """/cancel with no conversation under way."""
    if await allowed(update, context) is not None:
        await say(update, context, Outgoing(ADMIN.nothing_to_cancel))


def register(app: TiesApp) -> None:
    """Register the conversations (before the question handlers)."""
    app.add_handler(conversation(app.bot_data.settings.admin_timeout))
    app.add_handler(admin_command("cancel", nothing_to_cancel))
