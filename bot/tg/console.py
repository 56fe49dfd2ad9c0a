"""A local console chat with the real bot, for `make run` without a token.

What you type becomes a Telegram `Update` and goes through `application.process_update`, so
the same Application, handlers, rendering and database answer as on Telegram. The network is
replaced one level down, at PTB's request layer (`BaseRequest`): the bot's outgoing Bot API
calls are answered in-process and printed instead of sent. Buttons print as numbered choices;
typing a number presses one, which arrives as a callback query, exactly like a tap.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from telegram import Update
from telegram.request import BaseRequest, RequestData

from bot.settings import Settings
from bot.tg.app import build_application, start_app, stop_app
from bot.tg.texts import (
    CONSOLE_BANNER,
    CONSOLE_BYE,
    CONSOLE_EDITED,
    CONSOLE_NOT_A_BUTTON,
    CONSOLE_PROMPT,
)

JSON = dict[str, Any]
CONSOLE_USER_ID = 1
CONSOLE_BOT: JSON = {
    "id": 10,
    "is_bot": True,
    "first_name": "Belarus Ties Bot",
    "username": "tiesbot_console_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.S)
_QUOTE = re.compile(r"<blockquote[^>]*>(.*?)</blockquote>", re.S)
_TAG = re.compile(r"<[^>]+>")


def plain_text(text: str) -> str:
    """Telegram HTML as a terminal shows it: links as "text (address)", quotes indented."""

    def link(m: re.Match[str]) -> str:
        href, shown = html.unescape(m[1]), m[2]
        return shown if html.unescape(_TAG.sub("", shown)) == href else f"{shown} ({href})"

    def quote(m: re.Match[str]) -> str:
        return "\n".join("  │ " + line for line in m[1].split("\n"))

    return html.unescape(_TAG.sub("", _QUOTE.sub(quote, _LINK.sub(link, text))))


@dataclass
class Choice:
    """A numbered button the user can press by typing its number."""

    message_id: int
    data: str


@dataclass
class ConsoleChat:
    """The simulated Telegram side: one private chat, its messages and the bot's replies."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    language_code: str = "en"
    messages: dict[int, JSON] = field(default_factory=dict)
    choices: list[Choice] = field(default_factory=list)
    _next_id: int = 1
    _pending: list[str] = field(default_factory=list)

    @property
    def user(self) -> JSON:
        return {
            "id": CONSOLE_USER_ID,
            "is_bot": False,
            "first_name": "You",
            "language_code": self.language_code,
        }

    @property
    def chat(self) -> JSON:
        return {"id": CONSOLE_USER_ID, "type": "private", "first_name": "You"}

    def _take_id(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    # -- what the user does ------------------------------------------------------------

    def typed(self, text: str) -> JSON:
        """A message update for a typed line; a leading /command gets its entity as in Telegram."""
        message: JSON = {
            "message_id": self._take_id(),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            "text": text,
        }
        if text.startswith("/"):
            word = text.split()[0]
            size = len(word.encode("utf-16-le")) // 2
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": size}]
        return {"update_id": self._take_id(), "message": message}

    def pressed(self, number: int) -> JSON | None:
        """A callback-query update for button `number`, or None if there is no such button."""
        if not 1 <= number <= len(self.choices):
            return None
        choice = self.choices[number - 1]
        query: JSON = {
            "id": str(self._take_id()),
            "from": self.user,
            "chat_instance": "console",
            "data": choice.data,
            "message": self.messages[choice.message_id],
        }
        return {"update_id": self._take_id(), "callback_query": query}

    # -- what the bot does (Bot API methods) -------------------------------------------

    def call(self, method: str, params: JSON) -> Any:
        """Answer one Bot API call the way Telegram would, remembering what to print."""
        if method == "getMe":
            return CONSOLE_BOT
        if method in ("setMyCommands", "deleteMyCommands", "sendChatAction", "deleteWebhook"):
            return True
        if method == "sendMessage":
            message: JSON = {
                "message_id": self._take_id(),
                "date": int(time.time()),
                "chat": self.chat,
                "from": {k: CONSOLE_BOT[k] for k in ("id", "is_bot", "first_name", "username")},
                "text": plain_text(str(params.get("text", ""))),
            }
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            self.messages[message["message_id"]] = message
            target = int(params.get("chat_id", CONSOLE_USER_ID))
            if target != CONSOLE_USER_ID:
                self._pending.append(f"[to chat {target}]\n{message['text']}")
            else:
                self._pending.append(f"#{message['message_id']}")
            return message
        if method in ("editMessageText", "editMessageReplyMarkup"):
            message = self.messages[int(params["message_id"])]
            if method == "editMessageText":
                message["text"] = plain_text(str(params.get("text", "")))
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            else:
                message.pop("reply_markup", None)
            mark = "~" if method == "editMessageText" else "^"
            self._pending.append(f"{mark}{message['message_id']}")
            return message
        if method == "answerCallbackQuery":
            if params.get("text"):
                self._pending.append(f"ℹ️  {params['text']}")
            return True
        if method == "getChatMember":
            return {"status": "member", "user": self.user}
        raise LookupError(method)

    # -- printing ----------------------------------------------------------------------

    def flush(self) -> None:
        """Print what the bot did since the last flush; its buttons become the new choices."""
        if not self._pending:
            return
        self.choices = []
        for entry in self._pending:
            if entry[0] in "#~^" and entry[1:].isdigit():
                message = self.messages[int(entry[1:])]
                if entry[0] != "#":
                    print(CONSOLE_EDITED, file=self.out)
                if entry[0] != "^":  # a keyboard-only edit: the text is already on screen
                    print(message["text"], file=self.out)
                self._print_buttons(message)
            else:
                print(entry, file=self.out)
            print(file=self.out)
        self._pending.clear()
        self.out.flush()

    def _print_buttons(self, message: JSON) -> None:
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        for row in rows:
            for button in row:
                if "url" in button:
                    print(f"    {button['text']}: {button['url']}", file=self.out)
                elif "callback_data" in button:
                    self.choices.append(Choice(message["message_id"], button["callback_data"]))
                    print(f"  [{len(self.choices)}] {button['text']}", file=self.out)


class ConsoleRequest(BaseRequest):
    """PTB's request layer, answered by the console chat instead of Telegram's servers."""

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        """Nothing to connect to."""

    async def shutdown(self) -> None:
        """Nothing to disconnect from."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        params: JSON = dict(request_data.parameters) if request_data else {}
        try:
            result = self.chat.call(endpoint, params)
        except (LookupError, ValueError) as exc:
            body = {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}
            return 400, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()


def _read_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    """Feed stdin lines to the event loop from a daemon thread, which Ctrl-C never waits on."""

    def pump() -> None:
        try:
            for line in sys.stdin:
                loop.call_soon_threadsafe(queue.put_nowait, line)
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()


async def run_console(settings: Settings, out: TextIO | None = None) -> int:
    """Chat with the bot in the terminal until end of input (Ctrl-D) or Ctrl-C."""
    out = out or sys.stdout
    root = logging.getLogger()
    level = root.level
    if level > logging.DEBUG:
        # Keep the conversation readable: only warnings and errors interrupt it.
        root.setLevel(max(level, logging.WARNING))
    chat = ConsoleChat(out=out)
    app = build_application(settings, request=ConsoleRequest(chat))
    print(CONSOLE_BANNER, file=out, flush=True)
    interactive = sys.stdin.isatty()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    _read_lines(asyncio.get_running_loop(), queue)
    await start_app(app)
    try:
        while True:
            if interactive:
                print(CONSOLE_PROMPT, end="", file=out, flush=True)
            line = await queue.get()
            if line is None:
                break
            text = line.strip()
            if not text:
                continue
            update = chat.typed(text)
            if text.isdigit() and chat.choices:
                pressed = chat.pressed(int(text))
                if pressed is None:
                    print(CONSOLE_NOT_A_BUTTON.format(n=text), file=out)
                    continue
                update = pressed
            await app.process_update(Update.de_json(update, app.bot))
            chat.flush()
    finally:
        await stop_app(app)
        root.setLevel(level)
    print(CONSOLE_BYE, file=out, flush=True)
    return 0
