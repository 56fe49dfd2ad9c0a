"""/sources: the articles behind every answer, with outlet, date and address."""

from __future__ import annotations

from telegram import Update

from bot.tg import render
from bot.tg.commands import command
from bot.tg.context import Context, TiesApp, ui_lang
from bot.tg.handlers import reply
from bot.tg.render import Outgoing


async def sources(update: Update, context: Context) -> None:
    """List the source articles, so a reader can check any answer at its origin."""
    lang = await ui_lang(update, context)
    chunks = render.sources_list(context.bot_data.service, lang)
    await reply(update, context, *(Outgoing(chunk) for chunk in chunks))


def register(app: TiesApp) -> None:
    """Called once from bot/tg/app.py, where the order of all handlers is decided."""
    app.add_handler(command("sources", sources))
