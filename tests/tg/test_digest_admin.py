"""/digest preview, send and status for owners and editors; refused to anyone else, in groups,
and on buttons pressed by someone who is (no longer) an admin.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.tg.texts import ADMIN, DIGEST
from tests.fakebot import FakeBotApi
from tests.tg.admin_helpers import EDITOR_ID, NOT_ALLOWED, dump, editor, press, stranger, texts_of
from tests.tg.conftest import Harness
from tests.tg.digest_helpers import (
    CHANNEL_ID,
    CHANNEL_NAME,
    GROUP_ID,
    MINSK,
    admin_texts,
    digest_bot,
    digest_parts_to,
    digest_settings,
    digests_to,
    fire_weekly,
    ledger,
    make_channel,
    owner,
    readers,
    subscribe_all,
)

MONDAY = dt.datetime(2031, 3, 3, 9, 0, tzinfo=MINSK)
THURSDAY = MONDAY + dt.timedelta(days=3)


@pytest.fixture
async def desk(fake: FakeBotApi, database: Path) -> AsyncIterator[Harness]:
    """The bot with a channel, two subscribers (one Russian) and the clock on a Thursday."""
    owner(fake)
    make_channel(fake)
    async with digest_bot(fake, digest_settings(fake, database)) as bot:
        alice, boris = readers(fake, 2)
        await subscribe_all(bot.app, [alice.id, boris.id])
        await bot.service.store.set_chat_lang(boris.id, "private", "ru")
        bot.app.bot_data.digest.clock = lambda: THURSDAY
        yield bot


async def test_preview_shows_exactly_what_goes_out_and_the_other_edition_on_a_button(
    desk: Harness, fake: FakeBotApi
) -> None:
    olga = owner(fake)
    replies = await desk.say(olga, "/digest preview")
    head, *parts = replies
    assert "Preview of digest 2031-W10" in (head.text or "")
    assert "🇬🇧 English edition" in (head.text or "")
    assert f"2 subscriber(s) and the channel @{CHANNEL_NAME}" in (head.text or "")
    assert "Next scheduled: Mon 2031-03-10 09:00 (Europe/Minsk)" in (head.text or "")
    assert parts[-1].buttons[0]["text"] == "🇷🇺 Russian edition"
    before = len(fake.messages_to(olga))
    await desk.press_label(olga, parts[-1], "🇷🇺 Russian edition")
    ru_head, *ru_parts = fake.messages_to(olga)[before:]
    assert "🇷🇺 Russian edition" in (ru_head.text or "")
    assert fake.callback_answers[-1].text is None

    # Nothing was stored or sent by previewing; then the real thing matches it to the byte.
    assert ledger(desk.app.bot_data.settings.database_path) == {}
    await fire_weekly(desk.app)
    alice, boris = readers(fake, 2)
    assert digest_parts_to(fake, alice) == [p.html for p in parts]
    assert digest_parts_to(fake, boris) == [p.html for p in ru_parts]
    again = await desk.say(olga, "/digest preview")
    assert DIGEST.stored.split(";")[0] in (again[0].text or "")
    assert [m.html for m in again[1:]] == [p.html for p in parts]


async def test_send_after_confirmation_reaches_everyone_and_reports(
    desk: Harness, fake: FakeBotApi
) -> None:
    olga, erik = owner(fake), editor(fake)
    await desk.say(olga, f"/admins add {EDITOR_ID}")
    [confirm] = await desk.say(erik, "/digest send")
    assert "Send digest 2031-W10 now to 2 subscriber(s) and the channel" in (confirm.text or "")
    assert digests_to(fake, CHANNEL_ID) == []
    replies = await press(desk, erik, DIGEST.button_send)
    assert texts_of(replies).startswith("📤 Sending digest 2031-W10")
    assert confirm.buttons == [], "the confirmation cannot be pressed twice"
    await fake.wait_for(lambda: "broadcast" in texts_of(fake.messages_to(erik.id)))
    summary = "Digest 2031-W10 broadcast: 3 sent, 0 failed, 0 deactivated, 0 unknown."
    assert summary in texts_of(fake.messages_to(erik.id)), "the editor who asked hears back"
    await fake.wait_for(lambda: summary in admin_texts(fake))
    for chat in [*(u.id for u in readers(fake, 2)), CHANNEL_ID]:
        assert len(digests_to(fake, chat)) == 1

    # Again: the week went out already; a new subscriber is the only one to get it.
    [late] = readers(fake, 1, base=61_000)
    await subscribe_all(desk.app, [late.id])
    [confirm] = await desk.say(erik, "/digest send")
    assert "already went out this week" in (confirm.text or "")
    await press(desk, erik, DIGEST.button_send)
    await fake.wait_for(lambda: "3 chat(s) had it already" in admin_texts(fake))
    assert len(digests_to(fake, late)) == 1
    assert all(len(digests_to(fake, u)) == 1 for u in readers(fake, 2))


async def test_cancel_sends_nothing(desk: Harness, fake: FakeBotApi) -> None:
    olga = owner(fake)
    await desk.say(olga, "/digest send")
    replies = await press(desk, olga, ADMIN.button_cancel)
    assert texts_of(replies) == ADMIN.cancelled
    assert ledger(desk.app.bot_data.settings.database_path) == {}
    assert fake.calls_to("sendMessage")[-1].params["chat_id"] == olga.id


async def test_status_counts_each_delivery_state(desk: Harness, fake: FakeBotApi) -> None:
    olga = owner(fake)
    [empty] = await desk.say(olga, "/digest status")
    assert "No digest has been made yet." in (empty.text or "")
    assert "Subscribers: 2. Channel: @tiesdigest. Next: Mon 2031-03-10 09:00" in (empty.text or "")
    alice, _ = readers(fake, 2)
    fake.block(alice)
    await fire_weekly(desk.app, MONDAY)
    [status] = await desk.say(olga, "/digest status")
    assert "2031-W10 · done · 2 sent, 1 deactivated" in (status.text or "")
    assert "Subscribers: 1." in (status.text or "")
    [usage] = await desk.say(olga, "/digest")
    assert usage.text == "Use /digest preview, /digest send or /digest status."


@pytest.mark.parametrize("action", ["preview", "send", "status"])
async def test_refused_to_strangers_and_in_groups(
    desk: Harness, fake: FakeBotApi, action: str
) -> None:
    olga, alice = owner(fake), stranger(fake)
    group = fake.group(GROUP_ID, "Readers", members=[olga, alice], admins=[olga])
    database = desk.app.bot_data.settings.database_path
    before = dump(database)
    for user, chat in ((alice, None), (olga, group.id), (alice, group.id)):
        replies = await desk.say(user, f"/digest {action}", chat)
        assert [m.text for m in replies] == [NOT_ALLOWED], (user.id, chat)
    assert dump(database) == before
    assert fake.messages_to(CHANNEL_ID) == []


async def test_buttons_check_the_role_when_pressed(desk: Harness, fake: FakeBotApi) -> None:
    olga, erik, alice = owner(fake), editor(fake), stranger(fake)
    await desk.say(olga, f"/admins add {EDITOR_ID}")
    [confirm] = await desk.say(erik, "/digest send")
    [*_, preview] = await desk.say(erik, "/digest preview")
    database = desk.app.bot_data.settings.database_path
    before = dump(database)
    for message in (confirm, preview):
        for data in message.callback_data:
            await desk.press(alice, message, data)
            assert fake.callback_answers[-1].text == NOT_ALLOWED
    await desk.say(olga, f"/admins remove {EDITOR_ID}")
    before = dump(database)
    await desk.press_label(erik, confirm, DIGEST.button_send)
    assert fake.callback_answers[-1].text == NOT_ALLOWED, "a revoked editor is stopped"
    await desk.press_label(erik, preview, "🇷🇺 Russian edition")
    assert fake.callback_answers[-1].text == NOT_ALLOWED
    assert dump(database) == before
    assert fake.messages_to(CHANNEL_ID) == []
    # Forged data for the owner finds no pending action: expired, nothing sent.
    confirm.reply_markup = {
        "inline_keyboard": [[{"text": "forged", "callback_data": "adm:dg:deadbeef:y"}]]
    }
    await desk.press(olga, confirm, "adm:dg:deadbeef:y")
    assert fake.callback_answers[-1].text == ADMIN.expired
    assert ledger(database) == {}
