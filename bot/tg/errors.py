"""The error handler: the log gets the details, admins get a nudge, users get an apology.

A stack trace tells a user nothing and may reveal internals, so users only ever see a short
polite message. Admins (ADMIN_IDS) hear about failures at most once a minute, so a fault that
hits every update cannot turn into a message storm; the log keeps every occurrence with its
update id.
"""

from __future__ import annotations

import contextlib
import html
import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.tg.context import Context, TiesApp, ui_lang
from bot.tg.texts import ADMIN_ALERT, texts

log = logging.getLogger(__name__)


async def report_error(update: object, context: Context) -> None:
    """Log the failure with its update id, tell admins (throttled) and apologise to the user."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, Forbidden):
        # The user blocked the bot or removed it from the group: nothing to fix, no one to tell.
        log.info("update %s: %s", update_id, error)
        return
    log.error("update %s failed", update_id, exc_info=error)
    data = context.bot_data
    if data.settings.admin_ids and data.alerts.ready():
        summary = f"{type(error).__name__}: {error}"[:500]
        alert = ADMIN_ALERT.format(update_id=update_id, error=html.escape(summary, quote=False))
        for admin in sorted(data.settings.admin_ids):
            try:
                await context.bot.send_message(admin, alert)
            except TelegramError as exc:
                log.warning("could not alert admin %s: %s", admin, exc)
    if isinstance(update, Update):
        await _apologise(update, context)


async def _apologise(update: Update, context: Context) -> None:
    lang = "en"
    with contextlib.suppress(Exception):
        lang = await ui_lang(update, context)
    t = texts(lang)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(t.error_callback)
        elif update.effective_message is not None and update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, t.error_user)
    except TelegramError as exc:
        log.warning(
            "update %s: could not tell the user about the error: %s", update.update_id, exc
        )


def register(app: TiesApp) -> None:
    """One error handler for every update; PTB would otherwise only log."""
    app.add_error_handler(report_error)
