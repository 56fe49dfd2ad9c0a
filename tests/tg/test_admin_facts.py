"""/edit, /delete, /restore, /history, /undo and /find end to end, the concurrent-edit refusal
included: what readers get changes at once, and every change names its admin."""

from __future__ import annotations

from bot.tg.texts import ADMIN
from tests.fakebot import FakeBotApi, FakeUser
from tests.tg.admin_helpers import (
    EDITOR_ID,
    FACT_ID,
    dump,
    editor,
    owner,
    press,
    stranger,
    texts_of,
)
from tests.tg.conftest import Harness


async def grant_editor(bot: Harness, fake: FakeBotApi) -> FakeUser:
    erik = editor(fake)
    replies = await bot.say(owner(fake), f"/admins add {EDITOR_ID}")
    assert "is now an editor" in texts_of(replies)
    return erik


def phrasing(bot: Harness) -> str:
    fact = bot.service.fact(FACT_ID)
    assert fact is not None
    reply = bot.service.ask(fact.questions["en"][0])
    assert reply.fact is not None
    assert reply.fact.id == FACT_ID
    return fact.questions["en"][0]


async def edit_answer(bot: Harness, user: FakeUser, text: str) -> str:
    """/edit the English answer up to the preview; returns the preview text."""
    await bot.say(user, f"/edit {FACT_ID}")
    await press(bot, user, "answer.en")
    return texts_of(await bot.say(user, text))


async def test_an_edit_is_previewed_saved_and_answered_at_once(
    bot: Harness, fake: FakeBotApi
) -> None:
    olga, alice = owner(fake), stranger(fake)
    question = phrasing(bot)
    preview = await edit_answer(bot, olga, "The visit marked the 30th anniversary, edited.")
    assert "answer.en:" in preview
    assert "→ «The visit marked the 30th anniversary, edited.»" in preview
    assert "Preview of ir-30th-anniversary" in preview
    replies = await press(bot, olga, ADMIN.button_save)
    assert "Saved ir-30th-anniversary (version 2)" in texts_of(replies)
    answer = await bot.ask(alice, question)
    assert answer.text is not None
    assert answer.text.startswith("The visit marked the 30th anniversary, edited.")
    [revision, *_] = await bot.service.store.revisions(FACT_ID)
    assert (revision.action, revision.actor, revision.version) == ("edit", f"tg:{olga.id}", 2)


async def test_an_invalid_value_keeps_the_edit_at_its_step(bot: Harness, fake: FakeBotApi) -> None:
    olga = owner(fake)
    before = dump(bot.app.bot_data.settings.database_path)
    await bot.say(olga, f"/edit {FACT_ID}")
    await press(bot, olga, "date")
    replies = await bot.say(olga, "last spring")
    assert "date: must be YYYY, YYYY-MM, YYYY-MM-DD" in texts_of(replies)
    replies = await bot.say(olga, "2023-03-13")
    assert "Your changes" in texts_of(replies)
    await press(bot, olga, ADMIN.button_another_field)
    await press(bot, olga, "evidence")
    replies = await bot.say(olga, "Lukashenka never said this.")
    assert "evidence[1].quote: fact 'ir-30th-anniversary': does not occur" in texts_of(replies)
    await bot.say(olga, "/cancel")
    assert dump(bot.app.bot_data.settings.database_path) == before


async def test_a_concurrent_edit_is_refused_with_the_difference(
    bot: Harness, fake: FakeBotApi
) -> None:
    olga = owner(fake)
    erik = await grant_editor(bot, fake)
    await edit_answer(bot, olga, "Olga's answer.")
    await edit_answer(bot, erik, "Erik's answer.")
    replies = await press(bot, erik, ADMIN.button_save)
    assert "Saved" in texts_of(replies)
    before = dump(bot.app.bot_data.settings.database_path)
    replies = await press(bot, olga, ADMIN.button_save)
    text = texts_of(replies)
    assert text.startswith("⛔ Not saved: ir-30th-anniversary was changed by tg:777000002")
    assert "now version 2" in text
    assert "→ «Erik's answer.»" in text
    assert dump(bot.app.bot_data.settings.database_path) == before
    fact = bot.service.fact(FACT_ID)
    assert fact is not None
    assert fact.answer["en"] == "Erik's answer."


