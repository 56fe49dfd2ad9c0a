"""Questions: any text in a private chat; in groups /ask, a mention of the bot or a reply to it.

Groups get only what is addressed to the bot, which also works with BotFather's privacy mode
on. Edited messages are ignored everywhere: answering an edit would post a second answer far
from the question. Each question is logged (without who asked) so 👍/👎 can be attached to it
and unanswered questions show up for the editors.
"""

from __future__ import annotations

from telegram import MessageEntity, Update
from telegram.ext import MessageHandler, filters

from bot.domain.matcher import QUESTION_LIMIT
from bot.tg import render
from bot.tg.commands import NEW_MESSAGES, command
from bot.tg.context import Context, TiesApp, answer_lang, ui_lang
from bot.tg.handlers import reply
from bot.tg.render import Outgoing
from bot.tg.texts import texts


async def respond(update: Update, context: Context, question: str) -> None:
    """Answer, suggest or decline one question, within the user's flood allowance."""
    user = update.effective_user
    if user is None:
        return
    data = context.bot_data
    verdict = data.flood.check(user.id)
    if verdict == "silent":
        return
    if verdict == "notice":
        lang = await ui_lang(update, context)
        await reply(update, context, Outgoing(texts(lang).flood_notice))
        return
    service = data.service
    result = service.ask(question)
    match = result.match
    lang = await answer_lang(update, context, match.lang)
    query_id = await service.store.log_query(
        question[:QUESTION_LIMIT],
        match.lang,
        result.outcome,
        result.fact.id if result.fact else None,
        match.score,
    )
    if result.fact is not None:
        out = render.answer(service, result.fact, lang, query_id=query_id)
    elif result.suggestions:
        out = render.suggestions(result, lang, query_id)
    else:
        out = render.decline(lang)
    await reply(update, context, out)


async def ask_private(update: Update, context: Context) -> None:
    """Any text in a private chat is a question."""
    message = update.effective_message
    if message is None or not message.text:
        return
    if message.via_bot is not None and message.via_bot.id == context.bot.id:
        return  # an answer the user shared from inline mode, not a question
    await respond(update, context, message.text)


async def ask_command(update: Update, context: Context) -> None:
    """/ask QUESTION, the way to ask in a group."""
    question = " ".join(context.args or [])
    if not question.strip():
        lang = await ui_lang(update, context)
        await reply(update, context, Outgoing(texts(lang).ask_usage))
        return
    await respond(update, context, question)


async def ask_in_group(update: Update, context: Context) -> None:
    """A group message that mentions the bot or replies to it; anything else is chatter."""
    message = update.effective_message
    if message is None or not message.text:
        return
    bot_id, username = context.bot.id, (context.bot.username or "").lower()
    replied = message.reply_to_message
    to_bot = (
        replied is not None and replied.from_user is not None and replied.from_user.id == bot_id
    )
    text = message.text
    mentioned = False
    for fragment in message.parse_entities([MessageEntity.MENTION]).values():
        if fragment[1:].lower() == username:
            mentioned = True
            text = text.replace(fragment, " ")
    if not (to_bot or mentioned):
        return
    if not text.strip():
        lang = await ui_lang(update, context)
        await reply(update, context, Outgoing(texts(lang).ask_usage))
        return
    await respond(update, context, " ".join(text.split()))


def register(app: TiesApp) -> None:
    """Called once from bot/tg/app.py, where the order of all handlers is decided."""
    app.add_handler(command("ask", ask_command))
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND & NEW_MESSAGES,
            ask_private,
        )
    )
    app.add_handler(
        MessageHandler(
            filters.ChatType.GROUPS
            & filters.TEXT
            & ~filters.COMMAND
            & NEW_MESSAGES
            & (filters.Entity(MessageEntity.MENTION) | filters.REPLY),
            ask_in_group,
        )
    )
