"""Inline mode: `@bot question` in any chat offers up to ten facts, each a sourced answer.

Inline queries arrive on every keystroke, so they are neither logged nor flood-counted, and
Telegram caches the results for a minute. Each result carries the article link and the 📄
button, which edits the sent message in place (the bot may not be a member of that chat).
"""

from __future__ import annotations

from telegram import InlineQueryResultArticle, InputTextMessageContent, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import InlineQueryHandler

from bot.domain.normalize import language_of
from bot.tg import render
from bot.tg.context import Context, TiesApp

MAX_RESULTS = 10
CACHE_SECONDS = 60


async def offer(update: Update, context: Context) -> None:
    """Answer an inline query with the best-matching facts."""
    query = update.inline_query
    if query is None:
        return
    text = query.query.strip()
    if not text:
        await query.answer([], cache_time=CACHE_SECONDS)
        return
    lang = language_of(text)
    service = context.bot_data.service
    results = []
    for fact in service.search(text, limit=MAX_RESULTS)[:MAX_RESULTS]:
        out = render.answer(service, fact, lang, inline=True)
        results.append(
            InlineQueryResultArticle(
                id=render.fact_ref(fact.id),
                title=render.inline_title(fact, lang),
                description=render.label(fact.answer_in(lang), 120),
                input_message_content=InputTextMessageContent(
                    out.text,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                ),
                reply_markup=out.markup,
            )
        )
    await query.answer(results, cache_time=CACHE_SECONDS)


def register(app: TiesApp) -> None:
    """Called once from bot/tg/app.py, where the order of all handlers is decided."""
    app.add_handler(InlineQueryHandler(offer))
