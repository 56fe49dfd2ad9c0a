"""A fake Telegram Bot API server that a real python-telegram-bot Application can talk to.

Mocking ``telegram.Bot`` methods proves little: the interesting failures live in
the wire format (PTB sends form fields with JSON-encoded nested objects, multipart
uploads, long-polling ``getUpdates``), in Telegram's validation (HTML entities,
length limits, button data) and in Telegram's error responses (429 with
``retry_after``, 403 for blocked users, dropped connections). This server speaks
HTTP on 127.0.0.1 only, keeps every message the bot sends, lets tests inject the
updates a user would cause, and can inject faults, so end-to-end tests exercise
the same code paths as production without ever touching the network.

Anything not needed by a bot is left out; where the fake has to guess it says so
in the docstring of the method concerned.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import mimetypes
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar

from aiohttp import BodyPartReader, web

from .html_entities import (
    FormattedText,
    HtmlParseError,
    detect_entities,
    parse_html,
    trim_formatted,
    utf16_len,
)

if TYPE_CHECKING:
    from telegram.ext import Application

JSON = dict[str, Any]
_T = TypeVar("_T")

ChatType = Literal["private", "group", "supergroup", "channel"]
# Anything naming a chat: a user stands for their private chat with the bot.
ChatRef: TypeAlias = "FakeChat | FakeUser | int"
MemberStatus = Literal["creator", "administrator", "member", "restricted", "left", "kicked"]
FaultKind = Literal["429", "403", "400", "500", "502", "drop", "delay"]

MAX_MESSAGE_UTF16 = 4096
MAX_CAPTION_UTF16 = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_INLINE_RESULTS = 50
MAX_CALLBACK_ANSWER_CHARS = 200
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_POLL_TIMEOUT = 50.0

ALL_UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
# What Telegram sends when allowed_updates was never set or set to [].
DEFAULT_UPDATE_TYPES = tuple(
    t
    for t in ALL_UPDATE_TYPES
    if t not in ("chat_member", "message_reaction", "message_reaction_count")
)

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

_INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

# Form fields arrive as strings; these are decoded so handlers and call-log
# assertions see the same types a JSON body would carry.
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "user_id",
        "offset",
        "limit",
        "cache_time",
        "reply_to_message_id",
        "from_chat_id",
        "max_connections",
        "message_thread_id",
        "until_date",
    }
)
_FLOAT_FIELDS = frozenset({"timeout"})
_BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "is_personal",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "disable_content_type_detection",
        "revoke_messages",
        "only_if_banned",
        "allow_paid_broadcast",
        "show_caption_above_media",
    }
)
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "results",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "button",
        "menu_button",
        "message_ids",
        "rights",
    }
)
_JSON_ERRORS = {
    "reply_markup": "Bad Request: can't parse reply keyboard markup JSON object",
    "entities": "Bad Request: can't parse entities JSON object",
    "results": "Bad Request: can't parse inline query results JSON object",
}

_QUERY_INVALID = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    """A Bot API error answer; raising it anywhere in a handler produces Telegram's JSON."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def response(self) -> web.Response:
        """Keep the error body identical for every failure path, as PTB parses it."""
        return _error_response(self.code, self.description, self.parameters)


class FakeBotTimeout(AssertionError):
    """A wait_for condition did not hold in time; an AssertionError so pytest shows it well."""


def _error_response(code: int, description: str, parameters: JSON | None = None) -> web.Response:
    body: JSON = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


def _now() -> int:
    return int(time.time())


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


@dataclass(eq=False)
class FakeUser:
    """Stands in for a human account so updates carry realistic ``from`` objects."""

    id: int
    first_name: str
    language_code: str | None = "en"
    username: str | None = None
    last_name: str | None = None
    is_bot: bool = False
    is_premium: bool | None = None

    def to_api(self) -> JSON:
        """Serialise as a Bot API ``User``, the shape PTB's ``User.de_json`` expects."""
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        if self.is_premium:
            data["is_premium"] = True
        return data


@dataclass(eq=False)
class FakeChat:
    """A simulated chat together with the bot's standing in it.

    ``members`` maps user ids to their status; the bot's own status is
    ``bot_status`` so tests can say "the bot is (not) an administrator here".
    ``started`` only matters for private chats: Telegram refuses to let a bot
    write first, so it turns true once the user sends anything.
    """

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    user: FakeUser | None = None
    bot_status: MemberStatus = "member"
    bot_rights: JSON = field(default_factory=dict)
    members: dict[int, MemberStatus] = field(default_factory=dict)
    admin_rights: dict[int, JSON] = field(default_factory=dict)
    started: bool = False
    blocked: str | None = None
    description: str | None = None
    next_message_id: int = 1
    migrated_to: int | None = None

    def to_api(self) -> JSON:
        """Serialise as the short Bot API ``Chat`` embedded in messages."""
        data: JSON = {"id": self.id, "type": self.type}
        if self.type == "private" and self.user is not None:
            data["first_name"] = self.user.first_name
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
        else:
            data["title"] = self.title or ""
            if self.username:
                data["username"] = self.username
        return data

    @property
    def bot_is_admin(self) -> bool:
        """Many Telegram permissions hinge on exactly this."""
        return self.bot_status in ("administrator", "creator")


@dataclass
class UploadedFile:
    """A multipart file part, kept whole so tests can compare bytes."""

    field_name: str
    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)


@dataclass
class FileRecord:
    """A file known to the fake, downloadable via getFile and /file/bot<token>/<path>."""

    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    file_path: str
    data: bytes = field(repr=False)
    origin: Literal["bot", "user"] = "bot"

    @property
    def size(self) -> int:
        """Telegram reports sizes and enforces limits in bytes."""
        return len(self.data)

    def to_api(self) -> JSON:
        """Serialise as a Bot API ``Document``."""
        data: JSON = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.file_name:
            data["file_name"] = self.file_name
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data


@dataclass(eq=False)
class StoredMessage:
    """One message as the fake keeps it, whether the bot or a simulated user sent it.

    ``text``/``caption`` are what users would see (HTML already parsed);
    ``html`` is the raw string the bot passed, so tests can check escaping;
    ``history`` keeps earlier versions after edits, oldest first.
    """

    message_id: int
    chat: FakeChat | None
    from_bot: bool
    sender: FakeUser | None
    date: int
    method: str
    text: str | None = None
    html: str | None = None
    parse_mode: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    document: FileRecord | None = None
    reply_markup: JSON | None = None
    reply_to: StoredMessage | None = None
    edit_date: int | None = None
    deleted: bool = False
    inline_message_id: str | None = None
    author_signature: str | None = None
    history: list[str] = field(default_factory=list)
    params: JSON = field(default_factory=dict, repr=False)

    @property
    def chat_id(self) -> int | None:
        """Most assertions are per chat."""
        return self.chat.id if self.chat is not None else None

    @property
    def buttons(self) -> list[JSON]:
        """Inline keyboard buttons flattened row by row, for concise assertions."""
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return []
        return [button for row in self.reply_markup["inline_keyboard"] for button in row]

    @property
    def callback_data(self) -> list[str]:
        """What press_button can send for this message."""
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]

    def button(self, text: str) -> JSON:
        """Find a button by its label, failing loudly so a test names the missing one."""
        for candidate in self.buttons:
            if candidate.get("text") == text:
                return candidate
        labels = [b.get("text") for b in self.buttons]
        raise KeyError(f"no button {text!r}; buttons are {labels}")


@dataclass(frozen=True)
class InjectedUpdate:
    """What an injection produced; ``update_id`` is None when Telegram would not deliver it
    (group privacy mode, ``allowed_updates``, the bot not being in the chat)."""

    update_id: int | None
    update: JSON
    message: StoredMessage | None = None
    query_id: str | None = None

    @property
    def delivered(self) -> bool:
        """Lets tests assert that privacy mode hid a message from the bot."""
        return self.update_id is not None


@dataclass
class ApiCall:
    """One request the bot made. ``status`` is None while in flight, 0 if dropped."""

    method: str
    params: JSON
    status: int | None = None
    description: str | None = None
    result: Any = field(default=None, repr=False)
    at: float = field(default_factory=time.monotonic, repr=False)

    @property
    def ok(self) -> bool:
        """Retry assertions usually only care whether an attempt succeeded."""
        return self.status == 200


