"""/add end to end through the fake Bot API: the guided steps, the YAML form, bad values at
every step, /cancel and the timeout — and the new fact answered in the very next message."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.settings import Settings
from bot.tg.app import build_application
from bot.tg.texts import ADMIN, EN
from tests.fakebot import FakeBotApi
from tests.tg.admin_helpers import (
    NEW_QUESTION,
    QUOTE,
    SOURCE_ID,
    add_fact,
    add_until_source,
    dump,
    last,
    owner,
    press,
    source_label,
    stranger,
    texts_of,
)
from tests.tg.conftest import FakeClock, Harness, make_settings, quick_limiter, running


async def test_a_guided_add_is_answered_in_the_next_message(
    bot: Harness, fake: FakeBotApi
) -> None:
    olga, alice = owner(fake), stranger(fake)
    before = await bot.ask(alice, NEW_QUESTION)
    assert before.text is not None
    assert "zebra" not in before.text
    fact = await add_fact(bot, olga)
    assert fact.id.startswith("ir-economy-")
    assert fact.questions["en"][0] == NEW_QUESTION
    answer = await bot.ask(alice, NEW_QUESTION)
    assert answer.text is not None
    assert answer.text.startswith("The zebra partnership of Belarus and Iran is a test fact.")
    [revision] = await bot.service.store.revisions(fact.id)
    assert (revision.action, revision.actor) == ("add", f"tg:{olga.id}")


async def test_the_preview_is_the_answer_as_readers_see_it(bot: Harness, fake: FakeBotApi) -> None:
    olga = owner(fake)
    await add_until_source(bot, olga)
    await press(bot, olga, source_label(bot))
    await bot.say(olga, QUOTE)
    preview = texts_of(await press(bot, olga, ADMIN.button_preview))
    source = bot.service.sources[SOURCE_ID]
    assert "The zebra partnership of Belarus and Iran is a test fact." in preview
    assert "Партнёрство «зебра»" in preview
    assert f"Source: “{source.title}”" in preview
    assert "Источник:" in preview
    assert "📄 What the article says" in preview
    assert QUOTE in preview
    assert not [f for f in bot.service.facts() if "zebra" in f.keywords]


async def test_every_step_names_the_field_and_rule_and_stays(
    bot: Harness, fake: FakeBotApi
) -> None:
    olga = owner(fake)
    database = bot.app.bot_data.settings.database_path
    before = dump(database)
    await bot.say(olga, "/add")
    bad_then_good = [
        ("mars", "country: must be one of azerbaijan, iran, belarus", "iran"),
        ("sports", "topic: must be one of", "economy"),
        ("2023-13", "date: must be YYYY, YYYY-MM, YYYY-MM-DD", "2023"),
        ("x" * 351, "answer.en: 351 characters, over the 350 limit", "Zebra."),
        ("я" * 400, "answer.ru: 400 characters, over the 350 limit", "Зебра."),
        ("just one", "questions.en: needs at least 3 phrasings", "a zebra?\nb zebra?\nc zebra?"),
        ("одна", "questions.ru: needs at least 2 phrasings", "а зебра?\nб зебра?"),
        (", ;", "keywords: missing field", "zebra"),
        ("no-such-source", "sources: unknown source id 'no-such-source'", None),
    ]
    for bad, rule, good in bad_then_good:
        prompt = last(bot, olga).text
        replies = await bot.say(olga, bad)
        assert len(replies) == 1, texts_of(replies)
        assert "Not accepted" in texts_of(replies)
        assert rule in texts_of(replies)
        if good is not None:
            replies = await bot.say(olga, good)
            assert "Not accepted" not in texts_of(replies), (prompt, texts_of(replies))
    # A new source, with a bad value at each of its steps.
    await press(bot, olga, ADMIN.button_new_source)
    await bot.say(olga, "Zebra report")
    await bot.say(olga, "Zebra Weekly")
    replies = await bot.say(olga, "yesterday")
    assert "published: must be YYYY, YYYY-MM or YYYY-MM-DD" in texts_of(replies)
    await bot.say(olga, "2024-05")
    replies = await bot.say(olga, "ftp://zebra.example")
    assert "url: must be an http(s) address or null" in texts_of(replies)
    await bot.say(olga, "https://zebra.example/report")
    replies = await bot.say(olga, "word " * 41)
    assert "evidence.quote: 41 words, over the 40-word limit" in texts_of(replies)
    assert dump(database) == before  # nothing is written before "Save"


async def test_a_quote_not_in_the_article_is_refused_with_the_closest_passage(
    bot: Harness, fake: FakeBotApi
) -> None:
    olga = owner(fake)
    await add_until_source(bot, olga)
    await press(bot, olga, source_label(bot))
    wrong = QUOTE.replace("30th", "40th")
    replies = await bot.say(olga, wrong)
    text = texts_of(replies)
    assert f"evidence.quote: does not occur in {SOURCE_ID}; closest passage:" in text
    assert "30th anniversary" in text
    assert ADMIN.button_preview not in [b["text"] for b in replies[-1].buttons]
    replies = await bot.say(olga, QUOTE)
    assert "found in the article" in texts_of(replies)


async def test_a_new_sources_quote_is_kept_as_given_and_marked_unverified(
    bot: Harness, fake: FakeBotApi
) -> None:
    olga = owner(fake)
    await add_until_source(bot, olga)
    await press(bot, olga, ADMIN.button_new_source)
    for text in ("Zebra report", "Zebra Weekly", "2024-05"):
        await bot.say(olga, text)
    await press(bot, olga, ADMIN.button_no_url)
    replies = await bot.say(olga, "Zebras were seen in Minsk and Tehran.")
    assert "unverified" in texts_of(replies)
    preview = texts_of(await press(bot, olga, ADMIN.button_preview))
    assert "“Zebra report”, Zebra Weekly, May 2024" in preview
    assert "quote(s) unverified" in preview
    await press(bot, olga, ADMIN.button_save)
    [fact] = [f for f in bot.service.facts() if "zebra" in f.keywords]
    assert fact.sources[0] in bot.service.sources
    found = texts_of(await bot.say(olga, "/find zebra"))
    assert fact.id in found
    assert "⚠️ unverified evidence" in found
    stats = texts_of(await bot.say(olga, "/stats"))
    assert "unverified quotes: 1" in stats


async def test_the_one_message_yaml_form(bot: Harness, fake: FakeBotApi) -> None:
    olga, alice = owner(fake), stranger(fake)
    yaml_text = f"""/add
