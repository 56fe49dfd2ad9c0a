"""/unanswered: what people asked that the bot could not answer, and what to do about each.

The last week's most frequent declined and "did you mean" questions (ignored ones left out),
each with buttons: add it as a phrasing of the fact the matcher ranks first, draft a new fact
with it (starts /add with the question filled in), or ignore it. Owners can opt in to a daily
summary (`/unanswered daily on|off`), sent by a JobQueue job at DIGEST_TIME.
"""

from __future__ import annotations

import datetime as dt
import html
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.admin import NotAllowed, NotFound
from bot.domain.curation import Missed
from bot.tg import admin_render
from bot.tg.admin import (
    END,
    Pending,
    admin_service,
    allowed,
    parse_action,
    say,
    session,
)
from bot.tg.commands import admin_command
from bot.tg.context import Context, TiesApp
from bot.tg.handlers.admin_add import start_draft
from bot.tg.render import Outgoing, keyboard
from bot.tg.texts import ADMIN

log = logging.getLogger(__name__)
KIND = "uq"
LIMIT = 10
DAILY_JOB = "admin-daily-unanswered"


async def unanswered(update: Update, context: Context) -> None:
    """/unanswered, or /unanswered daily on|off (owners)."""
    args = [a.lower() for a in context.args or []]
    if args and args[0] == "daily":
        await _daily_setting(update, context, args[1:])
        return
    user_id = await allowed(update, context)
    if user_id is None:
        return
    admin = admin_service(context)
    items = await admin.missed(user_id, dt.datetime.now(dt.UTC), LIMIT)
    current = session(context)
    tokens = {}
    candidates = {}
    for item in items:
        candidate = admin.best_candidate(item.question)
        candidates[item.key] = candidate
        tokens[item.key] = current.remember(
            Pending(KIND, candidate.id if candidate else "", 0, item.question, item.lang)
        )
    await say(update, context, admin_render.missed(items, candidates, tokens))


async def _daily_setting(update: Update, context: Context, args: list[str]) -> None:
    user_id = await allowed(update, context, owner=True)
    if user_id is None:
        return
    if args not in (["on"], ["off"]):
        await say(update, context, Outgoing(ADMIN.daily_usage))
        return
    on = args[0] == "on"
    await admin_service(context).set_daily(user_id, on)
    await say(update, context, Outgoing(ADMIN.daily_on if on else ADMIN.daily_off))


async def press(update: Update, context: Context) -> None:
    """ "Add as a phrasing" (p) and "ignore" (i); "draft a new fact" (n) starts /add instead."""
    user_id = await allowed(update, context)
    if user_id is None:
        return
    query = update.callback_query
    assert query is not None
    parsed = parse_action(query.data)
    pending = session(context).pending.get(parsed[1]) if parsed else None
    if parsed is None or pending is None or pending.kind != KIND:
        await query.answer(ADMIN.expired)
        return
    admin = admin_service(context)
    _, token, choice = parsed
    if choice == "i":
        await admin.ignore(user_id, pending.question)
        text = ADMIN.ignored.format(question=html.escape(pending.question))
    elif choice == "p" and pending.fact_id:
        try:
            stored = await admin.add_phrasing(
                user_id, pending.fact_id, pending.question, pending.lang
            )
        except (NotFound, NotAllowed):
            await query.answer(ADMIN.expired)
            return
        fact_id = html.escape(pending.fact_id)
        if stored is None:
            text = ADMIN.phrasing_had.format(fact_id=fact_id)
        else:
            text = ADMIN.phrasing_added.format(
                question=html.escape(pending.question), fact_id=fact_id, version=stored.version
            )
    else:
        await query.answer(ADMIN.expired)
        return
    session(context).pending.pop(token, None)
    await query.answer()
    await _drop_row(update, token)
    await say(update, context, Outgoing(text))


async def _drop_row(update: Update, token: str) -> None:
    """Remove the handled question's buttons from the list."""
    query = update.callback_query
    message = query.message if query is not None else None
    if query is None or message is None or not hasattr(message, "reply_markup"):
        return
    markup = message.reply_markup
    if markup is None:
        return
    rows = [
        [b for b in row if not (b.callback_data or "").startswith(f"adm:{KIND}:{token}:")]
        for row in markup.inline_keyboard
    ]
    try:
        await query.edit_message_reply_markup(keyboard(rows))
    except TelegramError as exc:
        log.info("could not update the unanswered list: %s", exc)


async def draft(update: Update, context: Context) -> object:
    """ "Draft a new fact": /add with the question as its first phrasing."""
    user_id = await allowed(update, context)
    if user_id is None:
        return END
    query = update.callback_query
    assert query is not None
    parsed = parse_action(query.data)
    pending = session(context).pending.get(parsed[1]) if parsed else None
    if parsed is None or pending is None or pending.kind != KIND:
        await query.answer(ADMIN.expired)
        return None
    await query.answer()
    return await start_draft(update, context, pending.question, pending.lang)


def draft_entry_points() -> list[BaseHandler[Update, Context, object]]:
    """The "draft a new fact" button, an entry point of the /add conversation."""
    return [CallbackQueryHandler(draft, pattern=rf"^adm:{KIND}:[0-9a-f]+:n$")]


async def daily(context: Context) -> None:
    """The JobQueue job: each opted-in owner gets the list, when there is one."""
    admin = admin_service(context)
    now = dt.datetime.now(dt.UTC)
    for owner in await admin.daily_recipients():
        items: list[Missed] = await admin.missed(owner, now, LIMIT)
        if not items:
            continue
        try:
            await context.bot.send_message(owner, admin_render.missed_summary(items))
        except TelegramError as exc:
            log.warning("daily unanswered summary to %s failed: %s", owner, exc)


def register(app: TiesApp) -> None:
    """The command, its buttons and the daily job."""
    app.add_handler(admin_command("unanswered", unanswered))
    app.add_handler(CallbackQueryHandler(press, pattern=rf"^adm:{KIND}:[0-9a-f]+:[pi]$"))
    settings = app.bot_data.settings
    hour, minute = settings.digest_time
    if app.job_queue is not None:
        app.job_queue.run_daily(daily, dt.time(hour, minute, tzinfo=settings.zone), name=DAILY_JOB)
