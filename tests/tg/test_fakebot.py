"""Tests for the fake Bot API, driven by the real python-telegram-bot stack.

Every end-to-end bot test relies on the fake answering PTB as Telegram would,
so these tests pin that down through PTB itself (and, where the exact JSON
matters, through raw HTTP): polling and offsets, HTML validation with
Telegram's wording, limits, errors PTB must map to its exception types, and
the update kinds a bot reacts to.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    CallbackQueryHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from tests.fakebot import (
    FakeBotApi,
    FakeBotTimeout,
    HtmlParseError,
    detect_entities,
    parse_html,
    polling,
)
from tests.tg.echo_bot import START_TEXT, build_echo_app

TOKEN = "123456789:TEST-fakebot-token"
USERNAME = "tiesbot_test_bot"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns on every RetryAfter unless this opt-in is set, and the
    # project turns warnings into errors; every 429 test needs it.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN, bot_username=USERNAME) as api:
        yield api
    assert api.server_errors == []


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=f"{fake.url}/bot", base_file_url=f"{fake.url}/file/bot") as b:
        yield b


async def raw_call(
    fake: FakeBotApi, method: str, *, token: str = TOKEN, **params: Any
) -> tuple[int, Any]:
    """POST a JSON body directly, to check the exact response PTB would parse."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.url}/bot{token}/{method}", json=params) as response,
    ):
        return response.status, await response.json()


async def poll_in_flight(fake: FakeBotApi, count: int = 1) -> None:
    await fake.wait_for(
        lambda: sum(c.status is None for c in fake.calls_to("getUpdates")) >= count
    )


# --------------------------------------------------------------------------- PTB plumbing


async def test_initialize_runs_get_me_and_sees_bot_capabilities(fake: FakeBotApi) -> None:
    app = build_echo_app(fake.url, TOKEN)
    await app.initialize()
    try:
        me = app.bot.bot
        assert (me.id, me.username, me.is_bot) == (123456789, USERNAME, True)
        assert me.can_join_groups is True
        assert me.can_read_all_group_messages is False
        assert me.supports_inline_queries is True
    finally:
        await app.shutdown()
    assert [c.method for c in fake.calls] == ["getMe"]


async def test_text_is_echoed_through_long_polling(fake: FakeBotApi) -> None:
    alice = fake.user(1001, "Alice")
    async with polling(build_echo_app(fake.url, TOKEN)):
        start = await fake.send_text(alice, "/start")
        await fake.send_text(alice, "привет 👋 <b> & co")
        replies = await fake.wait_for_messages(alice.id, 2)

    assert start.update["message"]["entities"] == [
        {"type": "bot_command", "offset": 0, "length": 6}
    ]
    assert [m.text for m in replies] == [START_TEXT, "привет 👋 <b> & co"]
    assert all(m.from_bot and m.chat_id == alice.id for m in replies)
    assert any(c.params.get("timeout") == 10 for c in fake.calls_to("getUpdates"))


async def test_offsets_mean_no_update_is_delivered_twice_even_across_restarts(
    fake: FakeBotApi,
) -> None:
    alice = fake.user(1001, "Alice")
    injected: list[int | None] = []
    async with polling(build_echo_app(fake.url, TOKEN)):
        for i in range(4):
            injected.append((await fake.send_text(alice, f"m{i}")).update_id)
            await fake.wait_for_messages(alice.id, i + 1)
    assert fake.pending_updates == []  # the shutdown call confirmed the last offset

    async with polling(build_echo_app(fake.url, TOKEN)):
        injected.append((await fake.send_text(alice, "after restart")).update_id)
        await fake.wait_for_messages(alice.id, 5)

    assert fake.delivered_update_ids == injected
    assert [m.text for m in fake.messages_to(alice.id)] == [
        "m0",
        "m1",
        "m2",
        "m3",
        "after restart",
    ]


