"""The admin edge shared by every admin handler: who may act, and what an admin has under way.

`allowed` is the one gate. Every admin command, conversation step and button calls it before
doing anything: the chat must be private and the user must have a role *now* (read from the
database each time, so a revoked editor is stopped mid-conversation). Everyone else gets the
same short "not allowed" whatever they tried, so nothing about drafts or facts leaks.

Buttons carry only a random token (`adm:KIND:TOKEN:CHOICE`, `adc:TOKEN:VALUE`) that points into
the pressing user's own session (PTB's per-user `user_data`): forged or replayed data from
anyone else finds nothing, and the role is checked again before the token is even looked up.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, ConversationHandler, MessageHandler, filters

from bot.admin import AdminService
from bot.domain.curation import Draft
from bot.domain.models import Fact
from bot.domain.transfer import ImportPlan
from bot.tg.commands import NEW_MESSAGES
from bot.tg.context import Context, user_lang
from bot.tg.handlers import reply
from bot.tg.render import Outgoing
from bot.tg.texts import ADMIN

SESSION_KEY = "admin"
MAX_PENDING = 200  # buttons an admin may still press, oldest forgotten first


@dataclass(frozen=True)
class Pending:
    """What a standalone admin button (outside a conversation) will act on when pressed."""

    kind: str  # "rt": retire a fact; "uq": an unanswered question
    fact_id: str = ""
    version: int = 0
    question: str = ""
    lang: str = "en"


@dataclass
class EditState:
    """An /edit under way: the fact as first shown, the version then, and the edited copy."""

    original: Fact
    version: int
    edited: Fact
    field: str = ""


@dataclass
class Session:
    """One admin's state. `token` changes with every conversation, so buttons of an earlier
    draft (same chat, same user) cannot act on the current one."""

    token: str = ""
    draft: Draft | None = None
    sources: list[str] = field(default_factory=list)  # source ids in the order of the buttons
    edit: EditState | None = None
    plan: ImportPlan | None = None
    pending: OrderedDict[str, Pending] = field(default_factory=OrderedDict)

    def restart(self) -> str:
        """Forget any conversation under way and start a new one."""
        self.token = new_token()
        self.draft, self.edit, self.plan, self.sources = None, None, None, []
        return self.token

    def end(self) -> None:
        """Forget the conversation under way."""
        self.token = ""
        self.draft, self.edit, self.plan, self.sources = None, None, None, []

    def remember(self, pending: Pending) -> str:
        """Keep a standalone button's action; returns its token."""
        token = new_token()
        self.pending[token] = pending
        while len(self.pending) > MAX_PENDING:
            self.pending.popitem(last=False)
        return token


def new_token() -> str:
    """A short random token for callback data."""
    return secrets.token_hex(4)


def session(context: Context) -> Session:
    """This user's admin session, created on first use."""
    data = context.user_data
    if data is None:  # only for updates without a user, which `allowed` already turned away
        raise RuntimeError("admin session needs a user")
    current = data.get(SESSION_KEY)
    if not isinstance(current, Session):
        current = Session()
        data[SESSION_KEY] = current
    return current


def admin_service(context: Context) -> AdminService:
    """The admin service over the bot's fact service and owners."""
    data = context.bot_data
    return AdminService(data.service, data.settings.admin_ids)


async def allowed(update: Update, context: Context, owner: bool = False) -> int | None:
    """The user's id when they may use admin features here and now; otherwise tell them
    "not allowed" (as a button notice for presses) and return None."""
    user, chat = update.effective_user, update.effective_chat
    if user is not None and chat is not None and chat.type == ChatType.PRIVATE:
        role = await admin_service(context).role(user.id)
        if role is not None and (role == "owner" or not owner):
            return user.id
    await refuse(update, context)
    return None


async def refuse(update: Update, context: Context) -> None:
    text = ADMIN.not_allowed[user_lang(update)]
    query = update.callback_query
    if query is not None:
        await query.answer(text)
    elif update.effective_message is not None:
        await reply(update, context, Outgoing(text))


async def say(update: Update, context: Context, *messages: Outgoing) -> None:
    """Answer an admin in their private chat."""
    await reply(update, context, *messages)


def conversation_button(text: str, token: str, value: str) -> InlineKeyboardButton:
    """A button inside /add, /edit or /import: valid only for this conversation."""
    return InlineKeyboardButton(text, callback_data=f"adc:{token}:{value}")


def action_button(text: str, kind: str, token: str, choice: str) -> InlineKeyboardButton:
    """A standalone admin button (retire confirmation, unanswered list)."""
    return InlineKeyboardButton(text, callback_data=f"adm:{kind}:{token}:{choice}")


def parse_conversation(data: str | None) -> tuple[str, str] | None:
    """(token, value) of a conversation button; None for anything else."""
    parts = (data or "").split(":", 2)
    if len(parts) != 3 or parts[0] != "adc":
        return None
    return parts[1], parts[2]


def parse_action(data: str | None) -> tuple[str, str, str] | None:
    """(kind, token, choice) of a standalone admin button; None for anything else."""
    parts = (data or "").split(":")
    if len(parts) != 4 or parts[0] != "adm":
        return None
    return parts[1], parts[2], parts[3]


# -- conversation steps ------------------------------------------------------------------------

END = ConversationHandler.END
TEXT_ANSWER = filters.TEXT & ~filters.COMMAND & NEW_MESSAGES
Step = Callable[[Update, Context, int, Session, str], Awaitable[object]]


def text_step(step: Step) -> MessageHandler[Context, object]:
    """A conversation step answered by typing: checks the role, then hands over the text."""

    async def handle(update: Update, context: Context) -> object:
        user_id = await allowed(update, context)
        if user_id is None:
            return END
        message = update.effective_message
        text = message.text if message is not None and message.text else ""
        return await step(update, context, user_id, session(context), text)

    return MessageHandler(TEXT_ANSWER, handle)


async def expect_a_button(
    update: Update, context: Context, _: int, current: Session, __: str
) -> object:
    """A step that waits for a button got text instead: say so and stay on the step."""
    await say(update, context, Outgoing(ADMIN.press_a_button))
    return None


def button_step(kind: str, step: Step) -> CallbackQueryHandler[Context, object]:
    """A conversation step answered by a button of kind `kind` (`adc:TOKEN:KIND[:VALUE]`).

    A button of an earlier conversation (another token) only gets an "expired" notice; the
    pressed keyboard is removed so a choice cannot be made twice.
    """
    pattern = re.compile(rf"^adc:[0-9a-f]+:{re.escape(kind)}(?::|$)")

    async def handle(update: Update, context: Context) -> object:
        user_id = await allowed(update, context)
        if user_id is None:
            return END
        query = update.callback_query
        assert query is not None  # the pattern matched callback data
        parsed = parse_conversation(query.data)
        current = session(context)
        if parsed is None or not current.token or parsed[0] != current.token:
            await query.answer(ADMIN.expired)
            return None
        await query.answer()
        with contextlib.suppress(BadRequest):
            await query.edit_message_reply_markup(None)
        value = parsed[1].partition(":")[2]
        return await step(update, context, user_id, current, value)

    return CallbackQueryHandler(handle, pattern=pattern)
