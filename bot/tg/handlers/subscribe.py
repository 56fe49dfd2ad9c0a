"""/subscribe and /unsubscribe: the weekly digest for this chat.

A private chat decides for itself. A group gets the digest only when one of its
administrators asks (an anonymous administrator writes as the group itself), since every
member will read it; anyone else gets a polite refusal and nothing changes. The edition
follows the chat's /lang (English when it never chose), looked up at each broadcast, so a
later /lang applies to the next digest. When a group becomes a supergroup (a new chat id),
its subscription and language move with it.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import MessageHandler, filters

from bot.tg.commands import command
from bot.tg.context import Context, TiesApp, chat_lang, ui_lang
from bot.tg.handlers import reply
from bot.tg.handlers.lang import is_group_admin
from bot.tg.render import Outgoing
from bot.tg.texts import LANG_NAMES, Texts, texts


async def subscribe(update: Update, context: Context) -> None:
    """Start the digest here (in a group: administrators only)."""
    chat = update.effective_chat
    if chat is None or not await _may_decide(update, context):
        return
    t = texts(await ui_lang(update, context))
    store = context.bot_data.service.store
    added = await store.subscribe(
        chat.id, "private" if chat.type == ChatType.PRIVATE else chat.type
    )
    edition = await chat_lang(context.bot_data, chat.id) or "en"
    template = t.subscribed if added else t.already_subscribed
    await reply(
        update, context, Outgoing(template.format(**_when(t, context), lang=LANG_NAMES[edition]))
    )


async def unsubscribe(update: Update, context: Context) -> None:
    """Stop the digest here (in a group: administrators only)."""
    chat = update.effective_chat
    if chat is None or not await _may_decide(update, context):
        return
    t = texts(await ui_lang(update, context))
    removed = await context.bot_data.service.store.unsubscribe(chat.id)
    await reply(update, context, Outgoing(t.unsubscribed if removed else t.not_subscribed))


async def _may_decide(update: Update, context: Context) -> bool:
    """A private chat, or a group's administrator; everyone else is told why not."""
    chat = update.effective_chat
    if chat is None:
        return False
    if chat.type == ChatType.PRIVATE or await is_group_admin(update, context):
        return True
    t = texts(await ui_lang(update, context))
    await reply(update, context, Outgoing(t.subscribe_admins_only))
    return False


def _when(t: Texts, context: Context) -> dict[str, str]:
    settings = context.bot_data.settings
    hour, minute = settings.digest_time
    return {
        "weekday": t.weekdays[settings.digest_weekday],
        "time": f"{hour:02d}:{minute:02d}",
        "zone": settings.digest_tz,
    }


async def migrated(update: Update, context: Context) -> None:
    """The old group's service message: the one update that names both chat ids."""
    message = update.effective_message
    if message is None or message.migrate_to_chat_id is None:
        return
    await context.bot_data.service.store.move_chat(message.chat_id, message.migrate_to_chat_id)


def register(app: TiesApp) -> None:
    """Called once from bot/tg/app.py, where the order of all handlers is decided."""
    app.add_handler(command("subscribe", subscribe))
    app.add_handler(command("unsubscribe", unsubscribe))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, migrated))