async def test_get_updates_honours_offset_limit_and_timeout(fake: FakeBotApi, bot: Bot) -> None:
    alice = fake.user(1001, "Alice")
    ids = [(await fake.send_text(alice, f"u{i}")).update_id for i in range(3)]

    first = await bot.get_updates(limit=2)
    assert [u.update_id for u in first] == ids[:2]
    rest = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert [u.update_id for u in rest] == ids[2:]
    assert [u.update_id for u in await bot.get_updates()] == ids[2:]  # not yet confirmed
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()

    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(offset=rest[-1].update_id + 1, timeout=5))
    await poll_in_flight(fake)
    late = await fake.send_text(alice, "late")
    woken = await poll
    assert [u.update_id for u in woken] == [late.update_id]
    assert loop.time() - started < 1.5  # answered on arrival, not at the timeout

    started = loop.time()
    confirm = woken[-1].update_id + 1
    status, body = await raw_call(fake, "getUpdates", offset=confirm, timeout=0.2)
    assert (status, body) == (200, {"ok": True, "result": []})
    assert loop.time() - started >= 0.19


async def test_allowed_updates_and_group_privacy_decide_what_reaches_the_bot(
    fake: FakeBotApi,
) -> None:
    alice = fake.user(1001, "Alice")
    group = fake.group(-2001, "Friends of Minsk", members=[alice])

    assert not (await fake.send_text(alice, "just chatting", chat=group)).delivered
    assert (await fake.send_text(alice, f"/help@{USERNAME}", chat=group)).delivered
    assert not (await fake.send_text(alice, "/help@other_bot", chat=group)).delivered
    assert (await fake.send_text(alice, f"hey @{USERNAME}", chat=group)).delivered

    status, _ = await raw_call(fake, "getUpdates", allowed_updates=["callback_query"])
    assert status == 200
    assert not (await fake.send_text(alice, "hi")).delivered
    await raw_call(fake, "getUpdates", allowed_updates=[])  # back to Telegram's default
    assert (await fake.send_text(alice, "hi again")).delivered


async def test_stop_releases_a_pending_long_poll() -> None:
    fake = FakeBotApi(token=TOKEN)
    await fake.start()
    loop = asyncio.get_running_loop()
    poll = asyncio.create_task(raw_call(fake, "getUpdates", timeout=30))
    await poll_in_flight(fake)
    started = loop.time()
    await fake.stop()
    assert await poll == (200, {"ok": True, "result": []})
    assert loop.time() - started < 1.5


async def test_a_second_poller_terminates_the_first_with_409(fake: FakeBotApi) -> None:
    alice = fake.user(1001, "Alice")
    first = asyncio.create_task(raw_call(fake, "getUpdates", timeout=5))
    await poll_in_flight(fake)
    second = asyncio.create_task(raw_call(fake, "getUpdates", timeout=5))
    status, body = await first
    assert status == 409
    assert body["description"] == (
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running"
    )
    update = await fake.send_text(alice, "hello")
    status, body = await second
    assert [u["update_id"] for u in body["result"]] == [update.update_id]


async def test_webhooks_are_recorded_and_block_get_updates(fake: FakeBotApi, bot: Bot) -> None:
    assert await bot.set_webhook("https://bot.example.org/hook", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example.org/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    with pytest.raises(BadRequest, match=r"(?i)https url must be provided"):
        await bot.set_webhook("http://insecure.example.org/hook")
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()
    assert [name for name, _ in fake.webhook_history] == [
        "setWebhook",
        "setWebhook",
        "deleteWebhook",
    ]
    assert fake.webhook_history[0][1]["secret_token"] == "s3cret"


# ------------------------------------------------------------------------- HTML and limits


async def test_html_is_parsed_into_text_and_entities(fake: FakeBotApi, bot: Bot) -> None:
    alice = fake.user(1001, "Alice", started=True)
    source = (
        "<b>Minsk</b> &amp; <i>Baku</i> &lt;3 "
        '<a href="https://example.org/x?a=1&amp;b=2">link</a> &#128512;'
    )
    sent = await bot.send_message(alice.id, source, parse_mode=ParseMode.HTML)

    stored = fake.last_message_to(alice.id)
    assert stored is not None
    assert stored.text == sent.text == "Minsk & Baku <3 link 😀"
    assert stored.html == source
    assert stored.entities == [
        {"type": "bold", "offset": 0, "length": 5},
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "text_link", "offset": 16, "length": 4, "url": "https://example.org/x?a=1&b=2"},
    ]
    assert [e.type for e in sent.entities] == ["bold", "italic", "text_link"]
    assert stored.date == int(sent.date.timestamp())
    assert sent.from_user is not None
    assert sent.from_user.id == bot.id


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("<p>hi</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("Привет <br>", 'Unsupported start tag "br" at byte offset 13'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        (
            "Tom & Jerry",
            'Unsupported HTML entity starting with "&" at byte offset 4; escape it as &amp;',
        ),
    ],
)
async def test_malformed_html_is_rejected_with_telegrams_wording(
    fake: FakeBotApi, bot: Bot, source: str, reason: str
) -> None:
    alice = fake.user(1001, "Alice", started=True)
    description = f"Bad Request: can't parse entities: {reason}"
    with pytest.raises(BadRequest) as excinfo:
        await bot.send_message(alice.id, source, parse_mode=ParseMode.HTML)
    assert fake.calls[-1].description == description
    assert excinfo.value.message == description.removeprefix("Bad Request: ").capitalize()
    assert fake.sent == []


