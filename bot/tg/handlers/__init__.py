"""One module per use case, each with `register(app)`; bot/tg/app.py calls them in order."""

from __future__ import annotations

from telegram import Message, Update

from bot.tg.context import Context
from bot.tg.render import Outgoing


async def reply(update: Update, context: Context, *messages: Outgoing) -> Message | None:
    """Send messages in answer to an update: quoting in groups, plainly in private chats.

    Returns the last message sent, so a caller can keep answering in the same thread.
    """
    chat = update.effective_chat
    incoming = update.effective_message
    if chat is None:
        return None
    sent: Message | None = None
    for i, out in enumerate(messages):
        if i == 0 and incoming is not None and chat.type != "private":
            sent = await incoming.reply_text(out.text, reply_markup=out.markup)
        else:
            sent = await context.bot.send_message(chat.id, out.text, reply_markup=out.markup)
    return sent