country: iran
topic: trade
date: 2023-03
answer:
  en: The zebra trade of Belarus and Iran is a test fact.
  ru: Торговля «зебра» Беларуси и Ирана — тестовый факт.
questions:
  en:
  - What is the zebra trade of Belarus and Iran?
  - zebra trade belarus iran
  - Tell me about the zebra trade
  ru:
  - Что такое торговля «зебра»?
  - зебра торговля
keywords: [zebra, trade]
sources: [{SOURCE_ID}]
evidence:
- source: {SOURCE_ID}
  quote: "{QUOTE}"
"""
    replies = await bot.say(olga, yaml_text)
    assert "Preview of" in texts_of(replies)
    await press(bot, olga, ADMIN.button_save)
    answer = await bot.ask(alice, "What is the zebra trade of Belarus and Iran?")
    assert answer.text is not None
    assert answer.text.startswith("The zebra trade")


async def test_the_yaml_form_reports_every_problem_and_saves_nothing(
    bot: Harness, fake: FakeBotApi
) -> None:
    olga = owner(fake)
    before = dump(bot.app.bot_data.settings.database_path)
    replies = await bot.say(olga, "/add\ncountry: mars\ntopic: trade\nsources: [nope]")
    text = texts_of(replies)
    assert "country: must be one of azerbaijan, iran, belarus" in text
    assert "sources: unknown source id 'nope'" in text
    assert "date: missing field" in text
    replies = await bot.say(olga, "/add\ncountry: [")
    assert "yaml: line" in texts_of(replies)
    assert dump(bot.app.bot_data.settings.database_path) == before
    # The conversation ended: text is a question again.
    answer = await bot.ask(olga, "When did Lukashenka visit Iran?")
    assert answer.text is not None
    assert "Not accepted" not in answer.text


async def test_cancel_at_any_step_saves_nothing(bot: Harness, fake: FakeBotApi) -> None:
    olga = owner(fake)
    database = bot.app.bot_data.settings.database_path
    before = dump(database)
    await add_until_source(bot, olga)
    replies = await bot.say(olga, "/cancel")
    assert texts_of(replies) == ADMIN.cancelled
    assert dump(database) == before
    replies = await bot.say(olga, "/cancel")
    assert texts_of(replies) == ADMIN.nothing_to_cancel
    # Old buttons of the cancelled draft do nothing.
    await bot.say(olga, "/add")
    await bot.say(olga, "/cancel")
    await press(bot, olga, "🇮🇷 Iran")
    assert bot.fake.callback_answers[-1].text == ADMIN.expired
    assert dump(database) == before


async def test_cancel_at_the_preview(bot: Harness, fake: FakeBotApi) -> None:
    olga = owner(fake)
    database = bot.app.bot_data.settings.database_path
    before = dump(database)
    await add_until_source(bot, olga)
    await press(bot, olga, source_label(bot))
    await bot.say(olga, QUOTE)
    await press(bot, olga, ADMIN.button_preview)
    replies = await press(bot, olga, ADMIN.button_cancel)
    assert texts_of(replies) == ADMIN.cancelled
    assert dump(database) == before


@pytest.fixture
async def hasty_bot(
    fake: FakeBotApi, settings: Settings, clock: FakeClock
) -> AsyncIterator[Harness]:
    """The bot with drafts lapsing after a fraction of a second."""
    quick = make_settings(fake, settings.database_path, admin_timeout=0.3)
    app = build_application(quick, rate_limiter=quick_limiter())
    app.bot_data.flood.clock = clock
    harness = Harness(fake, app)
    async with running(app):
        yield harness


async def test_an_abandoned_draft_times_out_and_saves_nothing(
    hasty_bot: Harness, fake: FakeBotApi
) -> None:
    bot = hasty_bot
    olga = owner(fake)
    database = bot.app.bot_data.settings.database_path
    before = dump(database)
    await bot.say(olga, "/add")
    await press(bot, olga, "🇮🇷 Iran")
    lapsed = await fake.wait_for(
        lambda: [m for m in fake.messages_to(olga.id) if m.text and "lapsed" in m.text]
    )
    assert "Nothing was saved" in (lapsed[0].text or "")
    assert dump(database) == before
    # The next message is a question again, not the draft's next step.
    answer = await bot.ask(olga, "When did Lukashenka visit Iran?")
    assert answer.text is not None
    assert not answer.text.startswith("⚠️")
    await press(bot, olga, "Economy")  # a button of the lapsed draft
    assert fake.callback_answers[-1].text == ADMIN.expired


async def test_the_country_step_offers_every_country(bot: Harness, fake: FakeBotApi) -> None:
    olga = owner(fake)
    replies = await bot.say(olga, "/add")
    labels = [b["text"] for b in replies[-1].buttons]
    assert labels == list(EN.countries.values())