async def test_escaped_text_always_parses(fake: FakeBotApi, bot: Bot) -> None:
    alice = fake.user(1001, "Alice", started=True)
    nasty = 'a < b && c > "d" </b> &amp; 1<2'
    await bot.send_message(alice.id, f"<b>{html.escape(nasty)}</b>", parse_mode="HTML")
    stored = fake.last_message_to(alice.id)
    assert stored is not None
    assert stored.text == nasty


async def test_length_and_emptiness_limits(fake: FakeBotApi, bot: Bot) -> None:
    alice = fake.user(1001, "Alice", started=True)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alice.id, "a" * 4097)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alice.id, "😀" * 2049)  # 2049 chars, 4098 UTF-16 units
    await bot.send_message(alice.id, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    for empty in ("   \n", "<b></b>"):
        with pytest.raises(BadRequest, match="Message text is empty"):
            await bot.send_message(alice.id, empty, parse_mode="HTML")
    descriptions = [c.description for c in fake.calls_to("sendMessage") if not c.ok]
    assert descriptions == [
        "Bad Request: message is too long",
        "Bad Request: message is too long",
        "Bad Request: message text is empty",
        "Bad Request: message text is empty",
    ]
    assert len(fake.sent) == 1


async def test_inline_keyboard_limits(fake: FakeBotApi, bot: Bot) -> None:
    alice = fake.user(1001, "Alice", started=True)

    def keyboard(count: int, data: str = "x") -> InlineKeyboardMarkup:
        rows = [[InlineKeyboardButton(str(i), callback_data=data)] for i in range(count)]
        return InlineKeyboardMarkup(rows)

    await bot.send_message(alice.id, "ok", reply_markup=keyboard(1, "d" * 64))
    await bot.send_message(alice.id, "ok", reply_markup=keyboard(100))
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(alice.id, "no", reply_markup=keyboard(1, "я" * 33))  # 66 bytes
    with pytest.raises(BadRequest, match="Reply markup is too long"):
        await bot.send_message(alice.id, "no", reply_markup=keyboard(101))
    assert fake.calls[-2].description == "Bad Request: BUTTON_DATA_INVALID"
    assert len(fake.sent) == 2
    assert fake.sent[0].callback_data == ["d" * 64]


async def test_editing_follows_telegrams_rules(fake: FakeBotApi, bot: Bot) -> None:
    alice = fake.user(1001, "Alice", started=True)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Again", callback_data="again")]])
    sent = await bot.send_message(alice.id, "<b>v1</b>", parse_mode="HTML", reply_markup=markup)

    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<b>v1</b>", alice.id, sent.message_id, parse_mode="HTML", reply_markup=markup
        )
    assert fake.calls[-1].description == NOT_MODIFIED
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=markup)

    edited = await bot.edit_message_text("v2", alice.id, sent.message_id)
    assert isinstance(edited, type(sent))
    assert edited.edit_date is not None
    stored = fake.messages_to(alice.id)[0]
    assert (stored.text, stored.history, stored.reply_markup) == ("v2", ["v1"], None)

    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("v3", alice.id, 999)
    assert await bot.delete_message(alice.id, sent.message_id)
    assert fake.messages_to(alice.id) == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(alice.id, sent.message_id)


# ------------------------------------------------------------------------ errors and faults


async def test_unknown_chats_unstarted_and_blocked_users(fake: FakeBotApi, bot: Bot) -> None:
    alice = fake.user(1001, "Alice")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "hi")
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(alice.id, "hi")
    await fake.send_text(alice, "/start")
    await bot.send_message(alice.id, "hi")

    fake.block(alice)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(alice.id, "still there?")
    fake.unblock(alice)
    await bot.send_message(alice.id, "welcome back")
    assert [m.text for m in fake.messages_to(alice.id)] == ["hi", "welcome back"]


