"""/delete, /restore, /history, /undo and /find: looking after facts that exist.

/delete retires a fact after a confirmation button (it stops being answered at once and stays
in the history); /restore brings it back; /undo reverts the last change of a fact, itself as
a new revision. Each change names the admin in its revision.
"""

from __future__ import annotations

import html

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.admin import NotFound
from bot.domain.curation import changes
from bot.storage.store import ConflictError
from bot.tg import admin_render
from bot.tg.admin import Pending, action_button, admin_service, allowed, parse_action, say, session
from bot.tg.commands import admin_command
from bot.tg.context import Context, TiesApp
from bot.tg.render import Outgoing
from bot.tg.texts import ADMIN

KIND = "rt"


def _wanted(context: Context) -> str:
    return (context.args or [""])[0].strip().lower()


async def _usage_or_missing(update: Update, context: Context, usage: str) -> bool:
    if not _wanted(context):
        await say(update, context, Outgoing(usage))
        return True
    return False


async def _not_found(update: Update, context: Context, fact_id: str) -> None:
    text = ADMIN.no_such_fact.format(fact_id=html.escape(fact_id[:64]))
    await say(update, context, Outgoing(text))


async def delete(update: Update, context: Context) -> None:
    """/delete ID: show the fact and ask for confirmation; nothing changes yet."""
    user_id = await allowed(update, context)
    if user_id is None or await _usage_or_missing(update, context, ADMIN.delete_usage):
        return
    admin = admin_service(context)
    try:
        stored = await admin.current(user_id, _wanted(context))
    except NotFound as exc:
        await _not_found(update, context, exc.fact_id)
        return
    fact_id = html.escape(stored.fact.id)
    if stored.fact.retired:
        await say(update, context, Outgoing(ADMIN.already_retired.format(fact_id=fact_id)))
        return
    token = session(context).remember(Pending(KIND, stored.fact.id, stored.version))
    rows = [
        [
            action_button(ADMIN.button_retire, KIND, token, "y"),
            action_button(ADMIN.button_cancel, KIND, token, "n"),
        ]
    ]
    blocks = [
        ADMIN.delete_confirm.format(fact_id=fact_id),
        admin.service.render(stored.fact, "en", "html"),
    ]
    await say(update, context, *admin_render.with_buttons(blocks, rows))


async def retire_pressed(update: Update, context: Context) -> None:
    """The confirmation button of /delete."""
    user_id = await allowed(update, context)
    if user_id is None:
        return
    query = update.callback_query
    assert query is not None
    parsed = parse_action(query.data)
    pending = session(context).pending.pop(parsed[1], None) if parsed else None
    if parsed is None or pending is None or pending.kind != KIND:
        await query.answer(ADMIN.expired)
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    fact_id = html.escape(pending.fact_id)
    if parsed[2] != "y":
        await say(update, context, Outgoing(ADMIN.cancelled))
        return
    try:
        stored = await admin_service(context).retire(user_id, pending.fact_id, pending.version)
    except NotFound:
        await _not_found(update, context, pending.fact_id)
        return
    except ConflictError as exc:
        theirs = exc.current
        text = ADMIN.retire_conflict.format(
            fact_id=fact_id, version=theirs.version, by=html.escape(theirs.updated_by)
        )
        await say(update, context, Outgoing(text))
        return
    text = ADMIN.retired.format(fact_id=fact_id, version=stored.version)
    await say(update, context, Outgoing(text))


async def restore(update: Update, context: Context) -> None:
    """/restore ID: a retired fact is answered again."""
    user_id = await allowed(update, context)
    if user_id is None or await _usage_or_missing(update, context, ADMIN.restore_usage):
        return
    try:
        stored = await admin_service(context).restore(user_id, _wanted(context))
    except NotFound as exc:
        await _not_found(update, context, exc.fact_id)
        return
    fact_id = html.escape(_wanted(context))
    if stored is None:
        await say(update, context, Outgoing(ADMIN.not_retired.format(fact_id=fact_id)))
        return
    text = ADMIN.restored.format(fact_id=fact_id, version=stored.version)
    await say(update, context, Outgoing(text))


async def history(update: Update, context: Context) -> None:
    """/history ID: the latest revisions, newest first, each with a short difference."""
    user_id = await allowed(update, context)
    if user_id is None or await _usage_or_missing(update, context, ADMIN.history_usage):
        return
    admin = admin_service(context)
    try:
        stored = await admin.current(user_id, _wanted(context))
        revisions = await admin.history(user_id, stored.fact.id)
    except NotFound as exc:
        await _not_found(update, context, exc.fact_id)
        return
    pages = admin_render.history(stored.fact, revisions)
    await say(update, context, *(Outgoing(p) for p in pages))


async def undo(update: Update, context: Context) -> None:
    """/undo ID: revert the fact's last change."""
    user_id = await allowed(update, context)
    if user_id is None or await _usage_or_missing(update, context, ADMIN.undo_usage):
        return
    try:
        done = await admin_service(context).undo(user_id, _wanted(context))
    except NotFound as exc:
        await _not_found(update, context, exc.fact_id)
        return
    fact_id = html.escape(_wanted(context))
    if done is None:
        await say(update, context, Outgoing(ADMIN.undo_nothing.format(fact_id=fact_id)))
        return
    revision, result = done
    lines = [
        ADMIN.undone.format(
            fact_id=fact_id,
            action=html.escape(revision.action),
            actor=html.escape(revision.actor),
            version=result.version,
        )
    ]
    lines += admin_render.change_lines(changes(revision.after, result.fact))
    await say(update, context, Outgoing("\n".join(lines)))


async def find(update: Update, context: Context) -> None:
    """/find TEXT: facts by id, words or keyword, retired ones and unchecked quotes marked."""
    user_id = await allowed(update, context)
    if user_id is None:
        return
    query = " ".join(context.args or [])
    if not query.strip():
        await say(update, context, Outgoing(ADMIN.find_usage))
        return
    admin = admin_service(context)
    facts = await admin.find(user_id, query)
    marks = {f.id: admin.unverified(f) for f in facts}
    await say(update, context, *(Outgoing(p) for p in admin_render.found(facts, marks, query)))


def register(app: TiesApp) -> None:
    """The fact commands and the retire button."""
    app.add_handler(admin_command("delete", delete))
    app.add_handler(CallbackQueryHandler(retire_pressed, pattern=rf"^adm:{KIND}:[0-9a-f]+:[yn]$"))
    app.add_handler(admin_command("restore", restore))
    app.add_handler(admin_command("history", history))
    app.add_handler(admin_command("undo", undo))
    app.add_handler(admin_command("find", find))
