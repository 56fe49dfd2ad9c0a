"""/edit ID: choose a field, send the new value, preview, save.

The version of the fact is remembered when it is first shown; saving passes it to the store,
which refuses if another admin saved in between (ConflictError). The admin then sees who
saved first and what they changed, and nothing of the stale edit is written.
"""

from __future__ import annotations

import html

from telegram import Update
from telegram.ext import BaseHandler

from bot.admin import NotFound
from bot.domain.curation import EDITABLE, changes, edit_fact, field_value, unverified
from bot.storage.store import ConflictError
from bot.tg import admin_render
from bot.tg.admin import (
    END,
    EditState,
    Session,
    admin_service,
    allowed,
    button_step,
    conversation_button,
    expect_a_button,
    say,
    session,
    text_step,
)
from bot.tg.commands import admin_command
from bot.tg.context import Context
from bot.tg.render import Outgoing, keyboard
from bot.tg.texts import ADMIN

FIELD = "edit:field"
VALUE = "edit:value"
CONFIRM = "edit:confirm"


async def edit(update: Update, context: Context) -> object:
    """/edit ID: show the fields of a fact to choose from."""
    user_id = await allowed(update, context)
    if user_id is None:
        return END
    current = session(context)
    current.end()
    if not context.args:
        await say(update, context, Outgoing(ADMIN.edit_usage))
        return END
    try:
        stored = await admin_service(context).current(user_id, context.args[0])
    except NotFound:
        text = ADMIN.no_such_fact.format(fact_id=html.escape(context.args[0][:64]))
        await say(update, context, Outgoing(text))
        return END
    current.restart()
    current.edit = EditState(stored.fact, stored.version, stored.fact)
    return await _choose(update, context, current)


async def _choose(update: Update, context: Context, current: Session) -> object:
    state = current.edit
    assert state is not None
    buttons = [
        conversation_button(name, current.token, f"f:{i}") for i, name in enumerate(EDITABLE)
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    text = ADMIN.edit_choose.format(
        fact_id=html.escape(state.original.id),
        version=state.version,
        retired=f" {ADMIN.mark_retired}" if state.original.retired else "",
    )
    await say(update, context, Outgoing(text, keyboard(rows)))
    return FIELD


async def field_button(
    update: Update, context: Context, _: int, current: Session, value: str
) -> object:
    """A field chosen by button."""
    index = int(value) if value.isdigit() else -1
    name = EDITABLE[index] if 0 <= index < len(EDITABLE) else ""
    return await field_text(update, context, _, current, name)


async def field_text(
    update: Update, context: Context, _: int, current: Session, value: str
) -> object:
    """A field chosen by typing its name; shows its current value."""
    state = current.edit
    name = value.strip().lower()
    if state is None or name not in EDITABLE:
        rule = f"must be one of {', '.join(EDITABLE)}"
        await say(update, context, admin_render.problems([("field", rule)]))
        return FIELD
    state.field = name
    shown = field_value(state.edited, name) or "—"
    text = ADMIN.edit_current.format(
        field=html.escape(name), value=html.escape(shown), hint=ADMIN.edit_hints.get(name, "")
    )
    await say(update, context, Outgoing(text))
    return VALUE


async def value(update: Update, context: Context, _: int, current: Session, text: str) -> object:
    """The new value: checked, then previewed with the difference."""
    state = current.edit
    if state is None:
        return END
    admin = admin_service(context)
    edited, errors = edit_fact(state.edited, state.field, text, admin.rules())
    if edited is None:
        await say(update, context, admin_render.problems(errors))
        return VALUE
    state.edited = edited
    found = changes(state.original, edited)
    blocks = [ADMIN.edit_diff_head, "\n".join(admin_render.change_lines(found) or ["—"])]
    blocks += admin_render.preview(
        edited, admin.service.sources, len(unverified(edited, admin.service.texts))
    )
    blocks.append(ADMIN.edit_confirm)
    token = current.token
    rows = [
        [
            conversation_button(ADMIN.button_save, token, "k:y"),
            conversation_button(ADMIN.button_another_field, token, "k:f"),
        ],
        [conversation_button(ADMIN.button_cancel, token, "k:n")],
    ]
    await say(update, context, *admin_render.with_buttons(blocks, rows))
    return CONFIRM


async def confirm(
    update: Update, context: Context, user_id: int, current: Session, choice: str
) -> object:
    """Save with the version first shown, choose another field, or cancel."""
    state = current.edit
    if state is None or choice == "n":
        current.end()
        await say(update, context, Outgoing(ADMIN.cancelled))
        return END
    if choice == "f":
        return await _choose(update, context, current)
    admin = admin_service(context)
    try:
        stored = await admin.update(user_id, state.edited, state.version)
    except ConflictError as exc:
        theirs = exc.current
        current.end()
        text = admin_render.conflict(
            state.original, theirs.fact, theirs.version, theirs.updated_by, theirs.updated_at
        )
        await say(update, context, Outgoing(text))
        return END
    current.end()
    text = ADMIN.edit_saved.format(fact_id=html.escape(stored.fact.id), version=stored.version)
    await say(update, context, Outgoing(text))
    return END


def entry_points() -> list[BaseHandler[Update, Context, object]]:
    """How /edit starts."""
    return [admin_command("edit", edit)]


def states() -> dict[object, list[BaseHandler[Update, Context, object]]]:
    """The /edit steps."""
    return {
        FIELD: [button_step("f", field_button), text_step(field_text)],
        VALUE: [text_step(value)],
        CONFIRM: [button_step("k", confirm), text_step(expect_a_button)],
    }