async def test_429_carries_retry_after_for_ptb(fake: FakeBotApi, bot: Bot) -> None:
    alice = fake.user(1001, "Alice", started=True)
    fake.fail_next("sendMessage", "429", retry_after=3)
    with pytest.raises(RetryAfter) as excinfo:
        await bot.send_message(alice.id, "hi")
    assert excinfo.value.retry_after == dtm.timedelta(seconds=3)

    fake.fail_next("sendMessage", "429", retry_after=7)
    assert await raw_call(fake, "sendMessage", chat_id=alice.id, text="hi") == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
    )
    assert fake.sent == []


async def test_a_bot_that_retries_honours_retry_after(fake: FakeBotApi) -> None:
    alice = fake.user(1001, "Alice")
    fake.fail_next("sendMessage", "429", retry_after=1)
    app = build_echo_app(fake.url, TOKEN, rate_limiter=AIORateLimiter(max_retries=2))
    async with polling(app):
        await fake.send_text(alice, "hello")
        await fake.wait_for_messages(alice.id, 1)
    first, second = fake.calls_to("sendMessage")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 1.0


async def test_flood_model_answers_429_when_enabled(fake: FakeBotApi, bot: Bot) -> None:
    alice = fake.user(1001, "Alice", started=True)
    bob = fake.user(1002, "Bob", started=True)
    fake.rate_limit(per_second=None, per_chat_per_minute=2)
    await bot.send_message(alice.id, "1")
    await bot.send_message(alice.id, "2")
    with pytest.raises(RetryAfter):
        await bot.send_message(alice.id, "3")
    await bot.send_message(bob.id, "other chats are unaffected")
    description = fake.calls_to("sendMessage")[2].description or ""
    assert description.startswith("Too Many Requests: retry after ")
    assert 1 <= int(description.rsplit(" ", 1)[1]) <= 60
    fake.clear_rate_limit()
    await bot.send_message(alice.id, "3")


async def test_forbidden_server_errors_and_dropped_connections(fake: FakeBotApi, bot: Bot) -> None:
    alice = fake.user(1001, "Alice", started=True)
    fake.fail_next("sendMessage", "403")
    fake.fail_next("sendMessage", "500")
    fake.fail_next("sendMessage", "502")
    fake.fail_next("sendMessage", "drop")
    with pytest.raises(Forbidden, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(alice.id, "1")
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(alice.id, "2")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(alice.id, "3")
    with pytest.raises(NetworkError, match="Server disconnected"):
        await bot.send_message(alice.id, "4")
    await bot.send_message(alice.id, "5")
    assert [c.status for c in fake.calls_to("sendMessage")] == [403, 500, 502, 0, 200]
    assert [m.text for m in fake.sent] == ["5"]


async def test_a_slow_answer_times_out_although_the_message_was_sent(
    fake: FakeBotApi, bot: Bot
) -> None:
    alice = fake.user(1001, "Alice", started=True)
    fake.fail_next("sendMessage", "delay", delay=3)
    with pytest.raises(TimedOut):
        await bot.send_message(alice.id, "slow", read_timeout=0.2)
    assert [m.text for m in fake.sent] == ["slow"]  # a blind retry would duplicate it


async def test_wrong_token_and_unknown_method(fake: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("123456789:WRONG", base_url=f"{fake.url}/bot"):
            pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy")
    assert await raw_call(fake, "sendTelepathy") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    assert await raw_call(fake, "getMe", token="1:nope") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )


async def test_server_listens_on_loopback_only(fake: FakeBotApi) -> None:
    host, port = fake.address
    assert host == "127.0.0.1"
    assert port > 0
    assert fake.url == f"http://127.0.0.1:{port}"


# ---------------------------------------------------------------------- request formats


async def test_form_json_and_query_requests_are_equivalent(fake: FakeBotApi) -> None:
    alice = fake.user(1001, "Alice", started=True)
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    url = f"{fake.url}/bot{TOKEN}/sendMessage"
    async with aiohttp.ClientSession() as session:
        form = {"chat_id": str(alice.id), "text": "form", "reply_markup": json.dumps(markup)}
        async with session.post(url, data=form) as response:
            assert response.status == 200
        nested = {"chat_id": alice.id, "text": "json", "reply_markup": markup}
        async with session.post(url, json=nested) as response:
            assert response.status == 200
        encoded = {"chat_id": alice.id, "text": "json-str", "reply_markup": json.dumps(markup)}
        async with session.post(url, json=encoded) as response:
            assert response.status == 200
        query = {"chat_id": str(alice.id), "text": "query"}
        async with session.get(url, params=query) as response:
            assert (await response.json())["result"]["text"] == "query"
    assert [m.reply_markup for m in fake.sent] == [markup, markup, markup, None]
    assert [c.params["chat_id"] for c in fake.calls] == [alice.id] * 4


# ------------------------------------------------------------------ updates a bot handles


async def test_button_press_reaches_callback_query_handler(fake: FakeBotApi) -> None:
    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer(f"Got {query.data}")
        await query.edit_message_text(f"You chose {query.data}")

    alice = fake.user(1001, "Alice", started=True)
    app = build_echo_app(fake.url, TOKEN)
    app.add_handler(CallbackQueryHandler(on_button))
    async with polling(app):
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("Yes", callback_data="yes")],
                [InlineKeyboardButton("No", callback_data="no")],
            ]
        )
        await app.bot.send_message(alice.id, "Choose", reply_markup=keyboard)
        menu = fake.messages_to(alice.id)[0]
        assert menu.button("Yes")["callback_data"] == "yes"
        with pytest.raises(ValueError, match="no button"):
            await fake.press_button(alice, menu, "maybe")

        press = await fake.press_button(alice, menu, "yes")
        answers = await fake.wait_for(lambda: fake.callback_answers)
        await fake.wait_for(lambda: menu.text == "You chose yes")

    assert (answers[0].callback_query_id, answers[0].text) == (press.query_id, "Got yes")
    assert (answers[0].data, answers[0].user_id) == ("yes", alice.id)
    assert menu.history == ["Choose"]
    assert menu.reply_markup is None  # editing text without a markup drops the keyboard
    status, body = await raw_call(fake, "answerCallbackQuery", callback_query_id=press.query_id)
    assert status == 400
    assert "query is too old" in body["description"]


