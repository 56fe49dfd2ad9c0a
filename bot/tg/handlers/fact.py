"""/fact ID: one fact with the article's own words under it."""

from __future__ import annotations

import html

from telegram import Update

from bot.tg import render
from bot.tg.commands import command
from bot.tg.context import Context, TiesApp, ui_lang
from bot.tg.handlers import reply
from bot.tg.render import Outgoing
from bot.tg.texts import texts


async def show_fact(update: Update, context: Context, fact_id: str) -> None:
    """Show a fact by id in the chat's language; shared by /fact and /start deep links."""
    lang = await ui_lang(update, context)
    wanted = fact_id.strip().lower()
    fact = context.bot_data.service.fact(wanted) if wanted else None
    if fact is None or fact.retired:
        text = texts(lang).fact_not_found.format(fact_id=html.escape(wanted[:64]))
        await reply(update, context, Outgoing(text))
        return
    await reply(update, context, *render.fact_view(context.bot_data.service, fact, lang))


async def fact(update: Update, context: Context) -> None:
    """/fact ID."""
    if not context.args:
        lang = await ui_lang(update, context)
        facts = context.bot_data.service.facts()
        example = facts[0].id if facts else "ir-visit-2023"
        await reply(update, context, Outgoing(texts(lang).fact_usage.format(example=example)))
        return
    await show_fact(update, context, context.args[0])


def register(app: TiesApp) -> None:
    """Called once from bot/tg/app.py, where the order of all handlers is decided."""
    app.add_handler(command("fact", fact))
