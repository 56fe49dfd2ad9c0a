"""/subscribe and /unsubscribe: private chats decide for themselves, a group only through its
administrators (an anonymous one included), and the edition follows the chat's /lang.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from telegram import Update

from tests.fakebot import FakeBotApi
from tests.tg.admin_helpers import dump
from tests.tg.conftest import Harness
from tests.tg.digest_helpers import (
    GROUP_ID,
    MINSK,
    digest_bot,
    digest_settings,
    digests_to,
    fire_weekly,
)

# Telegram's account for anonymous group administrators ("Group" in the client).
GROUP_ANONYMOUS_BOT = 1_087_968_824


async def test_a_private_chat_subscribes_and_unsubscribes(bot: Harness, fake: FakeBotApi) -> None:
    alice = fake.user(1001, "Alice", "en")
    store = bot.service.store
    reply = await bot.ask(alice, "/subscribe")
    assert (reply.text or "").startswith("✅ Subscribed.")
    assert "every Monday at 09:00 (Europe/Minsk), in English" in (reply.text or "")
    assert await store.is_subscribed(alice.id)
    again = await bot.ask(alice, "/subscribe")
    assert (again.text or "").startswith("This chat already gets the weekly digest")
    assert [s.chat_id for s in await store.active_subscribers()] == [alice.id]

    assert (await bot.ask(alice, "/unsubscribe")).text == (
        "Done: no more weekly digests in this chat. /subscribe brings them back."
    )
    assert not await store.is_subscribed(alice.id)
    assert (await bot.ask(alice, "/unsubscribe")).text == (
        "This chat does not get the weekly digest. /subscribe starts it."
    )
    assert (await bot.ask(alice, "/subscribe")).text.startswith("✅")  # type: ignore[union-attr]
    assert await store.is_subscribed(alice.id)


async def test_replies_speak_the_users_language_and_the_edition_follows_lang(
    fake: FakeBotApi, database: Path
) -> None:
    boris = fake.user(1002, "Boris", "ru")
    alice = fake.user(1001, "Alice", "en")
    async with digest_bot(fake, digest_settings(fake, database, digest_channel="")) as bot:
        reply = await bot.ask(boris, "/subscribe")
        assert (reply.text or "").startswith("✅ Подписка оформлена.")
        assert "понедельник, 09:00 (Europe/Minsk), язык: English" in (reply.text or "")
        await bot.ask(boris, "/lang ru")  # after subscribing: read at each broadcast
        await bot.ask(alice, "/subscribe")
        await fire_weekly(bot.app, dt.datetime(2031, 3, 3, 9, 0, tzinfo=MINSK))
    [ru] = digests_to(fake, boris)
    [en] = digests_to(fake, alice)
    assert "Беларусь и её партнёры — дайджест недели" in (ru.text or "")
    assert "Belarus Ties — weekly digest" in (en.text or "")


async def test_a_group_is_subscribed_only_by_its_administrators(
    bot: Harness, fake: FakeBotApi
) -> None:
    alice = fake.user(1001, "Alice", "en")
    boris = fake.user(1002, "Boris", "ru")
    carol = fake.user(1003, "Carol", "en")
    group = fake.supergroup(GROUP_ID, "Readers", members=[alice], admins=[boris], creator=carol)
    store = bot.service.store
    database = bot.app.bot_data.settings.database_path

    before = dump(database)
    refusal = await bot.ask(alice, "/subscribe", group.id)
    assert refusal.text == (
        "Sorry, only the group's administrators can subscribe the group to the digest or"
        " unsubscribe it."
    )
    assert refusal.reply_to is not None, "in a group the bot answers the message it refuses"
    assert dump(database) == before, "a refused subscription changes nothing"
    assert [c.params["user_id"] for c in fake.calls_to("getChatMember")] == [alice.id]

    granted = await bot.ask(boris, "/subscribe", group.id)
    assert "Подписка оформлена" in (granted.text or "")
    assert await store.is_subscribed(group.id)
    [subscriber] = await store.active_subscribers()
    assert (subscriber.chat_id, subscriber.kind, subscriber.lang) == (group.id, "supergroup", "en")

    # Nor may a member unsubscribe the group; its creator may.
    assert (await bot.ask(alice, f"/unsubscribe@{fake.bot_username}", group.id)).text == (
        refusal.text
    )
    assert await store.is_subscribed(group.id)
    done = await bot.ask(carol, "/unsubscribe", group.id)
    assert (done.text or "").startswith("Done: no more weekly digests")
    assert not await store.is_subscribed(group.id)


async def test_an_anonymous_administrator_writes_as_the_group(
    bot: Harness, fake: FakeBotApi
) -> None:
    anonymous = fake.user(GROUP_ANONYMOUS_BOT, "Group", None, "GroupAnonymousBot")
    group = fake.supergroup(GROUP_ID, "Readers", members=[anonymous])
    # The fake cannot send as a chat; it keeps the message (the bot's reply quotes it) and
    # the update Telegram would deliver for it is built here, with `sender_chat` set.
    text = "/subscribe"
    kept = await fake.send_text(anonymous, "(anonymous admin)", chat=group)
    assert kept.message is not None
    assert not kept.delivered
    update = Update.de_json(
        {
            "update_id": 900_001,
            "message": {
                "message_id": kept.message.message_id,
                "date": int(time.time()),
                "chat": {"id": group.id, "type": "supergroup", "title": "Readers"},
                "from": {"id": GROUP_ANONYMOUS_BOT, "is_bot": True, "first_name": "Group"},
                "sender_chat": {"id": group.id, "type": "supergroup", "title": "Readers"},
                "text": text,
                "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
            },
        },
        bot.app.bot,
    )
    await bot.app.process_update(update)
    assert await bot.service.store.is_subscribed(group.id)
    assert fake.calls_to("getChatMember") == [], "no need to ask who the group itself is"
    assert (fake.messages_to(group.id)[-1].text or "").startswith("✅ Subscribed.")
