"""Admin features refuse everyone else: every admin command and every admin button, tried by a
non-admin, in a group, through an edited message and with forged or replayed callback data.

Each attempt must get at most the same short "not allowed" (revealing nothing about drafts or
facts) and must change nothing: the test compares a dump of every table before and after.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler

from bot.tg.commands import ADMIN_COMMANDS
from bot.tg.texts import ADMIN, EN, RU
from tests.fakebot import FakeBotApi, FakeUser, StoredMessage
from tests.tg.admin_helpers import (
    EDITOR_ID,
    FACT_ID,
    NOT_ALLOWED,
    dump,
    editor,
    owner,
    press,
    stranger,
    texts_of,
)
from tests.tg.conftest import Harness

GROUP_ID = -100_555

# Every admin command, with arguments where it takes some.
ATTEMPTS = (
    "/admin",
    "/add",
    f"/add\ncountry: iran\ntopic: trade\ndate: 2023\nid: {FACT_ID}",
    f"/edit {FACT_ID}",
    f"/delete {FACT_ID}",
    f"/restore {FACT_ID}",
    f"/history {FACT_ID}",
    f"/undo {FACT_ID}",
    "/find iran",
    "/unanswered",
    "/unanswered daily on",
    "/stats",
    "/export",
    "/import",
    "/admins",
    "/admins add 1001",
    f"/admins remove {EDITOR_ID}",
    "/digest preview",
    "/digest send",
    "/digest status",
    "/cancel",
)


def registered_commands(handlers: Sequence[BaseHandler[Any, Any, Any]]) -> set[str]:
    found: set[str] = set()
    for handler in handlers:
        if isinstance(handler, CommandHandler):
            found |= set(handler.commands)
        elif isinstance(handler, ConversationHandler):
            inner = [*handler.entry_points, *handler.fallbacks]
            inner += [h for hs in handler.states.values() for h in hs]
            found |= registered_commands(inner)
    return found


def test_every_admin_command_is_tried_here() -> None:
    tried = {a.split()[0].lstrip("/") for a in ATTEMPTS}
    assert tried == set(ADMIN_COMMANDS)


async def test_admin_commands_are_registered_but_not_advertised(
    bot: Harness, fake: FakeBotApi
) -> None:
    handlers = [h for group in bot.app.handlers.values() for h in group]
    assert set(ADMIN_COMMANDS) <= registered_commands(handlers)
    for lang in ("", "ru"):
        menu = {c["command"] for c in fake.commands_for(None, lang)}
        assert not menu & set(ADMIN_COMMANDS)
    help_text = texts_of(await bot.say(stranger(fake), "/help"))
    for name in ADMIN_COMMANDS:
        assert f"/{name} " not in help_text


async def refused(
    bot: Harness, user: FakeUser, text: str, chat: int | None = None
) -> list[StoredMessage]:
    replies = await bot.say(user, text, chat)
    assert [m.text for m in replies] == [NOT_ALLOWED], (text, texts_of(replies))
    return replies


@pytest.mark.parametrize("attempt", ATTEMPTS)
async def test_a_stranger_is_refused_every_admin_command(
    bot: Harness, fake: FakeBotApi, attempt: str
) -> None:
    olga, alice = owner(fake), stranger(fake)
    await bot.say(olga, "/start")  # the owner's chat exists, so a leak there would show
    owner_messages = len(fake.messages_to(olga.id))
    database = bot.app.bot_data.settings.database_path
    before = dump(database)
    await refused(bot, alice, attempt)
    await refused(
        bot,
        alice,
        attempt.replace(attempt.split()[0], attempt.split()[0] + "@" + fake.bot_username, 1),
    )
    assert dump(database) == before
    assert len(fake.messages_to(olga.id)) == owner_messages
    assert fake.documents == []


async def test_the_refusal_is_in_the_users_language(bot: Harness, fake: FakeBotApi) -> None:
    boris = fake.user(1002, "Boris", "ru")
    replies = await bot.say(boris, "/stats")
    assert [m.text for m in replies] == [ADMIN.not_allowed["ru"]]
    assert ADMIN.not_allowed["ru"] not in (EN.welcome, RU.welcome)


async def test_a_stranger_cannot_import_a_file(bot: Harness, fake: FakeBotApi) -> None:
    alice = stranger(fake)
    database = bot.app.bot_data.settings.database_path
    before = dump(database)
    injected = await fake.send_document(alice, "iran.yaml", b"[]", "/import")
    await bot.wait_processed(injected)
    assert [m.text for m in fake.messages_to(alice.id)] == [NOT_ALLOWED]
    assert fake.calls_to("getFile") == []
    assert dump(database) == before


@pytest.mark.parametrize("attempt", ATTEMPTS)
async def test_admin_commands_are_refused_in_a_group_even_for_owners(
    bot: Harness, fake: FakeBotApi, attempt: str
) -> None:
    olga, erik, alice = owner(fake), editor(fake), stranger(fake)
    await bot.say(olga, f"/admins add {EDITOR_ID}")
    group = fake.group(GROUP_ID, "Readers", members=[olga, erik, alice])
    database = bot.app.bot_data.settings.database_path
    before = dump(database)
    for user in (olga, erik, alice):
        await refused(bot, user, attempt, group.id)
    assert dump(database) == before
    assert fake.documents == []


async def test_edited_messages_never_trigger_admin_commands(
    bot: Harness, fake: FakeBotApi
) -> None:
    olga = owner(fake)
    database = bot.app.bot_data.settings.database_path
    sent = await fake.send_text(olga, "hello")
    await bot.wait_processed(sent)
    before, count = dump(database), len(fake.messages_to(olga.id))
    for attempt in ATTEMPTS:
        edited = await fake.edit_text(olga, sent, attempt)
        await bot.wait_processed(edited)
    assert len(fake.messages_to(olga.id)) == count
    assert dump(database) == before


async def test_an_edited_answer_does_not_move_a_conversation(
    bot: Harness, fake: FakeBotApi
) -> None:
    olga = owner(fake)
    await bot.say(olga, "/add")
    sent = await fake.send_text(olga, "mars")
    await bot.wait_processed(sent)
    count = len(fake.messages_to(olga.id))
    edited = await fake.edit_text(olga, sent, "iran")
    await bot.wait_processed(edited)
    assert len(fake.messages_to(olga.id)) == count
    replies = await bot.say(olga, "iran")  # still at the country step
    assert "Step 2 of 11" in texts_of(replies)


def kind(data: str) -> str:
    """adm:rt, adm:uq, or the step of a conversation button (c, t, s, f, k, …)."""
    parts = data.split(":")
    return ":".join(parts[:2]) if parts[0] == "adm" else parts[2]


async def admin_buttons(bot: Harness, fake: FakeBotApi) -> list[tuple[StoredMessage, str]]:
    """Real admin buttons of every kind, each with the message it is on."""
    olga, alice = owner(fake), stranger(fake)
    await bot.ask(alice, "Who won the zebra derby in Gomel?")
    messages = []
    for command in (f"/delete {FACT_ID}", "/unanswered", "/add"):
        messages += await bot.say(olga, command)
    await bot.say(olga, "/cancel")
    messages += await bot.say(olga, f"/edit {FACT_ID}")
    await press(bot, olga, "answer.en")
    messages += await bot.say(olga, "Changed by the owner.")
    found = [(m, d) for m in messages for d in m.callback_data]
    assert {kind(d) for _, d in found} >= {"adm:rt", "adm:uq", "c", "k"}
    return found


async def test_replayed_admin_buttons_do_nothing_for_a_stranger(
    bot: Harness, fake: FakeBotApi
) -> None:
    olga, alice = owner(fake), stranger(fake)
    buttons = await admin_buttons(bot, fake)
    database = bot.app.bot_data.settings.database_path
    before = dump(database)
    counts = (len(fake.messages_to(olga.id)), len(fake.messages_to(alice.id)))
    for message, data in buttons:
        await bot.press(alice, message, data)
        answer = fake.callback_answers[-1]
        assert (answer.data, answer.text) == (data, NOT_ALLOWED)
    assert (len(fake.messages_to(olga.id)), len(fake.messages_to(alice.id))) == counts
    assert dump(database) == before
    # The owner's own conversation is untouched: their Save still works.
    replies = await press(bot, olga, ADMIN.button_save)
    assert "Saved ir-30th-anniversary" in texts_of(replies)


def forged(message: StoredMessage, data: str) -> None:
    """What a modified client can do: put any callback data on a button."""
    message.reply_markup = {"inline_keyboard": [[{"text": "forged", "callback_data": data}]]}


async def test_forged_admin_buttons_do_nothing(bot: Harness, fake: FakeBotApi) -> None:
    olga, alice = owner(fake), stranger(fake)
    buttons = await admin_buttons(bot, fake)
    real = [data for _, data in buttons]
    guesses = [
        "adm:rt:deadbeef:y",
        "adm:uq:deadbeef:p",
        "adm:uq:deadbeef:i",
        "adm:uq:deadbeef:n",
        "adc:deadbeef:c:iran",
        "adc:deadbeef:k:y",
        "adc:deadbeef:f:0",
        "adm:xx:1:2",
        "adc:",
        "adm:",
    ]
    group = fake.group(GROUP_ID, "Readers", members=[olga, alice])
    answer = await bot.ask(alice, "When did Lukashenka visit Iran?")
    in_group = await bot.ask(olga, "/ask When did Lukashenka visit Iran?", group.id)
    database = bot.app.bot_data.settings.database_path
    before = dump(database)
    counts = [len(fake.messages_to(c)) for c in (olga.id, alice.id, group.id)]
    for data in real + guesses:
        forged(answer, data)
        await bot.press(alice, answer, data)  # a stranger, in their own chat
        assert fake.callback_answers[-1].text == NOT_ALLOWED, data
        forged(in_group, data)
        await bot.press(olga, in_group, data)  # the owner, but in a group
        assert fake.callback_answers[-1].text == NOT_ALLOWED, data
    assert [len(fake.messages_to(c)) for c in (olga.id, alice.id, group.id)] == counts
    assert dump(database) == before


async def test_forged_buttons_of_no_current_draft_only_expire_for_an_admin(
    bot: Harness, fake: FakeBotApi
) -> None:
    olga = owner(fake)
    message = (await bot.say(olga, "/admin"))[0]
    before = dump(bot.app.bot_data.settings.database_path)
    for data in ("adm:rt:deadbeef:y", "adc:deadbeef:k:y", "adm:uq:deadbeef:n"):
        forged(message, data)
        await bot.press(olga, message, data)
        assert fake.callback_answers[-1].text == ADMIN.expired, data
    assert dump(bot.app.bot_data.settings.database_path) == before


async def test_a_revoked_editor_is_stopped_mid_conversation(
    bot: Harness, fake: FakeBotApi
) -> None:
    olga, erik = owner(fake), editor(fake)
    await bot.say(olga, f"/admins add {EDITOR_ID}")
    await bot.say(erik, f"/edit {FACT_ID}")
    await press(bot, erik, "answer.en")
    await bot.say(erik, "Erik's answer.")
    await bot.say(olga, f"/admins remove {EDITOR_ID}")
    database = bot.app.bot_data.settings.database_path
    before = dump(database)
    await press(bot, erik, ADMIN.button_save)
    assert fake.callback_answers[-1].text == NOT_ALLOWED
    assert dump(database) == before
    fact = bot.service.fact(FACT_ID)
    assert fact is not None
    assert fact.answer["en"] != "Erik's answer."