@dataclass
class CallbackAnswer:
    """An answerCallbackQuery call, tied back to the button press it answers."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    data: str | None
    user_id: int


@dataclass
class InlineAnswer:
    """An answerInlineQuery call; ``texts`` are the parsed message texts of the results."""

    inline_query_id: str
    query: str
    user_id: int
    results: list[JSON]
    texts: list[str | None]
    cache_time: int | None
    is_personal: bool
    next_offset: str | None
    button: JSON | None


@dataclass
class ChatAction:
    """A sendChatAction call; bots use these for 'typing…' feedback."""

    chat_id: int
    action: str


@dataclass
class _Query:
    id: str
    kind: Literal["callback", "inline"]
    user: FakeUser
    data: str | None = None
    query: str = ""
    answered: bool = False


@dataclass
class _Fault:
    kind: FaultKind
    retry_after: float
    description: str | None
    delay: float


@dataclass
class _FloodModel:
    per_second: int | None
    per_chat_per_minute: int | None
    per_chat_per_second: int | None
    sent: deque[float] = field(default_factory=deque)
    sent_by_chat: dict[int, deque[float]] = field(default_factory=dict)

    def retry_after(self, chat_id: int, now: float) -> int | None:
        """Seconds until the send would be allowed, or None if it is allowed now."""
        while self.sent and self.sent[0] <= now - 1.0:
            self.sent.popleft()
        chat_times = self.sent_by_chat.setdefault(chat_id, deque())
        while chat_times and chat_times[0] <= now - 60.0:
            chat_times.popleft()
        waits: list[float] = []
        if self.per_second is not None and len(self.sent) >= self.per_second:
            waits.append(self.sent[-self.per_second] + 1.0 - now)
        if self.per_chat_per_minute is not None and len(chat_times) >= self.per_chat_per_minute:
            waits.append(chat_times[-self.per_chat_per_minute] + 60.0 - now)
        if self.per_chat_per_second is not None:
            recent = [t for t in chat_times if t > now - 1.0]
            if len(recent) >= self.per_chat_per_second:
                waits.append(recent[-self.per_chat_per_second] + 1.0 - now)
        if not waits:
            return None
        return max(1, math.ceil(max(waits)))

    def record(self, chat_id: int, now: float) -> None:
        self.sent.append(now)
        self.sent_by_chat.setdefault(chat_id, deque()).append(now)


class _Params:
    """Typed access to request parameters that may be strings (form) or JSON values."""

    def __init__(self, data: JSON) -> None:
        self.data = data

    def get(self, name: str) -> Any:
        return self.data.get(name)

    def has(self, name: str) -> bool:
        return self.data.get(name) not in (None, "")

    def text(self, name: str) -> str | None:
        value = self.data.get(name)
        if value is None or isinstance(value, UploadedFile):
            return None
        if isinstance(value, str):
            return value
        return json.dumps(value) if isinstance(value, dict | list) else str(value)

    def integer(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            return int(value)
        raise ApiError(400, f'Bad Request: field "{name}" must be of type Integer')

    def number(self, name: str) -> float | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ApiError(400, f'Bad Request: field "{name}" must be a Number') from None

    def flag(self, name: str) -> bool:
        value = self.data.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def obj(self, name: str) -> Any:
        value = self.data.get(name)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(
                    400, _JSON_ERRORS.get(name, f"Bad Request: can't parse {name} JSON object")
                ) from None
        return value


def _normalise(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in _JSON_FIELDS:
        return _Params({name: value}).obj(name)
    if name in _INT_FIELDS and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    if name in _FLOAT_FIELDS:
        with contextlib.suppress(ValueError):
            return _number(float(value))
    if name in _BOOL_FIELDS and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    return value


def _bot_id_from_token(token: str) -> int:
    head = token.split(":", 1)[0]
    return int(head) if head.isdigit() else 1_000_000


def _forbidden_description(chat: FakeChat) -> str:
    if chat.type == "private":
        return "Forbidden: bot was blocked by the user"
    if chat.type == "channel":
        return "Forbidden: bot is not a member of the channel chat"
    return f"Forbidden: bot was kicked from the {chat.type} chat"


Handler = Callable[[_Params], Awaitable[Any]]


class FakeBotApi:
    """The fake server plus the test-facing API to drive and inspect it.

    Use ``async with FakeBotApi(token=...) as fake`` and point PTB at
    ``f"{fake.url}/bot"`` / ``f"{fake.url}/file/bot"``. Everything runs on the
    test's event loop, so state can be read directly after awaiting
    ``wait_for`` and friends.
    """

    def __init__(
        self,
        token: str = "123456789:TEST-fake-bot-token",
        bot_username: str = "tiesbot_test_bot",
        *,
        bot_first_name: str = "Ties Bot (test)",
        can_join_groups: bool = True,
        can_read_all_group_messages: bool = False,
        supports_inline_queries: bool = True,
        strict_ampersand: bool = True,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = _bot_id_from_token(token)
        self.bot_user = FakeUser(
            self.bot_id, bot_first_name, language_code=None, username=bot_username, is_bot=True
        )
        self.can_join_groups = can_join_groups
        self.can_read_all_group_messages = can_read_all_group_messages
        self.supports_inline_queries = supports_inline_queries
        self.strict_ampersand = strict_ampersand

        self.sent: list[StoredMessage] = []
        self.incoming: list[StoredMessage] = []
        self.calls: list[ApiCall] = []
        self.updates: list[JSON] = []
        self.delivered_update_ids: list[int] = []
        self.inline_answers: list[InlineAnswer] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.chat_actions: list[ChatAction] = []
        self.webhook: JSON | None = None
        self.webhook_history: list[tuple[str, JSON]] = []
        self.left_chats: list[int] = []
        self.bot_settings: dict[tuple[str, str], Any] = {}
        self.closed = False
        self.logged_out = False
        self.server_errors: list[Exception] = []

        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, FakeChat] = {}
        self._messages: dict[tuple[int, int], StoredMessage] = {}
        self._inline_messages: dict[str, StoredMessage] = {}
        self._files: dict[str, FileRecord] = {}
        self._files_by_path: dict[str, FileRecord] = {}
        self._queries: dict[str, _Query] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._pending: list[JSON] = []
        self._next_update_id = 10_001
        self._next_id = 1
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._faults: dict[str, deque[_Fault]] = {}
        self._flood: _FloodModel | None = None
        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler) for name, handler in self._handlers().items()
        }

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeBotApi:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> FakeBotApi:
        """Bind an ephemeral port on 127.0.0.1 so parallel tests never collide."""
        if self._runner is not None:
            return self
        self._closing.clear()
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        port = runner.addresses[0][1]
        self._runner = runner
        self._url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        """Release pending long polls first so shutdown never waits on a poll timeout."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing.set()
        self._notify()
        await runner.cleanup()

    @property
    def url(self) -> str:
        """Server root; PTB needs ``{url}/bot`` and ``{url}/file/bot``."""
        if self._url is None:
            raise RuntimeError("FakeBotApi is not started")
        return self._url

    @property
    def address(self) -> tuple[str, int]:
        """The bound socket address, so a test can prove nothing listens beyond loopback."""
        if self._runner is None:
            raise RuntimeError("FakeBotApi is not started")
        host, port = self._runner.addresses[0][:2]
        return str(host), int(port)

    # ------------------------------------------------------------ users and chats

    def user(
        self,
        id: int,
        first_name: str,
        language_code: str | None = "en",
        username: str | None = None,
        *,
        last_name: str | None = None,
        is_premium: bool | None = None,
        started: bool = False,
    ) -> FakeUser:
        """Make a user known; updates can only come from users the fake knows.

        As in Telegram, the user's private chat with the bot has the user's id.
        Telegram lets a bot write to a user only after the user wrote first;
        ``started=True`` skips that step for tests that begin with a bot message.
        """
        user = self._users.get(id)
        if user is None:
            user = FakeUser(id, first_name, language_code, username, last_name, False, is_premium)
            self._users[id] = user
        else:
            user.first_name, user.language_code, user.username = (
                first_name,
                language_code,
                username,
            )
            user.last_name, user.is_premium = last_name, is_premium
        if id not in self._chats:
            self._chats[id] = FakeChat(id, "private", user=user)
        if started:
            self._chats[id].started = True
        return user

    def private_chat(self, user: FakeUser | int) -> FakeChat:
        """Expose the private chat so tests can inspect or tweak it (e.g. ``started``)."""
        return self._chats[self._user(user).id]

    def group(
        self,
        chat_id: int,
        title: str,
        *,
        members: Iterable[FakeUser | int] = (),
        admins: Iterable[FakeUser | int] = (),
        creator: FakeUser | int | None = None,
        bot_status: MemberStatus = "member",
    ) -> FakeChat:
        """Groups behave unlike private chats (privacy mode, admin checks), so tests create
        them explicitly; the bot starts as a plain member, as when a user adds it."""
        return self._make_chat(chat_id, "group", title, None, members, admins, creator, bot_status)

    def supergroup(
        self,
        chat_id: int,
        title: str,
        *,
        username: str | None = None,
        members: Iterable[FakeUser | int] = (),
        admins: Iterable[FakeUser | int] = (),
        creator: FakeUser | int | None = None,
        bot_status: MemberStatus = "member",
    ) -> FakeChat:
        """Most real groups are supergroups, which may be public (addressable by @username)."""
        return self._make_chat(
            chat_id, "supergroup", title, username, members, admins, creator, bot_status
        )

    def channel(
        self,
        chat_id: int,
        title: str,
        *,
        username: str | None = None,
        bot_admin: bool = True,
        admins: Iterable[FakeUser | int] = (),
        creator: FakeUser | int | None = None,
    ) -> FakeChat:
        """A channel; bots can only post there as administrators, hence ``bot_admin``."""
        status: MemberStatus = "administrator" if bot_admin else "left"
        return self._make_chat(chat_id, "channel", title, username, (), admins, creator, status)

    def chat(self, chat: ChatRef) -> FakeChat:
        """Give tests the live chat object so they can tweak what no helper covers."""
        return self._chat(chat)

    def set_admins(
        self,
        chat: ChatRef,
        users: Iterable[FakeUser | int],
        *,
        creator: FakeUser | int | None = None,
    ) -> None:
        """Admin-only features need testing both ways, so tests decide exactly who
        administers a chat (previous admins become members)."""
        target = self._chat(chat)
        for uid, status in list(target.members.items()):
            if status == "administrator":
                target.members[uid] = "member"
        for user in users:
            target.members[self._user(user).id] = "administrator"
        if creator is not None:
            target.members[self._user(creator).id] = "creator"

    def set_bot_admin(self, chat: ChatRef, is_admin: bool = True, **rights: bool) -> None:
        """Bots need admin rights to post in channels or delete others' messages; this
        grants or revokes them (keyword rights override the all-true defaults)."""
        target = self._chat(chat)
        if is_admin:
            target.bot_status = "administrator"
            target.bot_rights = dict(rights)
        else:
            target.bot_status = "left" if target.type == "channel" else "member"
            target.bot_rights = {}

    def set_member_status(self, chat: ChatRef, user: FakeUser | int, status: MemberStatus) -> None:
        """Let membership checks via getChatMember see a user as e.g. 'left' or 'kicked'."""
        self._chat(chat).members[self._user(user).id] = status

    def block(self, chat: ChatRef, description: str | None = None) -> None:
        """Make every send/edit to the chat fail with 403 until unblock() — a blocked user."""
        target = self._chat(chat)
        target.blocked = description or _forbidden_description(target)

    def unblock(self, chat: ChatRef) -> None:
        """Users can unblock a bot; delivery must work again afterwards."""
        self._chat(chat).blocked = None

    # -------------------------------------------------------------- fault control

    def fail_next(
        self,
        method: str,
        kind: FaultKind,
        times: int = 1,
        retry_after: float = 1,
        *,
        description: str | None = None,
        delay: float = 1.0,
    ) -> None:
        """Make the next ``times`` calls of ``method`` ('*' = any) fail like Telegram can.

        Kinds: "429" (flood control with ``retry_after``), "403" (blocked), "400",
        "500", "502", "drop" (connection closed without a response, so PTB raises
        NetworkError) and "delay" (do the work, then hold the answer for ``delay``
        seconds: a client that times out meanwhile has still sent its message).
        """
        queue = self._faults.setdefault(method.lower(), deque())
        for _ in range(times):
            queue.append(_Fault(kind, retry_after, description, delay))

    def clear_faults(self) -> None:
        """Keep unconsumed faults from leaking into the next phase of a test."""
        self._faults.clear()

    def rate_limit(
        self,
        per_second: int | None = 30,
        per_chat_per_minute: int | None = 20,
        *,
        per_chat_per_second: int | None = None,
    ) -> None:
        """Turn on a flood model for send methods: exceeding it answers 429 like Telegram.

        Off by default. Limits count only accepted sends. Telegram's per-minute
        limit really applies to groups; here it applies to every chat, which is
        stricter and keeps the model simple.
        """
        self._flood = _FloodModel(per_second, per_chat_per_minute, per_chat_per_second)

    def clear_rate_limit(self) -> None:
        """Let a test finish its flood phase and continue unthrottled."""
        self._flood = None

    # ------------------------------------------------------------ update injection

    async def send_text(
        self,
        user: FakeUser | int,
        text: str,
        chat: ChatRef | None = None,
        reply_to: StoredMessage | InjectedUpdate | None = None,
        *,
        entities: list[JSON] | None = None,
    ) -> InjectedUpdate:
        """Drive the bot the way a user typing does; entities are detected as Telegram
        does, because PTB's CommandHandler only sees commands marked as bot_command."""
        sender = self._user(user)
        target = self._chat(chat) if chat is not None else self._chats[sender.id]
        if target.type == "channel":
            raise ValueError("users cannot write in channels; use channel_post()")
        self._join(target, sender)
        found = detect_entities(text) if entities is None else entities
        msg = self._store_user_message(
            target, sender, "message", text=text, entities=found, reply_to=reply_to
        )
        visible = self._bot_sees(target, text, found, msg.reply_to)
        return self._queue("message", self._message_json(msg), msg, visible=visible)

    async def send_document(
        self,
        user: FakeUser | int,
        filename: str,
        data: bytes,
        caption: str | None = None,
        chat: ChatRef | None = None,
        *,
        mime_type: str | None = None,
    ) -> InjectedUpdate:
        """Let tests exercise file handling: the bot can getFile and download the bytes."""
        sender = self._user(user)
        target = self._chat(chat) if chat is not None else self._chats[sender.id]
        self._join(target, sender)
        record = self._register_file(data, filename, mime_type, origin="user")
        found = detect_entities(caption) if caption else []
        msg = self._store_user_message(
            target, sender, "document", document=record, caption=caption, caption_entities=found
        )
        visible = self._bot_sees(target, caption, found, None)
        return self._queue("message", self._message_json(msg), msg, visible=visible)

    async def edit_text(
        self, user: FakeUser | int, message: StoredMessage | InjectedUpdate, new_text: str
    ) -> InjectedUpdate:
        """Bots must cope with edited messages (edited_message updates), so tests can edit."""
        sender = self._user(user)
        msg = self._resolve_message(message)
        if msg.from_bot or msg.sender is not sender or msg.text is None:
            raise ValueError("users can only edit their own text messages")
        msg.history.append(msg.text)
        msg.text = msg.html = new_text
        msg.entities = detect_entities(new_text)
        msg.edit_date = _now()
        assert msg.chat is not None
        visible = self._bot_sees(msg.chat, new_text, msg.entities, msg.reply_to)
        return self._queue("edited_message", self._message_json(msg), msg, visible=visible)

    async def press_button(
        self, user: FakeUser | int, message: StoredMessage, callback_data: str
    ) -> InjectedUpdate:
        """Drive callback handlers as a tap would; only data present on the message can be
        sent, so a test cannot press a button the bot never offered."""
        sender = self._user(user)
        if message.deleted:
            raise ValueError("cannot press a button on a deleted message")
        if callback_data not in message.callback_data:
            raise ValueError(
                f"message has no button with callback_data {callback_data!r}; "
                f"available: {message.callback_data}"
            )
        query_id = self._new_query_id()
        self._queries[query_id] = _Query(query_id, "callback", sender, data=callback_data)
        payload: JSON = {
            "id": query_id,
            "from": sender.to_api(),
            "chat_instance": self._chat_instance(message),
            "data": callback_data,
        }
        if message.inline_message_id is not None:
            payload["inline_message_id"] = message.inline_message_id
        else:
            payload["message"] = self._message_json(message)
        return self._queue("callback_query", payload, message, query_id=query_id)

    async def inline_query(
        self,
        user: FakeUser | int,
        query: str,
        offset: str = "",
        *,
        chat_type: str | None = "sender",
    ) -> InjectedUpdate:
        """Drive inline mode as typing ``@bot query`` would; answers land in ``inline_answers``."""
        sender = self._user(user)
        query_id = self._new_query_id()
        self._queries[query_id] = _Query(query_id, "inline", sender, query=query)
        payload: JSON = {"id": query_id, "from": sender.to_api(), "query": query, "offset": offset}
        if chat_type is not None:
            payload["chat_type"] = chat_type
        visible = self.supports_inline_queries
        return self._queue("inline_query", payload, None, query_id=query_id, visible=visible)

    async def choose_inline_result(
        self, user: FakeUser | int, result_id: str, query: str = ""
    ) -> InjectedUpdate:
        """Simulate picking an inline result; with a keyboard attached the bot can edit it."""
        sender = self._user(user)
        payload: JSON = {"result_id": result_id, "from": sender.to_api(), "query": query}
        inline_msg: StoredMessage | None = None
        result = self._find_inline_result(result_id, sender.id)
        if result is not None and result.get("reply_markup"):
            content = result.get("input_message_content") or {}
            formatted = self._format(
                content.get("message_text"), content.get("parse_mode"), None, "message"
            )
            inline_id = f"AQAAA{self._take_id():08d}"
            inline_msg = StoredMessage(
                message_id=0,
                chat=None,
                from_bot=True,
                sender=None,
                date=_now(),
                method="answerInlineQuery",
                text=formatted.text,
                html=content.get("message_text"),
                parse_mode=content.get("parse_mode"),
                entities=formatted.entities,
                reply_markup=result["reply_markup"],
                inline_message_id=inline_id,
            )
            self._inline_messages[inline_id] = inline_msg
            payload["inline_message_id"] = inline_id
        return self._queue("chosen_inline_result", payload, inline_msg)

    async def channel_post(
        self, chat: ChatRef, text: str, *, author_signature: str | None = None
    ) -> InjectedUpdate:
        """Channel posts reach a bot only when it administers the channel; model that."""
        target = self._chat(chat)
        if target.type != "channel":
            raise ValueError("channel_post needs a channel")
        msg = self._store_user_message(
            target, None, "message", text=text, entities=detect_entities(text)
        )
        msg.author_signature = author_signature
        return self._queue(
            "channel_post", self._message_json(msg), msg, visible=target.bot_is_admin
        )

    async def my_chat_member(
        self,
        chat: ChatRef,
        by: FakeUser | int,
        new_status: MemberStatus,
        old_status: MemberStatus | None = None,
    ) -> InjectedUpdate:
        """Bots learn of being added, promoted, kicked or blocked only through this update;
        the fake also applies the change (e.g. 'kicked' in a private chat blocks sends)."""
        target = self._chat(chat)
        actor = self._user(by)
        previous = old_status or target.bot_status
        target.bot_status = new_status
        if target.type == "private":
            if new_status == "kicked":
                target.blocked = _forbidden_description(target)
            else:
                target.blocked = None
                target.started = True
        bot = self.bot_user.to_api()
        payload: JSON = {
            "chat": target.to_api(),
            "from": actor.to_api(),
            "date": _now(),
            "old_chat_member": self._member_json(target, bot, previous, self.bot_id),
            "new_chat_member": self._member_json(target, bot, new_status, self.bot_id),
        }
        return self._queue("my_chat_member", payload, None)

    async def migrate_to_supergroup(
        self, group: ChatRef, new_id: int, by: FakeUser | int, *, seen: bool = True
    ) -> tuple[FakeChat, InjectedUpdate]:
        """A group upgraded to a supergroup, as Telegram does it: a new chat id with the same
        members, a service message in each chat, and 400 with `migrate_to_chat_id` for
        anything sent to the old id from then on. `seen=False`: the bot misses the service
        messages (it was down and they expired). Returns the supergroup and the old group's
        service message (the one that names the new id)."""
        old = self._chat(group)
        if old.type != "group":
            raise ValueError("only a basic group migrates")
        actor = self._user(by)
        new = FakeChat(new_id, "supergroup", title=old.title, bot_status=old.bot_status)
        new.members = dict(old.members)
        new.admin_rights = dict(old.admin_rights)
        self._chats[new_id] = new
        old.migrated_to = new_id
        injected: list[InjectedUpdate] = []
        for chat, field_name, other in (
            (old, "migrate_to_chat_id", new_id),
            (new, "migrate_from_chat_id", old.id),
        ):
            payload: JSON = {
                "message_id": chat.next_message_id,
                "date": _now(),
                "chat": chat.to_api(),
                "from": actor.to_api(),
                field_name: other,
            }
            chat.next_message_id += 1
            injected.append(self._queue("message", payload, None, visible=seen))
        return new, injected[0]

    # --------------------------------------------------------------------- reading

    def messages_to(self, chat: ChatRef, *, include_deleted: bool = False) -> list[StoredMessage]:
        """Bot messages in one chat, oldest first; deleted ones are hidden by default."""
        chat_id = chat if isinstance(chat, int) else chat.id
        return [
            m for m in self.sent if m.chat_id == chat_id and (include_deleted or not m.deleted)
        ]

    def last_message_to(self, chat: ChatRef) -> StoredMessage | None:
        """The newest visible bot message in a chat, the usual thing to assert on."""
        messages = self.messages_to(chat)
        return messages[-1] if messages else None

    def calls_to(self, method: str) -> list[ApiCall]:
        """Calls of one method (case-insensitive), e.g. to count retries."""
        wanted = method.lower()
        return [c for c in self.calls if c.method.lower() == wanted]

    @property
    def documents(self) -> list[StoredMessage]:
        """Bot messages carrying a document (``.document.data``, ``.caption``)."""
        return [m for m in self.sent if m.document is not None]

    @property
    def commands(self) -> dict[tuple[str, str], list[JSON]]:
        """Command lists keyed by (canonical scope JSON, language_code)."""
        return {key: list(value) for key, value in self._commands.items()}

    def commands_for(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """The exact list getMyCommands would return for a scope and language."""
        return list(self._commands.get((self._scope_key(scope), language_code), []))

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by an offset; empty after a clean PTB shutdown."""
        return list(self._pending)

    @property
    def inline_messages(self) -> dict[str, StoredMessage]:
        """Messages sent via inline mode, by inline_message_id, for edit assertions."""
        return dict(self._inline_messages)

    @property
    def files(self) -> dict[str, FileRecord]:
        """Every file known to the fake, by file_id."""
        return dict(self._files)

    async def wait_for(
        self,
        predicate: Callable[[], _T],
        timeout: float = 5.0,  # noqa: ASYNC109 - a per-call deadline reads best in tests
    ) -> _T:
        """Return the predicate's first truthy value as soon as it appears.

        Re-evaluated after every state change, so tests need no sleeps and
        finish the moment the bot has done its work.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise FakeBotTimeout(self._timeout_report(timeout))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await changed.wait()

    async def wait_for_messages(
        self,
        chat: ChatRef,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[StoredMessage]:
        """Wait until a chat holds at least ``count`` visible bot messages; return them all."""
        return await self.wait_for(
            lambda: msgs if len(msgs := self.messages_to(chat)) >= count else [], timeout
        )

    async def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[ApiCall]:
        """Wait until ``count`` calls of ``method`` have been answered (or dropped)."""

        def answered() -> list[ApiCall]:
            done = [c for c in self.calls_to(method) if c.status is not None]
            return done if len(done) >= count else []

        return await self.wait_for(answered, timeout)

    def _timeout_report(self, timeout: float) -> str:
        recent = "\n".join(f"  {m.chat_id}: {m.text or m.caption!r}" for m in self.sent[-5:])
        calls = "\n".join(
            f"  {c.method} -> {c.status} {c.description or ''}" for c in self.calls[-8:]
        )
        return (
            f"condition not met within {timeout}s\n"
            f"last bot messages:\n{recent or '  (none)'}\nlast calls:\n{calls or '  (none)'}"
        )

    # ------------------------------------------------------------------ internals

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _take_id(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    def _new_query_id(self) -> str:
        return str(4_000_000_000_000_000 + self._take_id())

    def _user(self, user: FakeUser | int) -> FakeUser:
        uid = user.id if isinstance(user, FakeUser) else user
        try:
            return self._users[uid]
        except KeyError:
            raise KeyError(f"unknown user {uid}; register it with fake.user()") from None

    def _chat(self, chat: ChatRef) -> FakeChat:
        cid = chat if isinstance(chat, int) else chat.id
        try:
            return self._chats[cid]
        except KeyError:
            raise KeyError(f"unknown chat {cid}; create it with fake.group()/...") from None

    def _make_chat(
        self,
        chat_id: int,
        chat_type: ChatType,
        title: str,
        username: str | None,
        members: Iterable[FakeUser | int],
        admins: Iterable[FakeUser | int],
        creator: FakeUser | int | None,
        bot_status: MemberStatus,
    ) -> FakeChat:
        chat = FakeChat(chat_id, chat_type, title=title, username=username, bot_status=bot_status)
        self._chats[chat_id] = chat
        for member in members:
            chat.members[self._user(member).id] = "member"
        self.set_admins(chat, admins, creator=creator)
        return chat

    def _join(self, chat: FakeChat, user: FakeUser) -> None:
        if chat.type == "private":
            chat.started = True
        elif chat.members.get(user.id) in (None, "left"):
            chat.members[user.id] = "member"

    def _bot_sees(
        self,
        chat: FakeChat,
        text: str | None,
        entities: list[JSON],
        reply_to: StoredMessage | None,
    ) -> bool:
        if chat.type == "private":
            return True
        if chat.bot_status in ("left", "kicked"):
            return False
        if self.can_read_all_group_messages or chat.bot_is_admin:
            return True
        if reply_to is not None and reply_to.from_bot:
            return True
        text = text or ""
        units = text.encode("utf-16-le")
        for entity in entities:
            start, end = entity["offset"] * 2, (entity["offset"] + entity["length"]) * 2
            fragment = units[start:end].decode("utf-16-le")
            if entity["type"] == "bot_command" and entity["offset"] == 0:
                _, _, target = fragment.partition("@")
                return not target or target.lower() == self.bot_username.lower()
            if entity["type"] == "mention" and fragment[1:].lower() == self.bot_username.lower():
                return True
            if (
                entity["type"] == "text_mention"
                and entity.get("user", {}).get("id") == self.bot_id
            ):
                return True
        return False

    def _queue(
        self,
        kind: str,
        payload: JSON,
        message: StoredMessage | None,
        *,
        query_id: str | None = None,
        visible: bool = True,
    ) -> InjectedUpdate:
        allowed = self._allowed_updates or DEFAULT_UPDATE_TYPES
        if not visible or kind not in allowed:
            self._notify()
            return InjectedUpdate(None, {kind: payload}, message, query_id)
        update: JSON = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        self._pending.append(update)
        self.updates.append(update)
        self._notify()
        return InjectedUpdate(update["update_id"], update, message, query_id)

    def _store_user_message(
        self,
        chat: FakeChat,
        sender: FakeUser | None,
        method: str,
        *,
        text: str | None = None,
        entities: list[JSON] | None = None,
        document: FileRecord | None = None,
        caption: str | None = None,
        caption_entities: list[JSON] | None = None,
        reply_to: StoredMessage | InjectedUpdate | None = None,
    ) -> StoredMessage:
        msg = StoredMessage(
            message_id=self._next_message_id(chat),
            chat=chat,
            from_bot=False,
            sender=sender,
            date=_now(),
            method=method,
            text=text,
            html=text if text is not None else caption,
            entities=list(entities or []),
            caption=caption,
            caption_entities=list(caption_entities or []),
            document=document,
            reply_to=self._resolve_message(reply_to) if reply_to is not None else None,
        )
        self._messages[(chat.id, msg.message_id)] = msg
        self.incoming.append(msg)
        return msg

    def _resolve_message(self, message: StoredMessage | InjectedUpdate) -> StoredMessage:
        if isinstance(message, StoredMessage):
            return message
        if message.message is None:
            raise ValueError("this update carries no message")
        return message.message

    def _next_message_id(self, chat: FakeChat) -> int:
        value = chat.next_message_id
        chat.next_message_id += 1
        return value

    def _chat_instance(self, message: StoredMessage) -> str:
        seed = str(message.chat_id) if message.chat_id is not None else message.inline_message_id
        return str(int(hashlib.sha256(str(seed).encode()).hexdigest()[:15], 16))

    def _message_json(self, msg: StoredMessage, *, with_reply: bool = True) -> JSON:
        assert msg.chat is not None
        data: JSON = {"message_id": msg.message_id}
        if msg.chat.type == "channel":
            data["sender_chat"] = msg.chat.to_api()
        elif msg.from_bot:
            data["from"] = self.bot_user.to_api()
        elif msg.sender is not None:
            data["from"] = msg.sender.to_api()
        data["chat"] = msg.chat.to_api()
        data["date"] = msg.date
        if msg.edit_date is not None:
            data["edit_date"] = msg.edit_date
        if msg.author_signature:
            data["author_signature"] = msg.author_signature
        if with_reply and msg.reply_to is not None and not msg.reply_to.deleted:
            data["reply_to_message"] = self._message_json(msg.reply_to, with_reply=False)
        if msg.text is not None:
            data["text"] = msg.text
            if msg.entities:
                data["entities"] = msg.entities
        if msg.document is not None:
            data["document"] = msg.document.to_api()
            if msg.caption:
                data["caption"] = msg.caption
                if msg.caption_entities:
                    data["caption_entities"] = msg.caption_entities
        if msg.reply_markup and "inline_keyboard" in msg.reply_markup:
            data["reply_markup"] = msg.reply_markup
        return data

    def _register_file(
        self, data: bytes, file_name: str | None, mime_type: str | None, *, origin: str
    ) -> FileRecord:
        n = self._take_id()
        digest = hashlib.sha256(data).hexdigest()
        suffix = ""
        if file_name and "." in file_name:
            suffix = "." + re.sub(r"[^A-Za-z0-9]", "", file_name.rsplit(".", 1)[1])[:10]
        guessed = mimetypes.guess_type(file_name)[0] if file_name else None
        record = FileRecord(
            file_id=f"BQACAgIAAxkBAAI{n:06d}{digest[:20]}",
            file_unique_id=f"AgAD{digest[:12]}",
            file_name=file_name,
            mime_type=mime_type or guessed or "application/octet-stream",
            file_path=f"documents/file_{n}{suffix}",
            data=bytes(data),
            origin="user" if origin == "user" else "bot",
        )
        self._files[record.file_id] = record
        self._files_by_path[record.file_path] = record
        return record

    def _find_inline_result(self, result_id: str, user_id: int) -> JSON | None:
        for answer in reversed(self.inline_answers):
            if answer.user_id != user_id:
                continue
            for result in answer.results:
                if result.get("id") == result_id:
                    return result
        return None

    def _member_json(self, chat: FakeChat, user: JSON, status: str, user_id: int) -> JSON:
        data: JSON = {"status": status, "user": user}
        if status == "creator":
            data["is_anonymous"] = False
        elif status == "administrator":
            rights: JSON = {
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": user_id != self.bot_id,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": True,
                "can_edit_stories": True,
                "can_delete_stories": True,
            }
            if chat.type == "channel":
                rights.update(can_post_messages=True, can_edit_messages=True)
            else:
                rights["can_pin_messages"] = True
                if chat.type == "supergroup":
                    rights["can_manage_topics"] = True
            overrides = (
                chat.bot_rights if user_id == self.bot_id else chat.admin_rights.get(user_id)
            )
            rights.update(overrides or {})
            data.update(rights)
        elif status == "restricted":
            data.update(
                is_member=True,
                until_date=0,
                **{
                    name: False
                    for name in (
                        "can_send_messages",
                        "can_send_audios",
                        "can_send_documents",
                        "can_send_photos",
                        "can_send_videos",
                        "can_send_video_notes",
                        "can_send_voice_notes",
                        "can_send_polls",
                        "can_send_other_messages",
                        "can_add_web_page_previews",
                        "can_change_info",
                        "can_invite_users",
                        "can_pin_messages",
                        "can_manage_topics",
                    )
                },
            )
        elif status == "kicked":
            data["until_date"] = 0
        return data

    # ---------------------------------------------------------------- HTTP layer

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info.get("tail", "")
        if tail.startswith("file/bot"):
            return self._serve_file(tail[len("file/bot") :])
        if not tail.startswith("bot"):
            return _error_response(404, "Not Found")
        token, sep, method = tail[len("bot") :].partition("/")
        if not sep or not method or "/" in method:
            return _error_response(404, "Not Found")
        entry = self._methods.get(method.lower())
        call = ApiCall(entry[0] if entry else method, {})
        self.calls.append(call)
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            call.params = await self._read_params(request)
            if entry is None:
                raise ApiError(404, "Not Found")
            fault = self._take_fault(entry[0])
            if fault is not None and fault.kind == "drop":
                call.status, call.description = 0, "connection dropped"
                self._notify()
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=500)
            if fault is not None and fault.kind != "delay":
                self._raise_fault(fault)
            result = await entry[1](_Params(call.params))
            if fault is not None:
                # The work is done before the pause: a client that times out has
                # still sent its message, exactly the case retries must handle.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(fault.delay):
                        await self._closing.wait()
        except ApiError as exc:
            call.status, call.description = exc.code, exc.description
            self._notify()
            return exc.response()
        except asyncio.CancelledError:
            call.status, call.description = 0, "client disconnected before the response"
            self._notify()
            raise
        except Exception as exc:  # a bug in the fake must not look like a Telegram answer
            self.server_errors.append(exc)
            call.status, call.description = 500, f"fake server bug: {exc!r}"
            self._notify()
            return _error_response(500, f"Internal Server Error (fake server bug: {exc!r})")
        call.status, call.result = 200, result
        self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _read_params(self, request: web.Request) -> JSON:
        raw: JSON = dict(request.query)
        if request.method == "POST" and request.body_exists:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise ApiError(400, "Bad Request: can't parse JSON encoded request") from None
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: JSON object expected")
                raw.update(body)
            elif request.content_type == "multipart/form-data":
                reader = await request.multipart()
                async for part in reader:
                    if not isinstance(part, BodyPartReader) or part.name is None:
                        continue
                    if part.filename is not None:
                        data = bytes(await part.read(decode=True))
                        if len(data) > MAX_UPLOAD_BYTES:
                            raise ApiError(413, "Request Entity Too Large")
                        ctype = part.headers.get("Content-Type")
                        raw[part.name] = UploadedFile(part.name, part.filename, ctype, data)
                    else:
                        raw[part.name] = await part.text()
            else:
                form = await request.post()
                raw.update({k: v for k, v in form.items() if isinstance(v, str)})
        return {name: _normalise(name, value) for name, value in raw.items()}

    def _serve_file(self, rest: str) -> web.Response:
        token, _, path = rest.partition("/")
        if token != self.token:
            return _error_response(401, "Unauthorized")
        record = self._files_by_path.get(path)
        if record is None:
            return _error_response(404, "Not Found")
        return web.Response(body=record.data, content_type="application/octet-stream")

    def _take_fault(self, method: str) -> _Fault | None:
        for key in (method.lower(), "*"):
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        return None

    def _raise_fault(self, fault: _Fault) -> None:
        if fault.kind == "429":
            retry = _number(fault.retry_after)
            raise ApiError(
                429,
                fault.description or f"Too Many Requests: retry after {retry}",
                {"retry_after": retry},
            )
        defaults = {
            "403": "Forbidden: bot was blocked by the user",
            "400": "Bad Request",
            "500": "Internal Server Error",
            "502": "Bad Gateway",
        }
        raise ApiError(int(fault.kind), fault.description or defaults[fault.kind])

    # ------------------------------------------------------------ shared checks

    def _chat_param(self, p: _Params, name: str = "chat_id") -> FakeChat:
        raw = p.get(name)
        if raw is None or raw == "":
            raise ApiError(400, f"Bad Request: {name} is empty")
        chat: FakeChat | None = None
        if isinstance(raw, str) and raw.startswith("@"):
            wanted = raw[1:].lower()
            for candidate in self._chats.values():
                if candidate.type != "private" and (candidate.username or "").lower() == wanted:
                    chat = candidate
                    break
        else:
            try:
                chat_id = p.integer(name)
            except ApiError:
                raise ApiError(400, "Bad Request: chat not found") from None
            chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _check_can_write(self, chat: FakeChat) -> None:
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.blocked:
            raise ApiError(403, chat.blocked)
        if chat.type == "private":
            if not chat.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            return
        if chat.type == "channel":
            if not chat.bot_is_admin:
                raise ApiError(403, "Forbidden: bot is not a member of the channel chat")
            if chat.bot_rights.get("can_post_messages") is False:
                raise ApiError(400, "Bad Request: need administrator rights in the channel chat")
            return
        if chat.bot_status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
        if chat.bot_status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")

    def _admit_send(self, chat: FakeChat) -> None:
        if self._flood is None:
            return
        now = time.monotonic()
        wait = self._flood.retry_after(chat.id, now)
        if wait is not None:
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        self._flood.record(chat.id, now)

    def _format(
        self,
        raw: str | None,
        parse_mode: str | None,
        entities: Any,
        kind: Literal["message", "caption"],
    ) -> FormattedText:
        if raw is None or raw == "":
            if kind == "message":
                raise ApiError(400, "Bad Request: message text is empty")
            return FormattedText("", [])
        mode = (parse_mode or "").lower()
        if mode == "html":
            try:
                parsed = parse_html(
                    raw, strict_ampersand=self.strict_ampersand, resolve_user=self._user_json
                )
            except HtmlParseError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        elif mode in ("", "markdown", "markdownv2"):
            # Markdown is stored unparsed: the fake only models HTML faithfully.
            given = entities if isinstance(entities, list) and not mode else []
            parsed = FormattedText(raw, [e for e in given if isinstance(e, dict)])
        else:
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        result = trim_formatted(parsed.text, parsed.entities)
        if kind == "message" and not result.text:
            raise ApiError(400, "Bad Request: message text is empty")
        limit = MAX_MESSAGE_UTF16 if kind == "message" else MAX_CAPTION_UTF16
        if utf16_len(result.text) > limit:
            if kind == "message":
                raise ApiError(400, "Bad Request: message is too long")
            raise ApiError(400, "Bad Request: message caption is too long")
        return result

    def _user_json(self, user_id: int) -> JSON | None:
        if user_id == self.bot_id:
            return self.bot_user.to_api()
        user = self._users.get(user_id)
        return user.to_api() if user is not None else None

    def _markup(self, value: Any) -> JSON | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in value:
            rows = value["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise ApiError(
                    400,
                    'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup '
                    "must be an Array of Arrays",
                )
            if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
                raise ApiError(400, "Bad Request: reply markup is too long")
            for row in rows:
                for button in row:
                    self._check_inline_button(button)
            return value
        if "keyboard" in value:
            rows = value["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise ApiError(
                    400,
                    'Bad Request: field "keyboard" of the ReplyKeyboardMarkup '
                    "must be an Array of Arrays",
                )
            return value
        if value.get("remove_keyboard") or value.get("force_reply"):
            return value
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")

    def _check_inline_button(self, button: Any) -> None:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise ApiError(
                400,
                "Bad Request: can't parse inline keyboard button: "
                'Field "text" must be of type String',
            )
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        if "url" in button:
            url = button["url"]
            if not isinstance(url, str) or not url.strip() or any(c.isspace() for c in url):
                raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
        if not any(key in button for key in _INLINE_BUTTON_ACTIONS):
            raise ApiError(
                400,
                "Bad Request: can't parse inline keyboard button: "
                "Text buttons are unallowed in the inline keyboard",
            )

    def _reply_target(self, chat: FakeChat, p: _Params) -> StoredMessage | None:
        params = p.obj("reply_parameters")
        if isinstance(params, dict):
            mid: Any = params.get("message_id")
            lenient = bool(params.get("allow_sending_without_reply"))
            if params.get("chat_id") not in (None, chat.id):
                raise ApiError(400, "Bad Request: message to be replied not found")
        else:
            mid = p.integer("reply_to_message_id")
            lenient = p.flag("allow_sending_without_reply")
        if mid is None:
            return None
        target = self._messages.get((chat.id, int(mid)))
        if target is None or target.deleted:
            if lenient:
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        return target

    def _store_bot_message(self, chat: FakeChat, method: str, p: _Params, **fields: Any) -> JSON:
        msg = StoredMessage(
            message_id=self._next_message_id(chat),
            chat=chat,
            from_bot=True,
            sender=None,
            date=_now(),
            method=method,
            params=dict(p.data),
            **fields,
        )
        self._messages[(chat.id, msg.message_id)] = msg
        self.sent.append(msg)
        return self._message_json(msg)

    def _edit_target(self, p: _Params) -> StoredMessage:
        inline_id = p.text("inline_message_id")
        if inline_id:
            inline = self._inline_messages.get(inline_id)
            if inline is None:
                raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
            return inline
        chat = self._chat_param(p)
        message_id = p.integer("message_id")
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        msg = self._messages.get((chat.id, message_id))
        if msg is None or msg.deleted:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not msg.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        self._check_can_write(chat)
        return msg

    def _edited(self, msg: StoredMessage) -> Any:
        msg.edit_date = _now()
        self._notify()
        if msg.inline_message_id is not None:
            return True
        return self._message_json(msg)

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not isinstance(scope, dict) or not scope:
            scope = {"type": "default"}
        if not isinstance(scope.get("type"), str):
            raise ApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
        normal: JSON = {"type": scope["type"]}
        for key in ("chat_id", "user_id"):
            if key in scope:
                value = scope[key]
                normal[key] = (
                    int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else value
                )
        return json.dumps(normal, sort_keys=True)

    # ---------------------------------------------------------------- Bot API

    def _handlers(self) -> dict[str, Handler]:
        return {
            "getMe": self._get_me,
            "logOut": self._log_out,
            "close": self._close,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "getChatMemberCount": self._get_chat_member_count,
            "leaveChat": self._leave_chat,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": self._setting_setter("description"),
            "getMyDescription": self._setting_getter("description"),
            "setMyShortDescription": self._setting_setter("short_description"),
            "getMyShortDescription": self._setting_getter("short_description"),
            "setMyName": self._setting_setter("name"),
            "getMyName": self._setting_getter("name"),
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
        }

    async def _get_me(self, p: _Params) -> JSON:
        return {
            **self.bot_user.to_api(),
            "can_join_groups": self.can_join_groups,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": self.supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
            "has_topics_enabled": False,
        }

    async def _log_out(self, p: _Params) -> bool:
        self.logged_out = True
        return True

    async def _close(self, p: _Params) -> bool:
        self.closed = True
        return True

    async def _get_updates(self, p: _Params) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = p.integer("offset")
        limit = min(max(p.integer("limit") or 100, 1), 100)
        timeout = min(max(p.number("timeout") or 0.0, 0.0), MAX_POLL_TIMEOUT)
        allowed = p.obj("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]

        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older poll still waiting must learn it was superseded
        if offset:
            self._confirm(offset)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = self._pending[:limit]
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing.is_set():
                break
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await changed.wait()
        self.delivered_update_ids.extend(u["update_id"] for u in batch)
        return batch

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    async def _set_webhook(self, p: _Params) -> bool:
        url = p.text("url") or ""
        self.webhook_history.append(("setWebhook", dict(p.data)))
        if p.flag("drop_pending_updates"):
            self._pending.clear()
        if not url:
            self.webhook = None
            return True
        if not url.lower().startswith("https://"):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        allowed = p.obj("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        self.webhook = dict(p.data)
        return True

    async def _delete_webhook(self, p: _Params) -> bool:
        self.webhook_history.append(("deleteWebhook", dict(p.data)))
        if p.flag("drop_pending_updates"):
            self._pending.clear()
        self.webhook = None
        return True

    async def _get_webhook_info(self, p: _Params) -> JSON:
        info: JSON = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook is not None:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            if self._allowed_updates:
                info["allowed_updates"] = self._allowed_updates
        return info

    async def _send_message(self, p: _Params) -> JSON:
        chat = self._chat_param(p)
        formatted = self._format(
            p.text("text"), p.text("parse_mode"), p.obj("entities"), "message"
        )
        markup = self._markup(p.obj("reply_markup"))
        reply_to = self._reply_target(chat, p)
        self._check_can_write(chat)
        self._admit_send(chat)
        return self._store_bot_message(
            chat,
            "sendMessage",
            p,
            text=formatted.text,
            html=p.text("text"),
            parse_mode=p.text("parse_mode"),
            entities=formatted.entities,
            reply_markup=markup,
            reply_to=reply_to,
        )

    async def _send_document(self, p: _Params) -> JSON:
        chat = self._chat_param(p)
        record = self._document_param(p)
        caption = self._format(
            p.text("caption"), p.text("parse_mode"), p.obj("caption_entities"), "caption"
        )
        markup = self._markup(p.obj("reply_markup"))
        reply_to = self._reply_target(chat, p)
        self._check_can_write(chat)
        self._admit_send(chat)
        return self._store_bot_message(
            chat,
            "sendDocument",
            p,
            document=record,
            caption=caption.text or None,
            caption_entities=caption.entities,
            html=p.text("caption"),
            parse_mode=p.text("parse_mode"),
            reply_markup=markup,
            reply_to=reply_to,
        )

    def _document_param(self, p: _Params) -> FileRecord:
        value = p.get("document")
        if isinstance(value, str) and value.startswith("attach://"):
            value = p.get(value[len("attach://") :])
        if isinstance(value, UploadedFile):
            if not value.data:
                raise ApiError(400, "Bad Request: file must be non-empty")
            content_type = value.content_type
            if content_type in (None, "application/octet-stream"):
                content_type = None
            return self._register_file(value.data, value.filename, content_type, origin="bot")
        if isinstance(value, str) and value:
            known = self._files.get(value)
            if known is not None:
                return known
            if value.lower().startswith(("http://", "https://")):
                raise ApiError(400, "Bad Request: failed to get HTTP URL content")
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        raise ApiError(400, "Bad Request: there is no document in the request")

    async def _edit_message_text(self, p: _Params) -> Any:
        msg = self._edit_target(p)
        if msg.text is None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        formatted = self._format(
            p.text("text"), p.text("parse_mode"), p.obj("entities"), "message"
        )
        markup = self._markup(p.obj("reply_markup"))
        if (formatted.text, formatted.entities, markup) == (
            msg.text,
            msg.entities,
            msg.reply_markup,
        ):
            raise ApiError(400, _NOT_MODIFIED)
        msg.history.append(msg.text)
        msg.text, msg.entities, msg.reply_markup = formatted.text, formatted.entities, markup
        msg.html, msg.parse_mode = p.text("text"), p.text("parse_mode")
        return self._edited(msg)

    async def _edit_message_caption(self, p: _Params) -> Any:
        msg = self._edit_target(p)
        if msg.document is None:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        formatted = self._format(
            p.text("caption"), p.text("parse_mode"), p.obj("caption_entities"), "caption"
        )
        markup = self._markup(p.obj("reply_markup"))
        new_caption = formatted.text or None
        current = (msg.caption, msg.caption_entities, msg.reply_markup)
        if (new_caption, formatted.entities, markup) == current:
            raise ApiError(400, _NOT_MODIFIED)
        msg.history.append(msg.caption or "")
        msg.caption, msg.caption_entities, msg.reply_markup = (
            new_caption,
            formatted.entities,
            markup,
        )
        msg.html, msg.parse_mode = p.text("caption"), p.text("parse_mode")
        return self._edited(msg)

    async def _edit_message_reply_markup(self, p: _Params) -> Any:
        msg = self._edit_target(p)
        markup = self._markup(p.obj("reply_markup"))
        if markup == msg.reply_markup:
            raise ApiError(400, _NOT_MODIFIED)
        msg.reply_markup = markup
        return self._edited(msg)

    async def _delete_message(self, p: _Params) -> bool:
        chat = self._chat_param(p)
        message_id = p.integer("message_id")
        msg = self._messages.get((chat.id, message_id)) if message_id is not None else None
        if msg is None or msg.deleted:
            raise ApiError(400, "Bad Request: message to delete not found")
        if not msg.from_bot and chat.type != "private" and not chat.bot_is_admin:
            raise ApiError(400, "Bad Request: message can't be deleted")
        msg.deleted = True
        return True

    async def _answer_callback_query(self, p: _Params) -> bool:
        query = self._queries.get(p.text("callback_query_id") or "")
        if query is None or query.kind != "callback" or query.answered:
            raise ApiError(400, _QUERY_INVALID)
        text = p.text("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_CHARS:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        query.answered = True
        self.callback_answers.append(
            CallbackAnswer(
                callback_query_id=query.id,
                text=text,
                show_alert=p.flag("show_alert"),
                url=p.text("url"),
                cache_time=p.integer("cache_time"),
                data=query.data,
                user_id=query.user.id,
            )
        )
        return True

    async def _answer_inline_query(self, p: _Params) -> bool:
        query = self._queries.get(p.text("inline_query_id") or "")
        if query is None or query.kind != "inline" or query.answered:
            raise ApiError(400, _QUERY_INVALID)
        results = p.obj("results")
        if not isinstance(results, list):
            raise ApiError(400, "Bad Request: can't parse inline query results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        seen: set[str] = set()
        texts: list[str | None] = []
        for result in results:
            if not isinstance(result, dict) or not isinstance(result.get("type"), str):
                raise ApiError(400, "Bad Request: can't parse inline query result")
            result_id = result.get("id")
            if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= 64:
                raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
            if result_id in seen:
                raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
            seen.add(result_id)
            self._markup(result.get("reply_markup"))
            content = result.get("input_message_content")
            if isinstance(content, dict) and "message_text" in content:
                formatted = self._format(
                    content.get("message_text"), content.get("parse_mode"), None, "message"
                )
                texts.append(formatted.text)
            else:
                texts.append(None)
        query.answered = True
        button = p.obj("button")
        self.inline_answers.append(
            InlineAnswer(
                inline_query_id=query.id,
                query=query.query,
                user_id=query.user.id,
                results=results,
                texts=texts,
                cache_time=p.integer("cache_time"),
                is_personal=p.flag("is_personal"),
                next_offset=p.text("next_offset"),
                button=button if isinstance(button, dict) else None,
            )
        )
        return True

    async def _send_chat_action(self, p: _Params) -> bool:
        chat = self._chat_param(p)
        action = p.text("action") or ""
        if action not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self._check_can_write(chat)
        self.chat_actions.append(ChatAction(chat.id, action))
        return True

    async def _get_file(self, p: _Params) -> JSON:
        record = self._files.get(p.text("file_id") or "")
        if record is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if record.size > MAX_DOWNLOAD_BYTES:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.size,
            "file_path": record.file_path,
        }

    async def _get_chat(self, p: _Params) -> JSON:
        chat = self._chat_param(p)
        info = chat.to_api()
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        )
        if chat.description:
            info["description"] = chat.description
        return info

    async def _get_chat_member(self, p: _Params) -> JSON:
        chat = self._chat_param(p)
        user_id = p.integer("user_id")
        user_json = self._user_json(user_id) if user_id is not None else None
        if user_id is None or user_json is None:
            raise ApiError(400, "Bad Request: user not found")
        if user_id == self.bot_id:
            status: str = "member" if chat.type == "private" else chat.bot_status
            return self._member_json(chat, user_json, status, user_id)
        if chat.type == "private":
            if user_id != chat.id:
                raise ApiError(400, "Bad Request: user not found")
            return self._member_json(chat, user_json, "member", user_id)
        if chat.type == "channel" and not chat.bot_is_admin:
            raise ApiError(400, "Bad Request: member list is inaccessible")
        return self._member_json(chat, user_json, chat.members.get(user_id, "left"), user_id)

    async def _get_chat_administrators(self, p: _Params) -> list[JSON]:
        chat = self._chat_param(p)
        if chat.type == "private":
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        if chat.type == "channel" and not chat.bot_is_admin:
            raise ApiError(400, "Bad Request: member list is inaccessible")
        admins: list[JSON] = []
        ranked = sorted(chat.members.items(), key=lambda item: item[1] != "creator")
        for user_id, status in ranked:
            user_json = self._user_json(user_id)
            if status in ("creator", "administrator") and user_json is not None:
                admins.append(self._member_json(chat, user_json, status, user_id))
        if chat.bot_is_admin:
            admins.append(
                self._member_json(chat, self.bot_user.to_api(), chat.bot_status, self.bot_id)
            )
        return admins

    async def _get_chat_member_count(self, p: _Params) -> int:
        chat = self._chat_param(p)
        if chat.type == "private":
            return 2
        present = ("creator", "administrator", "member", "restricted")
        count = sum(1 for status in chat.members.values() if status in present)
        return count + (1 if chat.bot_status in present else 0)

    async def _leave_chat(self, p: _Params) -> bool:
        chat = self._chat_param(p)
        if chat.type == "private":
            raise ApiError(
                400, "Bad Request: chat member status can't be changed in private chats"
            )
        chat.bot_status = "left"
        self.left_chats.append(chat.id)
        return True

    async def _set_my_commands(self, p: _Params) -> bool:
        commands = p.obj("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        clean: list[JSON] = []
        for command in commands:
            if not isinstance(command, dict):
                raise ApiError(400, "Bad Request: can't parse BotCommand JSON object")
            name = command.get("command")
            description = command.get("description")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": description})
        key = (self._scope_key(p.obj("scope")), p.text("language_code") or "")
        if clean:
            self._commands[key] = clean
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, p: _Params) -> list[JSON]:
        key = (self._scope_key(p.obj("scope")), p.text("language_code") or "")
        return list(self._commands.get(key, []))

    async def _delete_my_commands(self, p: _Params) -> bool:
        key = (self._scope_key(p.obj("scope")), p.text("language_code") or "")
        self._commands.pop(key, None)
        return True

    def _setting_setter(self, name: str) -> Handler:
        async def setter(p: _Params) -> bool:
            self.bot_settings[(name, p.text("language_code") or "")] = p.text(name) or ""
            return True

        return setter

    def _setting_getter(self, name: str) -> Handler:
        async def getter(p: _Params) -> JSON:
            value = self.bot_settings.get((name, p.text("language_code") or ""), "")
            if name == "name" and not value:
                value = self.bot_user.first_name
            return {name: value}

        return getter

    async def _set_chat_menu_button(self, p: _Params) -> bool:
        button = p.obj("menu_button")
        key = ("menu_button", str(p.integer("chat_id") or ""))
        self.bot_settings[key] = button if isinstance(button, dict) else {"type": "default"}
        return True

    async def _get_chat_menu_button(self, p: _Params) -> JSON:
        key = ("menu_button", str(p.integer("chat_id") or ""))
        value = self.bot_settings.get(key)
        return value if isinstance(value, dict) else {"type": "default"}


@contextlib.asynccontextmanager
async def polling(
    app: Application[Any, Any, Any, Any, Any, Any],
    *,
    poll_timeout: int = 10,
    drop_pending_updates: bool = False,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """Run a PTB Application's real polling loop for the duration of a test.

    ``run_polling`` blocks and installs signal handlers, so tests use the
    component API instead; shutdown confirms the last offset like production.
    """
    try:
        await app.initialize()
    except BaseException:
        await app.bot.shutdown()  # close HTTP clients opened before getMe failed
        raise
    try:
        await app.start()
        updater = app.updater
        if updater is None:
            raise RuntimeError("the Application was built without an Updater")
        await updater.start_polling(
            poll_interval=0.0,
            timeout=max(1, poll_timeout),  # 0 would make PTB spin on getUpdates
            drop_pending_updates=drop_pending_updates,
        )
        yield app
    finally:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
