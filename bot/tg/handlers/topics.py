"""/topics: browse the fact base, countries → topics → facts, with buttons and paging.

Browsing edits one message in place, so a long browse does not flood the chat; tapping a
fact sends its answer as a new message (see callbacks.py), leaving the menu where it is.
"""

from __future__ import annotations

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler

from bot.tg import render
from bot.tg.commands import command
from bot.tg.context import Context, TiesApp, ui_lang
from bot.tg.handlers import reply
from bot.tg.render import CallbackDataError
from bot.tg.texts import texts


async def topics(update: Update, context: Context) -> None:
    """Start browsing at the list of countries."""
    lang = await ui_lang(update, context)
    await reply(update, context, render.countries(context.bot_data.service, lang))


async def browse(update: Update, context: Context) -> None:
    """A press on a browsing button: show the level it points to in the same message."""
    query = update.callback_query
    if query is None:
        return
    lang = await ui_lang(update, context)
    try:
        action = render.parse(query.data or "")
    except CallbackDataError:
        await query.answer(texts(lang).button_expired)
        return
    service = context.bot_data.service
    if not action.country:
        out = render.countries(service, lang)
    elif not action.topic:
        out = render.topics(service, action.country, lang)
    else:
        out = render.topic_page(service, action.country, action.topic, action.page, lang)
    try:
        await query.edit_message_text(out.text, reply_markup=out.markup)
    except BadRequest as exc:
        if "not modified" not in exc.message:
            raise
    await query.answer()


def register(app: TiesApp) -> None:
    """Called once from bot/tg/app.py, where the order of all handlers is decided."""
    app.add_handler(command("topics", topics))
    app.add_handler(CallbackQueryHandler(browse, pattern=r"^t(:|$)"))