async def test_delete_retires_after_confirmation_and_restore_brings_back(
    bot: Harness, fake: FakeBotApi
) -> None:
    olga, alice = owner(fake), stranger(fake)
    question = phrasing(bot)
    before = dump(bot.app.bot_data.settings.database_path)
    replies = await bot.say(olga, f"/delete {FACT_ID}")
    assert "Retire ir-30th-anniversary?" in texts_of(replies)
    assert dump(bot.app.bot_data.settings.database_path) == before  # not before confirming
    replies = await press(bot, olga, ADMIN.button_retire)
    assert "Retired ir-30th-anniversary (version 2)" in texts_of(replies)
    answer = await bot.ask(alice, question)
    assert answer.text is not None
    fact = bot.service.fact(FACT_ID)
    assert fact is not None
    assert fact.retired
    assert not answer.text.startswith(fact.answer["en"])
    reply = bot.service.ask(question)
    assert reply.fact is None or reply.fact.id != FACT_ID
    replies = await bot.say(olga, f"/delete {FACT_ID}")
    assert "already retired" in texts_of(replies)
    replies = await bot.say(olga, f"/find {FACT_ID}")
    assert "🗄 retired" in texts_of(replies)
    replies = await bot.say(olga, f"/restore {FACT_ID}")
    assert "Restored ir-30th-anniversary (version 3)" in texts_of(replies)
    answer = await bot.ask(alice, question)
    assert answer.text is not None
    assert answer.text.startswith(fact.answer["en"])
    replies = await bot.say(olga, f"/restore {FACT_ID}")
    assert "is not retired" in texts_of(replies)


async def test_a_retire_button_works_once(bot: Harness, fake: FakeBotApi) -> None:
    olga = owner(fake)
    replies = await bot.say(olga, f"/delete {FACT_ID}")
    confirm = replies[-1]
    data = confirm.button(ADMIN.button_retire)["callback_data"]
    await bot.press(olga, confirm, data)
    after = dump(bot.app.bot_data.settings.database_path)
    confirm.reply_markup = {"inline_keyboard": [[{"text": "again", "callback_data": data}]]}
    await bot.press(olga, confirm, data)  # a replay of the same button
    assert fake.callback_answers[-1].text == ADMIN.expired
    assert dump(bot.app.bot_data.settings.database_path) == after


async def test_delete_cancelled_changes_nothing(bot: Harness, fake: FakeBotApi) -> None:
    olga = owner(fake)
    before = dump(bot.app.bot_data.settings.database_path)
    await bot.say(olga, f"/delete {FACT_ID}")
    replies = await press(bot, olga, ADMIN.button_cancel)
    assert texts_of(replies) == ADMIN.cancelled
    assert dump(bot.app.bot_data.settings.database_path) == before


async def test_history_and_undo(bot: Harness, fake: FakeBotApi) -> None:
    olga, alice = owner(fake), stranger(fake)
    question = phrasing(bot)
    original = bot.service.fact(FACT_ID)
    assert original is not None
    await edit_answer(bot, olga, "A wrong answer.")
    await press(bot, olga, ADMIN.button_save)
    history = texts_of(await bot.say(olga, f"/history {FACT_ID}"))
    assert "v2 · " in history
    assert "tg:777000001 · edit" in history
    assert "answer.en: «Symbolically" in history
    assert "→ «A wrong answer.»" in history
    replies = await bot.say(olga, f"/undo {FACT_ID}")
    text = texts_of(replies)
    assert "Reverted the last change of ir-30th-anniversary (edit by tg:777000001)" in text
    assert "now version 3" in text
    answer = await bot.ask(alice, question)
    assert answer.text is not None
    assert answer.text.startswith(original.answer["en"])
    [revision, *_] = await bot.service.store.revisions(FACT_ID)
    assert (revision.action, revision.actor) == ("undo", f"tg:{olga.id}")
    history = texts_of(await bot.say(olga, f"/history {FACT_ID}"))
    assert "v3 · " in history
    assert "· undo" in history


async def test_undo_of_a_new_fact_and_unknown_ids(bot: Harness, fake: FakeBotApi) -> None:
    olga = owner(fake)
    replies = await bot.say(olga, f"/undo {FACT_ID}")
    assert "Nothing to undo" in texts_of(replies)
    for command in ("/undo", "/history", "/delete", "/restore", "/edit"):
        replies = await bot.say(olga, f"{command} no-such-fact")
        assert "There is no fact no-such-fact" in texts_of(replies), command
        replies = await bot.say(olga, command)
        assert texts_of(replies).startswith("Use "), command


async def test_find_by_id_text_and_keyword(bot: Harness, fake: FakeBotApi) -> None:
    olga = owner(fake)
    assert FACT_ID in texts_of(await bot.say(olga, "/find ir-30th"))
    assert FACT_ID in texts_of(await bot.say(olga, "/find anniversary"))
    assert FACT_ID in texts_of(await bot.say(olga, "/find юбилей"))
    assert "No fact matches" in texts_of(await bot.say(olga, "/find qqqzzz"))
    assert texts_of(await bot.say(olga, "/find")).startswith("Use /find TEXT")