async def test_inline_query_answer_is_stored(fake: FakeBotApi) -> None:
    async def on_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.inline_query is not None
        content = InputTextMessageContent("<b>Minsk</b> ↔ Baku", parse_mode=ParseMode.HTML)
        result = InlineQueryResultArticle("minsk", "Minsk", content)
        await update.inline_query.answer([result], cache_time=0)

    alice = fake.user(1001, "Alice")
    app = build_echo_app(fake.url, TOKEN)
    app.add_handler(InlineQueryHandler(on_inline))
    async with polling(app):
        query = await fake.inline_query(alice, "minsk")
        answers = await fake.wait_for(lambda: fake.inline_answers)
    answer = answers[0]
    assert (answer.inline_query_id, answer.query, answer.user_id) == (
        query.query_id,
        "minsk",
        alice.id,
    )
    assert answer.results[0]["title"] == "Minsk"
    assert answer.texts == ["Minsk ↔ Baku"]
    assert answer.cache_time == 0


async def test_chosen_inline_result_with_keyboard_can_be_edited(
    fake: FakeBotApi, bot: Bot
) -> None:
    alice = fake.user(1001, "Alice")
    query = await fake.inline_query(alice, "baku")
    assert query.query_id is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more")]])
    article = InlineQueryResultArticle(
        "baku", "Baku", InputTextMessageContent("Baku facts"), reply_markup=keyboard
    )
    assert await bot.answer_inline_query(query.query_id, [article])
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_inline_query(query.query_id, [article])

    chosen = await fake.choose_inline_result(alice, "baku", query="baku")
    inline = chosen.message
    assert inline is not None
    assert inline.inline_message_id is not None
    press = await fake.press_button(alice, inline, "more")
    assert press.update["callback_query"]["inline_message_id"] == inline.inline_message_id
    assert await bot.edit_message_text(
        "More Baku facts", inline_message_id=inline.inline_message_id
    )
    assert fake.inline_messages[inline.inline_message_id].text == "More Baku facts"


async def test_channel_posts_reach_only_an_admin_bot(fake: FakeBotApi) -> None:
    channel = fake.channel(-1003, "Ties news", bot_admin=False)
    assert not (await fake.channel_post(channel, "hidden")).delivered
    fake.set_bot_admin(channel)
    post = await fake.channel_post(channel, "visible", author_signature="Editor")
    assert post.delivered
    assert post.update["channel_post"]["sender_chat"]["id"] == channel.id


