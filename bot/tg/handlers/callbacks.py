"""Answer buttons: did-you-mean choices, related facts, 📄 the article's words, and 👍/👎.

Every press is answered (Telegram shows a spinner until it is), and a button that no longer
makes sense (an old message, a fact retired since) gets a short notice instead of an error.
"""

from __future__ import annotations

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler

from bot.domain.models import Fact
from bot.tg import render
from bot.tg.context import Context, TiesApp, ui_lang
from bot.tg.render import Action, CallbackDataError, Outgoing
from bot.tg.texts import texts


async def press(update: Update, context: Context) -> None:
    """Dispatch a button press on an answer to what the button means."""
    query = update.callback_query
    if query is None:
        return
    try:
        action = render.parse(query.data or "")
    except CallbackDataError:
        await query.answer(texts(await ui_lang(update, context)).button_expired)
        return
    if action.kind == "f":
        await vote(update, context, query, action)
        return
    fact = render.resolve_ref(context.bot_data.service, action.ref)
    if fact is None:
        await query.answer(texts(action.lang).button_expired)
        return
    if action.kind == "d":
        await pick(context, query, action, fact)
    elif action.kind == "r":
        await show(context, query, action, fact)
    elif action.kind == "e":
        await quote(context, query, action, fact)
    await query.answer()


async def pick(context: Context, query: CallbackQuery, action: Action, fact: Fact) -> None:
    """A did-you-mean choice: the question's message becomes that fact's answer."""
    out = render.answer(context.bot_data.service, fact, action.lang, query_id=action.query_id)
    await _edit(query, out)


async def show(context: Context, query: CallbackQuery, action: Action, fact: Fact) -> None:
    """A related or browsed fact: its answer as a new message, keeping the one pressed."""
    message = query.message
    if not isinstance(message, Message):
        return
    out = render.answer(context.bot_data.service, fact, action.lang)
    await context.bot.send_message(message.chat.id, out.text, reply_markup=out.markup)


async def quote(context: Context, query: CallbackQuery, action: Action, fact: Fact) -> None:
    """📄: put the article's own words under the answer, in place when they fit."""
    service = context.bot_data.service
    message = query.message
    if not isinstance(message, Message):
        # An inline message: the bot may not be in that chat, so editing is the only way.
        out = render.answer(service, fact, action.lang, inline=True, with_evidence=True)
        if render.visible_length(out.text) > render.MAX_TEXT:
            out = Outgoing(render.evidence_text(service, fact, action.lang))
        await _edit(query, out)
        return
    markup = render.without_button(message.reply_markup, query.data or "")
    text = service.render(fact, action.lang, "html") + "\n\n"
    text += render.evidence_text(service, fact, action.lang)
    if render.visible_length(text) <= render.MAX_TEXT:
        await _edit(query, Outgoing(text, markup))
        return
    for chunk in render.split_blocks(
        render.evidence_text(service, fact, action.lang).split("\n\n")
    ):
        await message.reply_text(chunk, do_quote=True)


async def vote(update: Update, context: Context, query: CallbackQuery, action: Action) -> None:
    """👍/👎: stored with the logged question; the buttons go so one vote is one vote."""
    data = context.bot_data
    stored = await data.service.store.set_feedback(action.query_id, action.vote)
    t = texts(await ui_lang(update, context))
    if not stored:
        await query.answer(t.feedback_expired)
        return
    message = query.message
    if isinstance(message, Message):
        markup = message.reply_markup
        for value in (1, -1):
            markup = render.without_button(markup, render.vote_data(action.query_id, value))
        await query.edit_message_reply_markup(markup)
    await query.answer(t.feedback_thanks)


async def _edit(query: CallbackQuery, out: Outgoing) -> None:
    try:
        await query.edit_message_text(out.text, reply_markup=out.markup)
    except BadRequest as exc:
        if "not modified" not in exc.message:
            raise


def register(app: TiesApp) -> None:
    """Called once from bot/tg/app.py, where the order of all handlers is decided."""
    app.add_handler(CallbackQueryHandler(press, pattern=r"^[dref]:"))
