"""Questions end to end: a user writes, the real bot answers through the fake Bot API.

Expected answers are read from the bot's own fact service rather than copied here, so the
tests pin the Telegram behaviour (buttons, edits, logging, languages, chats) and keep passing
while editors improve the wording of the facts.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain.evidence import readable
from bot.domain.models import Evidence, Fact
from tests.fakebot import FakeBotApi, FakeUser
from tests.tg.conftest import USERNAME, Harness

QUESTION = "When did Lukashenka visit Iran?"
OFF_TOPIC = "What is the capital of France?"


def vague_question(bot: Harness) -> str:
    """A question the matcher answers with a "did you mean" (checked, not assumed)."""
    for text in ("Belarus", "Azerbaijan", "Iran", "Belarus Iran", "Belarus Azerbaijan"):
        if bot.service.ask(text).match.outcome == "suggested":
            return text
    pytest.fail("none of the vague questions produces a did-you-mean any more")


async def test_question_gets_a_sourced_answer_with_buttons(
    bot: Harness, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    expected = bot.service.ask(QUESTION)
    assert expected.fact is not None
    message = await bot.ask(alice, QUESTION)
    assert message.text is not None
    assert message.text.startswith(expected.fact.answer_in("en"))
    source = bot.service.sources[expected.fact.sources[0]]
    assert source.title in message.text
    assert "Source:" in message.text
    labels = [b["text"] for b in message.buttons]
    assert "📄 What the article says" in labels
    assert labels[-2:] == ["👍", "👎"]
    related = [d for d in message.callback_data if d.startswith("r:")]
    assert 1 <= len(related) <= 3
    assert f"r:en:{expected.fact.id}" not in related
    logged = await bot.service.store.query(
        int(message.button("👍")["callback_data"].split(":")[1])
    )
    assert logged is not None
    assert (logged["outcome"], logged["fact_id"], logged["question"]) == (
        "answered",
        expected.fact.id,
        QUESTION,
    )


async def test_an_answer_links_its_source_article_when_it_has_an_address(
    bot: Harness, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    service = bot.service
    for fact in service.facts():
        urls = [service.sources[s].url for s in fact.sources if service.sources[s].url]
        reply = service.ask(fact.questions_in("en")[0])
        if urls and reply.fact is not None and reply.fact.id == fact.id:
            break
    else:
        pytest.fail("no fact with a source address is answered by its own phrasing")
    message = await bot.ask(alice, fact.questions_in("en")[0])
    assert message.button("🔗 Source article")["url"] == urls[0]


async def test_feedback_is_stored_with_the_logged_question(
    bot: Harness, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    message = await bot.ask(alice, QUESTION)
    data = message.button("👎")["callback_data"]
    await bot.press(alice, message, data)
    logged = await bot.service.store.query(int(data.split(":")[1]))
    assert logged is not None
    assert logged["feedback"] == -1
    assert bot.fake.callback_answers[-1].text == "Thank you for the feedback!"
    assert not [d for d in message.callback_data if d.startswith("f:")]
    assert "📄 What the article says" in [b["text"] for b in message.buttons]


async def test_did_you_mean_button_edits_the_message_into_that_answer(
    bot: Harness, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    question = vague_question(bot)
    message = await bot.ask(alice, question)
    assert message.text is not None
    assert message.text.startswith("I am not sure")
    choices = [d for d in message.callback_data if d.startswith("d:")]
    assert 1 <= len(choices) <= 3
    query_id = int(choices[0].split(":")[2])
    chosen = bot.service.fact(choices[0].split(":")[3])
    assert chosen is not None
    await bot.press(alice, message, choices[0])
    assert len(bot.fake.messages_to(alice.id)) == 1, "the answer replaces the question, in place"
    assert message.text.startswith(chosen.answer_in("en"))
    assert message.history
    assert message.history[0].startswith("I am not sure")
    assert f"f:{query_id}:1" in message.callback_data
    logged = await bot.service.store.query(query_id)
    assert logged is not None
    assert logged["outcome"] == "suggested"


async def test_decline_is_polite_points_to_topics_and_is_logged_unanswered(
    bot: Harness, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    assert bot.service.ask(OFF_TOPIC).match.outcome == "declined"
    message = await bot.ask(alice, OFF_TOPIC)
    assert message.text is not None
    assert message.text.startswith("Sorry, I have no sourced answer")
    assert "/topics" in message.text
    assert message.callback_data == ["t"]
    rows = await bot.service.store._all("SELECT * FROM query_log")
    assert [(r["question"], r["outcome"], r["fact_id"]) for r in rows] == [
        (OFF_TOPIC, "declined", None)
    ]


async def test_evidence_button_shows_the_articles_words_under_the_answer(
    bot: Harness, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    fact = bot.service.ask(QUESTION).fact
    assert fact is not None
    assert fact.evidence
    message = await bot.ask(alice, QUESTION)
    before = [b["text"] for b in message.buttons]
    await bot.press_label(alice, message, "📄 What the article says")
    assert message.text is not None
    assert message.text.startswith(fact.answer_in("en"))
    for item in fact.evidence:
        assert " ".join(readable(item.quote).split()) in " ".join(message.text.split())
    assert "📄 What the article says" in message.text
    assert "As of 30 March 2023." in message.text
    assert [b["text"] for b in message.buttons] == [
        t for t in before if t.startswith("📄") is False
    ]


async def test_lang_ru_makes_answers_russian(
    bot: Harness, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    fact = bot.service.ask(QUESTION).fact
    assert fact is not None
    reply = await bot.ask(alice, "/lang ru")
    assert reply.text == "Готово: в этом чате я отвечаю по-русски."
    assert await bot.service.store.chat_lang(alice.id) == "ru"
    answer = await bot.ask(alice, QUESTION)
    assert answer.text is not None
    assert answer.text.startswith(fact.answer_in("ru"))
    assert "Источник:" in answer.text
    assert "📄 Текст статьи" in [b["text"] for b in answer.buttons]
    await bot.ask(alice, "/lang en")
    answer = await bot.ask(alice, QUESTION)
    assert answer.text is not None
    assert answer.text.startswith(fact.answer_in("en"))


async def test_a_russian_question_gets_a_russian_answer(
    bot: Harness, users: tuple[FakeUser, FakeUser]
) -> None:
    _, boris = users
    question = "Когда Лукашенко был в Иране?"
    fact = bot.service.ask(question).fact
    assert fact is not None
    answer = await bot.ask(boris, question)
    assert answer.text is not None
    assert answer.text.startswith(fact.answer_in("ru"))


async def test_only_group_admins_change_a_groups_language(
    bot: Harness, fake: FakeBotApi, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, boris = users
    group = fake.supergroup(-100500, "Readers", members=[boris], admins=[alice])
    refused = await bot.ask(boris, "/lang ru", chat=group)
    assert (
        refused.text == "Язык группы могут менять только её администраторы."
    )  # Boris reads Russian
    accepted = await bot.ask(alice, "/lang ru", chat=group)
    assert accepted.text == "Готово: в этом чате я отвечаю по-русски."


async def test_inline_query_offers_up_to_ten_answers_with_the_evidence_button(
    bot: Harness, fake: FakeBotApi, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    injected = await fake.inline_query(alice, "Lukashenka Iran")
    await bot.wait_processed(injected)
    answer = fake.inline_answers[-1]
    assert 1 <= len(answer.results) <= 10
    for result, text in zip(answer.results, answer.texts, strict=True):
        assert text is not None
        assert "Source:" in text
        labels = [b["text"] for row in result["reply_markup"]["inline_keyboard"] for b in row]
        assert "📄 What the article says" in labels
        assert "👍" not in labels  # no log entry to attach a vote to
    chosen = await fake.choose_inline_result(alice, answer.results[0]["id"], "Lukashenka Iran")
    await bot.wait_processed(chosen)
    inline_message = chosen.message
    assert inline_message is not None
    data = next(d for d in inline_message.callback_data if d.startswith("e:"))
    await bot.press(alice, inline_message, data)
    assert inline_message.text is not None
    assert "What the article says" in inline_message.text
    empty = await fake.inline_query(alice, "")
    await bot.wait_processed(empty)
    assert fake.inline_answers[-1].results == []


async def test_groups_answer_ask_mentions_and_replies_and_ignore_chatter(
    bot: Harness, fake: FakeBotApi, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, boris = users
    fact = bot.service.ask(QUESTION).fact
    assert fact is not None
    # The bot administers this group, so Telegram shows it every message, chatter included.
    group = fake.supergroup(-100600, "Readers", members=[alice, boris], bot_status="administrator")
    by_command = await bot.ask(alice, f"/ask {QUESTION}", chat=group)
    by_mention = await bot.ask(boris, f"@{USERNAME} {QUESTION}", chat=group)
    for message in (by_command, by_mention):
        assert message.text is not None
        assert message.text.startswith(fact.answer_in("en"))
        assert message.reply_to is not None
        assert not message.reply_to.from_bot
    replies = await bot.say(alice, "hello everyone, lunch at one?", chat=group)
    assert replies == []
    by_reply = await bot.say(boris, QUESTION, chat=group, reply_to=by_command)
    assert len(by_reply) == 1
    assert by_reply[0].text == by_command.text
    assert by_reply[0].reply_to is not None
    assert by_reply[0].reply_to.sender is boris
    usage = await bot.ask(alice, "/ask", chat=group)
    assert usage.text is not None
    assert usage.text.startswith("Type your question")


async def test_privacy_mode_group_still_hears_what_is_addressed_to_the_bot(
    bot: Harness, fake: FakeBotApi, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    group = fake.group(-4242, "Privacy on", members=[alice])
    hidden = await fake.send_text(alice, QUESTION, chat=group)
    assert not hidden.delivered
    answer = await bot.ask(alice, f"/ask@{USERNAME} {QUESTION}", chat=group)
    assert answer.text is not None
    assert "Source:" in answer.text
    follow_up = await bot.say(alice, "Когда Лукашенко был в Иране?", chat=group, reply_to=answer)
    assert len(follow_up) == 1
    assert "Источник:" in (follow_up[0].text or "")


async def test_edited_messages_never_trigger_an_answer(
    bot: Harness, fake: FakeBotApi, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    injected = await fake.send_text(alice, QUESTION)
    await bot.wait_processed(injected)
    answer = fake.last_message_to(alice.id)
    assert answer is not None
    edited = await fake.edit_text(alice, injected, OFF_TOPIC)
    await bot.wait_processed(edited)
    command = await fake.edit_text(alice, injected, "/sources")
    await bot.wait_processed(command)
    assert fake.messages_to(alice.id) == [answer]
    assert answer.edit_date is None


async def test_html_characters_in_a_fact_arrive_intact(
    bot: Harness, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    base = bot.service.fact("ir-trade-2022")
    assert base is not None
    tricky = "Exports < imports & the gap > $5m; <b>not bold</b> &amp; not an entity."
    fact: Fact = replace(
        base,
        id="zz-html-test",
        answer={"en": tricky, "ru": tricky},
        questions={"en": ("What is the quokka ledger balance?",), "ru": ()},
        keywords=("quokka", "ledger"),
        timeline=False,
        evidence=(Evidence(base.sources[0], "A <quote> & more"),),
    )
    await bot.service.save(fact, actor="test", action="add")
    answer = await bot.ask(alice, "What is the quokka ledger balance?")
    assert answer.text is not None
    assert answer.text.startswith(tricky)
    assert answer.html is not None
    assert "&lt;b&gt;not bold&lt;/b&gt; &amp;amp;" in answer.html
    assert not [e for e in answer.entities if e["type"] == "bold" and e["offset"] < len(tricky)]
    await bot.press_label(alice, answer, "📄 What the article says")
    assert "A <quote> & more" in (answer.text or "")
    shown = await bot.ask(alice, "/fact zz-html-test")
    assert shown.text is not None
    assert shown.text.startswith(tricky)


async def test_questions_are_logged_without_who_asked(
    bot: Harness, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    await bot.ask(alice, QUESTION)
    rows = await bot.service.store._all("SELECT * FROM query_log")
    assert len(rows) == 1
    assert str(alice.id) not in " ".join(str(v) for v in dict(rows[0]).values())