async def test_document_upload_get_file_and_download_round_trip(fake: FakeBotApi) -> None:
    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        assert message.document is not None
        tg_file = await message.document.get_file()
        data = bytes(await tg_file.download_as_bytearray())
        name = message.document.file_name or "file"
        await message.reply_text(f"{name}: {len(data)} bytes")
        await message.reply_document(
            document=data.upper(),
            filename=f"upper-{name}",
            caption=f"<i>{html.escape(name)}</i> shouted",
            parse_mode=ParseMode.HTML,
        )

    alice = fake.user(1001, "Alice")
    payload = b"country,partner\nBY,AZ\nBY,IR\n"
    app = build_echo_app(fake.url, TOKEN)
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    async with polling(app):
        await fake.send_document(alice, "ties.csv", payload, caption="please check")
        replies = await fake.wait_for_messages(alice.id, 2)
        reply_doc = replies[1].document
        assert reply_doc is not None
        tg_file = await app.bot.get_file(reply_doc.file_id)
        downloaded = bytes(await tg_file.download_as_bytearray())

    assert replies[0].text == f"ties.csv: {len(payload)} bytes"
    assert (reply_doc.file_name, reply_doc.data) == ("upper-ties.csv", payload.upper())
    assert (replies[1].caption, replies[1].html) == ("ties.csv shouted", "<i>ties.csv</i> shouted")
    assert replies[1].caption_entities == [{"type": "italic", "offset": 0, "length": 8}]
    assert fake.documents == [replies[1]]
    assert downloaded == payload.upper()
    assert [c.method for c in fake.calls if c.method == "getFile"] == ["getFile", "getFile"]


async def test_admin_lists_and_bot_rights_are_configurable(fake: FakeBotApi, bot: Bot) -> None:
    alice, bob, carol = fake.user(1, "Alice"), fake.user(2, "Bob"), fake.user(3, "Carol")
    group = fake.supergroup(-1001, "Ties", members=[bob], admins=[alice], creator=carol)

    admins = await bot.get_chat_administrators(group.id)
    assert [(m.user.id, m.status) for m in admins] == [(3, "creator"), (1, "administrator")]
    assert (await bot.get_chat_member(group.id, alice.id)).status == "administrator"
    assert (await bot.get_chat_member(group.id, bob.id)).status == "member"
    assert (await bot.get_chat_member(group.id, bot.id)).status == "member"
    fake.set_admins(group, [bob])
    assert (await bot.get_chat_member(group.id, alice.id)).status == "member"

    channel = fake.channel(-1002, "Ties news", username="ties_news", bot_admin=False)
    assert (await bot.get_chat_member(channel.id, bot.id)).status == "left"
    with pytest.raises(BadRequest, match="Member list is inaccessible"):
        await bot.get_chat_administrators(channel.id)
    with pytest.raises(Forbidden, match="not a member of the channel chat"):
        await bot.send_message("@ties_news", "news")

    fake.set_bot_admin(channel)
    me = await bot.get_chat_member(channel.id, bot.id)
    assert me.status == "administrator"
    assert getattr(me, "can_post_messages", None) is True
    posted = await bot.send_message("@ties_news", "news")
    assert posted.sender_chat is not None
    assert posted.sender_chat.id == channel.id
    full = await bot.get_chat(channel.id)
    assert (full.type, full.title, full.username) == ("channel", "Ties news", "ties_news")


async def test_commands_are_kept_per_scope_and_language(fake: FakeBotApi, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("ask", "Ask")])
    await bot.set_my_commands([BotCommand("start", "Старт")], language_code="ru")
    await bot.set_my_commands([BotCommand("admin", "Admin")], scope=BotCommandScopeChat(-1001))

    assert [c.command for c in await bot.get_my_commands()] == ["start", "ask"]
    assert [c.description for c in await bot.get_my_commands(language_code="ru")] == ["Старт"]
    scoped = await bot.get_my_commands(scope=BotCommandScopeChat(-1001))
    assert [c.command for c in scoped] == ["admin"]
    assert fake.commands_for({"type": "chat", "chat_id": -1001}) == [
        {"command": "admin", "description": "Admin"}
    ]

    await bot.delete_my_commands(language_code="ru")
    assert await bot.get_my_commands(language_code="ru") == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "nope")])
    assert len(fake.commands) == 2


