"""The rest of the admin desk: /admin, /admins (owners), /stats, /export, and stale buttons.

`register` adds these together with the fact commands and the unanswered list, and last of
all a catch-all for admin buttons nothing else took (an old message, a restarted bot, forged
data): admins hear it expired, anyone else gets the same "not allowed" as for a command.
"""

from __future__ import annotations

import datetime as dt
import html

from telegram import InputFile, Update
from telegram.ext import CallbackQueryHandler

from bot.tg import admin_render
from bot.tg.admin import admin_service, allowed, say
from bot.tg.commands import ADMIN_COMMANDS, admin_command
from bot.tg.context import Context, TiesApp
from bot.tg.handlers import admin_facts, admin_missed
from bot.tg.render import Outgoing
from bot.tg.texts import ADMIN


async def admin_help(update: Update, context: Context) -> None:
    """/admin: the admin commands, for admins."""
    user_id = await allowed(update, context)
    if user_id is None:
        return
    role = await admin_service(context).role(user_id)
    lines = [ADMIN.help_head.format(role=role)]
    lines += [f"/{name} — {ADMIN.commands[name]}" for name in ADMIN_COMMANDS]
    await say(update, context, Outgoing("\n".join(lines)))


async def admins(update: Update, context: Context) -> None:
    """/admins, /admins add ID, /admins remove ID (owners only)."""
    user_id = await allowed(update, context, owner=True)
    if user_id is None:
        return
    admin = admin_service(context)
    args = context.args or []
    if not args:
        listed = admin_render.admins(
            admin.owners, await admin.editors(user_id), await admin.role_history(user_id)
        )
        await say(update, context, Outgoing(listed))
        return
    if len(args) != 2 or args[0].lower() not in ("add", "remove") or not args[1].isdigit():
        await say(update, context, Outgoing(ADMIN.admins_usage))
        return
    editor = int(args[1])
    outcome: str
    if args[0].lower() == "add":
        outcome = await admin.grant(user_id, editor)
    else:
        outcome = await admin.revoke(user_id, editor)
    await say(update, context, Outgoing(ADMIN.admins_outcome[outcome].format(id=editor)))


async def stats(update: Update, context: Context) -> None:
    """/stats over the last 7 and 30 days."""
    user_id = await allowed(update, context)
    if user_id is None:
        return
    report = await admin_service(context).stats(user_id, dt.datetime.now(dt.UTC))
    await say(update, context, Outgoing(admin_render.stats(report)))


async def export(update: Update, context: Context) -> None:
    """/export: the fact base as a zip of the knowledge/ files."""
    user_id = await allowed(update, context)
    chat = update.effective_chat
    if user_id is None or chat is None:
        return
    admin = admin_service(context)
    name, data = await admin.export(user_id, dt.datetime.now(dt.UTC))
    caption = ADMIN.export_caption.format(
        facts=len(admin.service.facts(include_retired=True)),
        sources=len(admin.service.sources),
        name=html.escape(name),
    )
    await context.bot.send_document(chat.id, InputFile(data, filename=name), caption=caption)


async def stale_button(update: Update, context: Context) -> None:
    """An admin button no handler took: expired for admins, "not allowed" for anyone else."""
    if await allowed(update, context) is None:
        return
    query = update.callback_query
    if query is not None:
        await query.answer(ADMIN.expired)


def register(app: TiesApp) -> None:
    """Every admin command and button outside the conversations; stale buttons last."""
    app.add_handler(admin_command("admin", admin_help))
    app.add_handler(admin_command("admins", admins))
    app.add_handler(admin_command("stats", stats))
    app.add_handler(admin_command("export", export))
    admin_facts.register(app)  # /delete (with its button), /restore, /history, /undo, /find
    admin_missed.register(app)  # /unanswered, its buttons and the daily summary job
    app.add_handler(CallbackQueryHandler(stale_button, pattern=r"^ad[mc]:"))  # last
