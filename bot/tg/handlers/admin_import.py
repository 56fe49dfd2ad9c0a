"""/import: a zip from /export or one YAML fact file, checked, summarised, applied on confirm.

The file is refused before download when Telegram says it is too big; otherwise it is read in
memory (never written to disk), validated like `tiesbot knowledge check` with the article
texts, and shown as added / changed / retired. "Apply" writes all of it in one transaction, or
nothing if any fact changed since the summary.
"""

from __future__ import annotations

from telegram import Document, Update
from telegram.ext import BaseHandler, MessageHandler, filters

from bot.domain.knowledge import KnowledgeError
from bot.domain.transfer import MAX_UPLOAD_BYTES, UploadError
from bot.storage.store import ConflictError
from bot.tg import admin_render
from bot.tg.admin import (
    END,
    Session,
    admin_service,
    allowed,
    button_step,
    expect_a_button,
    say,
    session,
    text_step,
)
from bot.tg.commands import NEW_MESSAGES, admin_command
from bot.tg.context import Context
from bot.tg.render import Outgoing
from bot.tg.texts import ADMIN

FILE = "import:file"
CONFIRM = "import:confirm"
DOCUMENT = filters.Document.ALL & NEW_MESSAGES
CAPTIONED = DOCUMENT & filters.CaptionRegex(r"^/import(@\w+)?(\s|$)")


async def start(update: Update, context: Context) -> object:
    """/import (then the file), or a file sent with the caption /import."""
    user_id = await allowed(update, context)
    if user_id is None:
        return END
    current = session(context)
    current.restart()
    message = update.effective_message
    if message is not None and message.document is not None:
        return await _read(update, context, user_id, current, message.document)
    await say(update, context, Outgoing(ADMIN.import_send.format(limit=MAX_UPLOAD_BYTES)))
    return FILE


async def document(update: Update, context: Context) -> object:
    """The file, sent after /import."""
    user_id = await allowed(update, context)
    if user_id is None:
        return END
    message = update.effective_message
    doc = message.document if message is not None else None
    if doc is None:  # the filter only lets documents through
        return FILE
    return await _read(update, context, user_id, session(context), doc)


async def _read(
    update: Update, context: Context, user_id: int, current: Session, doc: Document
) -> object:
    if doc.file_size is not None and doc.file_size > MAX_UPLOAD_BYTES:
        rule = f"{doc.file_size:,} bytes, over the {MAX_UPLOAD_BYTES:,}-byte limit"
        await say(update, context, admin_render.problems([("file", rule)]))
        return FILE
    tg_file = await doc.get_file()
    data = bytes(await tg_file.download_as_bytearray())
    try:
        plan = await admin_service(context).plan_import(user_id, doc.file_name or "", data)
    except UploadError as exc:
        await say(update, context, admin_render.problems([("file", str(exc))]))
        return FILE
    except KnowledgeError as exc:
        found = [(f"{p.file}:{p.line}", p.message) for p in exc.problems]
        await say(update, context, admin_render.problems(found), Outgoing(ADMIN.import_fix))
        return FILE
    if plan.empty:
        current.end()
        await say(update, context, Outgoing(ADMIN.import_nothing.format(n=plan.unchanged)))
        return END
    current.plan = plan
    blocks = [*admin_render.import_summary(plan), ADMIN.import_confirm]
    rows = admin_render.confirm_rows(current.token, ADMIN.button_apply)
    await say(update, context, *admin_render.with_buttons(blocks, rows))
    return CONFIRM


async def not_a_file(
    update: Update, context: Context, _: int, current: Session, __: str
) -> object:
    """Text where a file is expected."""
    await say(update, context, Outgoing(ADMIN.import_send.format(limit=MAX_UPLOAD_BYTES)))
    return FILE


async def confirm(
    update: Update, context: Context, user_id: int, current: Session, choice: str
) -> object:
    """Apply the summarised import in one transaction, or cancel."""
    plan = current.plan
    current.end()
    if plan is None or choice != "y":
        await say(update, context, Outgoing(ADMIN.cancelled))
        return END
    try:
        await admin_service(context).apply_import(user_id, plan)
    except ConflictError as exc:
        text = ADMIN.import_conflict.format(
            fact_id=exc.current.fact.id, by=exc.current.updated_by, at=exc.current.updated_at
        )
        await say(update, context, Outgoing(text))
        return END
    text = ADMIN.import_done.format(
        added=len(plan.added), changed=len(plan.changed), retired=len(plan.retired)
    )
    await say(update, context, Outgoing(text))
    return END


def entry_points() -> list[BaseHandler[Update, Context, object]]:
    """How /import starts: the command, or a file captioned /import."""
    return [admin_command("import", start), MessageHandler(CAPTIONED, start)]


def states() -> dict[object, list[BaseHandler[Update, Context, object]]]:
    """The /import steps."""
    return {
        FILE: [MessageHandler(DOCUMENT, document), text_step(not_a_file)],
        CONFIRM: [button_step("k", confirm), text_step(expect_a_button)],
    }
