"""/start (with deep links: `/start fact_<id>` opens that fact) and /help.

Deep links let a channel post or a website point straight at one fact:
https://t.me/<bot>?start=fact_<id>.
"""

from __future__ import annotations

from telegram import Update

from bot.tg import render
from bot.tg.commands import command
from bot.tg.context import Context, TiesApp, ui_lang
from bot.tg.handlers import reply
from bot.tg.handlers.fact import show_fact
from bot.tg.render import Outgoing
from bot.tg.texts import texts

DEEP_LINK_PREFIX = "fact_"


async def start(update: Update, context: Context) -> None:
    """Greet the user, or open the fact a deep link names."""
    payload = (context.args or [""])[0]
    if payload.startswith(DEEP_LINK_PREFIX):
        await show_fact(update, context, payload[len(DEEP_LINK_PREFIX) :])
        return
    lang = await ui_lang(update, context)
    await reply(update, context, Outgoing(texts(lang).welcome))


async def show_help(update: Update, context: Context) -> None:
    """List the commands from the command table and explain how to ask."""
    lang = await ui_lang(update, context)
    await reply(update, context, Outgoing(render.help_text(lang, context.bot.username or "")))


def register(app: TiesApp) -> None:
    """Called once from bot/tg/app.py, where the order of all handlers is decided."""
    app.add_handler(command("start", start))
    app.add_handler(command("help", show_help))
