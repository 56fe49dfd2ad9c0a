"""/lang en|ru: the language the bot answers in for this chat, kept in the `chats` table.

Without a choice, answers follow each question's language and menus the user's app language.
In groups only administrators may choose, since the choice applies to everyone there.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatMemberStatus

from bot.tg.commands import command
from bot.tg.context import LANG_CODES, Context, TiesApp, chat_lang, set_chat_lang, ui_lang
from bot.tg.handlers import reply
from bot.tg.render import Outgoing
from bot.tg.texts import LANG_NAMES, texts


async def change_lang(update: Update, context: Context) -> None:
    """Set the chat's answer language, or say what it is and how to change it."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None or user is None or message is None:
        return
    wanted = (context.args or [""])[0].lower()
    if wanted not in LANG_CODES:
        lang = await ui_lang(update, context)
        current = await chat_lang(context.bot_data, chat.id)
        name = LANG_NAMES[current] if current else "auto"
        await reply(update, context, Outgoing(texts(lang).lang_usage.format(current=name)))
        return
    if chat.type != "private" and not await is_group_admin(update, context):
        lang = await ui_lang(update, context)
        await reply(update, context, Outgoing(texts(lang).lang_admins_only))
        return
    await set_chat_lang(context.bot_data, chat.id, chat.type, wanted)
    await reply(update, context, Outgoing(texts(wanted).lang_set))


async def is_group_admin(update: Update, context: Context) -> bool:
    """Whether the sender administers the chat (what a choice for the whole group needs)."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None or user is None or message is None:
        return False
    if message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True  # an anonymous administrator writes as the group itself
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


def register(app: TiesApp) -> None:
    """Called once from bot/tg/app.py, where the order of all handlers is decided."""
    app.add_handler(command("lang", change_lang))