async def test_chat_actions_and_leaving_chats(fake: FakeBotApi, bot: Bot) -> None:
    alice = fake.user(1001, "Alice", started=True)
    group = fake.group(-2001, "Friends", members=[alice])
    await bot.send_chat_action(alice.id, "typing")
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(alice.id, "dancing")
    assert [(a.chat_id, a.action) for a in fake.chat_actions] == [(alice.id, "typing")]

    assert await bot.leave_chat(group.id)
    assert fake.left_chats == [group.id]
    with pytest.raises(Forbidden, match="not a member of the group chat"):
        await bot.send_message(group.id, "anyone?")


async def test_user_edits_and_my_chat_member_updates(fake: FakeBotApi, bot: Bot) -> None:
    alice = fake.user(1001, "Alice")
    first = await fake.send_text(alice, "helo")
    edit = await fake.edit_text(alice, first, "hello")
    kicked = await fake.my_chat_member(alice, alice, "kicked")
    updates = await bot.get_updates()

    assert [u.update_id for u in updates] == [first.update_id, edit.update_id, kicked.update_id]
    assert updates[1].edited_message is not None
    assert updates[1].edited_message.text == "hello"
    assert updates[2].my_chat_member is not None
    assert updates[2].my_chat_member.new_chat_member.status == "kicked"
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(alice.id, "hi")


async def test_wait_for_fails_fast_with_a_report(fake: FakeBotApi) -> None:
    with pytest.raises(FakeBotTimeout, match=r"condition not met within 0\.05s"):
        await fake.wait_for(lambda: False, timeout=0.05)


# ------------------------------------------------------------------------ parser details


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        (
            '<pre><code class="language-python">print(1)</code></pre>',
            "print(1)",
            [{"type": "pre", "offset": 0, "length": 8, "language": "python"}],
        ),
        ("<code>x</code>", "x", [{"type": "code", "offset": 0, "length": 1}]),
        (
            '<tg-spoiler>a</tg-spoiler><span class="tg-spoiler">b</span>',
            "ab",
            [
                {"type": "spoiler", "offset": 0, "length": 1},
                {"type": "spoiler", "offset": 1, "length": 1},
            ],
        ),
        (
            "<blockquote expandable>q</blockquote><blockquote>r</blockquote>",
            "qr",
            [
                {"type": "expandable_blockquote", "offset": 0, "length": 1},
                {"type": "blockquote", "offset": 1, "length": 1},
            ],
        ),
        (
            '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
            "👍",
            [
                {
                    "type": "custom_emoji",
                    "offset": 0,
                    "length": 2,
                    "custom_emoji_id": "5368324170671202286",
                }
            ],
        ),
        (
            "&#x1F600;<B>b</B>&quot;",
            '😀b"',
            [{"type": "bold", "offset": 2, "length": 1}],
        ),
        (
            "<u><s>x</s></u>",
            "x",
            [
                {"type": "underline", "offset": 0, "length": 1},
                {"type": "strikethrough", "offset": 0, "length": 1},
            ],
        ),
        (
            '<a href="example.org">e</a>',
            "e",
            [
                {"type": "text_link", "offset": 0, "length": 1, "url": "http://example.org/"},
            ],
        ),
        ("<b></b>x", "x", []),
    ],
)
def test_parse_html_entities(source: str, text: str, entities: list[dict[str, Any]]) -> None:
    parsed = parse_html(source)
    assert (parsed.text, parsed.entities) == (text, entities)


def test_lenient_ampersand_matches_tdlib() -> None:
    assert parse_html("Tom & Jerry &nbsp;", strict_ampersand=False).text == "Tom & Jerry &nbsp;"
    with pytest.raises(HtmlParseError):
        parse_html("Tom & Jerry")


def test_detect_entities_like_telegram() -> None:
    text = "/start@tiesbot_test_bot hi @alice #Minsk see https://example.org. mail a@b.co"
    kinds = [
        (e["type"], text[e["offset"] : e["offset"] + e["length"]]) for e in detect_entities(text)
    ]
    assert kinds == [
        ("bot_command", "/start@tiesbot_test_bot"),
        ("mention", "@alice"),
        ("hashtag", "#Minsk"),
        ("url", "https://example.org"),
        ("email", "a@b.co"),
    ]
    assert detect_entities("a/b and 1/2") == []
