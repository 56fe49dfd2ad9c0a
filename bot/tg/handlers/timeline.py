"""/timeline [azerbaijan|iran]: the dated events of the fact base, oldest first."""

from __future__ import annotations

from telegram import Update

from bot.tg import render
from bot.tg.commands import command
from bot.tg.context import Context, TiesApp, ui_lang
from bot.tg.handlers import reply
from bot.tg.render import Outgoing
from bot.tg.texts import texts

# People type the country in either language.
COUNTRY_NAMES = {
    "azerbaijan": "azerbaijan",
    "азербайджан": "azerbaijan",
    "iran": "iran",
    "иран": "iran",
}


async def timeline(update: Update, context: Context) -> None:
    """Show all timeline facts, or one country's, in date order."""
    lang = await ui_lang(update, context)
    args = [a.lower() for a in context.args or []]
    country: str | None = None
    if args:
        country = COUNTRY_NAMES.get(args[0])
        if country is None or len(args) > 1:
            await reply(update, context, Outgoing(texts(lang).timeline_usage))
            return
    chunks = render.timeline(context.bot_data.service, country, lang)
    await reply(update, context, *(Outgoing(chunk) for chunk in chunks))


def register(app: TiesApp) -> None:
    """Called once from bot/tg/app.py, where the order of all handlers is decided."""
    app.add_handler(command("timeline", timeline))
