"""/digest preview, /digest send and /digest status: the weekly digest for admins.

The preview sends the very messages a subscriber would get now (this week's stored digest
once it exists, else a fresh composition) in the admin's language, after a heading that is
not part of them, and offers the other edition on a button. /digest send asks for
confirmation and then runs the broadcast as a job; the ledger means it only reaches chats
that have not had this week's digest. Owners and editors only, in a private chat; every
button checks the role again when pressed.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.broadcast import preview_digest
from bot.domain.digest import Digest, week_id
from bot.tg import digest_job, digest_render
from bot.tg.admin import Pending, action_button, allowed, parse_action, say, session
from bot.tg.commands import admin_command
from bot.tg.context import LANG_CODES, Context, TiesApp, ui_lang
from bot.tg.render import Outgoing, keyboard
from bot.tg.texts import ADMIN, DIGEST

KIND = "dg"
OTHER_EDITION, SEND, CANCEL = "o", "y", "n"


async def digest_command(update: Update, context: Context) -> None:
    """/digest preview | send | status."""
    user_id = await allowed(update, context)
    if user_id is None:
        return
    action = (context.args or [""])[0].lower()
    if action == "preview":
        await _preview(update, context, await ui_lang(update, context))
    elif action == "send":
        await _confirm_send(update, context)
    elif action == "status":
        await _status(update, context)
    else:
        await say(update, context, Outgoing(DIGEST.usage))


async def _current(context: Context) -> Digest:
    service = context.bot_data.service
    now = context.bot_data.digest.clock().astimezone(context.bot_data.settings.zone)
    return await preview_digest(service.store, service.facts(), service.composer, now)


async def _audience(context: Context) -> str:
    subscribers = await context.bot_data.service.store.subscriber_count()
    return digest_render.audience(subscribers, context.bot_data.settings.digest_channel)


async def _preview(update: Update, context: Context, lang: str) -> None:
    digest = await _current(context)
    parts = digest.parts(lang)
    other = next(code for code in LANG_CODES if code != lang)
    head = DIGEST.preview_head.format(
        id=digest.id,
        edition=DIGEST.editions[lang],
        parts=len(parts),
        audience=await _audience(context),
        schedule=DIGEST.schedule.format(next=digest_render.when(digest_job.next_digest(context))),
    )
    if await context.bot_data.service.store.get_digest(digest.id) is not None:
        head += "\n" + DIGEST.stored
    token = session(context).remember(Pending(KIND, lang=other))
    label = DIGEST.button_edition.format(edition=DIGEST.editions[other])
    markup = keyboard([[action_button(label, KIND, token, OTHER_EDITION)]])
    messages = [Outgoing(head), *(Outgoing(p) for p in parts[:-1]), Outgoing(parts[-1], markup)]
    await say(update, context, *messages)


async def _confirm_send(update: Update, context: Context) -> None:
    digest = await _current(context)
    lines = [DIGEST.send_confirm.format(id=digest.id, audience=await _audience(context))]
    stored = await context.bot_data.service.store.get_digest(digest.id)
    if stored is not None and stored.status == "done":
        lines.append(DIGEST.send_again.format(id=digest.id))
    token = session(context).remember(Pending(KIND))
    rows = [
        [
            action_button(DIGEST.button_send, KIND, token, SEND),
            action_button(ADMIN.button_cancel, KIND, token, CANCEL),
        ]
    ]
    await say(update, context, Outgoing("\n\n".join(lines), keyboard(rows)))


async def _status(update: Update, context: Context) -> None:
    store = context.bot_data.service.store
    text = digest_render.status(
        await store.digest_status(),
        await store.subscriber_count(),
        context.bot_data.settings.digest_channel,
        digest_job.next_digest(context),
    )
    await say(update, context, Outgoing(text))


async def pressed(update: Update, context: Context) -> None:
    """The buttons: the other edition of a preview; send or cancel after /digest send."""
    user_id = await allowed(update, context)
    if user_id is None:
        return
    query = update.callback_query
    assert query is not None  # the pattern matched callback data
    parsed = parse_action(query.data)
    pending = session(context).pending.get(parsed[1]) if parsed else None
    if parsed is None or pending is None or pending.kind != KIND:
        await query.answer(ADMIN.expired)
        return
    _, token, choice = parsed
    if choice == OTHER_EDITION:
        if pending.lang not in LANG_CODES:
            await query.answer(ADMIN.expired)
            return
        await query.answer()
        await _preview(update, context, pending.lang)
        return
    # Send or cancel: one answer per confirmation, so a second tap cannot send again.
    session(context).pending.pop(token, None)
    await query.answer()
    await query.edit_message_reply_markup(None)
    if choice != SEND:
        await say(update, context, Outgoing(ADMIN.cancelled))
        return
    if context.bot_data.digest.lock.locked():
        await say(update, context, Outgoing(DIGEST.busy))
        return
    now = context.bot_data.digest.clock().astimezone(context.bot_data.settings.zone)
    digest_job.start_sending(context, user_id)
    await say(update, context, Outgoing(DIGEST.sending.format(id=week_id(now))))


def register(app: TiesApp) -> None:
    """The command and its buttons; before admin_desk's catch-all for stale admin buttons."""
    app.add_handler(admin_command("digest", digest_command))
    pattern = rf"^adm:{KIND}:[0-9a-f]+:[{OTHER_EDITION}{SEND}{CANCEL}]$"
    app.add_handler(CallbackQueryHandler(pressed, pattern=pattern))
