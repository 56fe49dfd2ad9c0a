"""Commands that browse the fact base: /topics, /sources, /start deep links, /fact, /timeline."""

from __future__ import annotations

import re

from bot.domain.evidence import readable
from bot.tg.render import PAGE_SIZE
from bot.tg.texts import EN
from tests.fakebot import FakeUser
from tests.tg.conftest import Harness


async def test_topics_browse_countries_topics_and_pages_in_one_message(
    bot: Harness, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    facts = bot.service.facts()
    sizes = {(f.country, f.topic): 0 for f in facts}
    for f in facts:
        sizes[f.country, f.topic] += 1
    (country, topic), size = max(sizes.items(), key=lambda kv: kv[1])
    assert size > PAGE_SIZE, "no topic is big enough to need a second page"
    menu = await bot.ask(alice, "/topics")
    assert menu.text is not None
    assert menu.text.startswith("📚 What I know")
    await bot.press(alice, menu, f"t:{country}")
    assert menu.text.startswith(EN.countries[country])
    await bot.press(alice, menu, f"t:{country}:{topic}:0")
    assert f"Page 1 of {-(-size // PAGE_SIZE)}" in menu.text
    first_page = [d for d in menu.callback_data if d.startswith("r:")]
    assert len(first_page) == PAGE_SIZE
    await bot.press_label(alice, menu, "Next ▶️")
    assert "Page 2 of" in menu.text
    second_page = [d for d in menu.callback_data if d.startswith("r:")]
    assert second_page
    assert not set(second_page) & set(first_page)
    assert "◀️ Previous" in [b["text"] for b in menu.buttons]
    assert len(bot.fake.messages_to(alice.id)) == 1, "browsing edits the one menu message"
    await bot.press(alice, menu, second_page[0])
    shown = bot.fake.last_message_to(alice.id)
    assert shown is not None
    assert shown is not menu
    fact = bot.service.fact(second_page[0].split(":")[2])
    assert fact is not None
    assert shown.text is not None
    assert shown.text.startswith(fact.answer_in("en"))
    await bot.press_label(alice, menu, "⬆️ Back")
    assert menu.text.startswith(EN.countries[country])


async def test_sources_lists_every_article_with_outlet_date_and_address(
    bot: Harness, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    replies = await bot.say(alice, "/sources")
    text = "\n".join(m.text or "" for m in replies)
    for source in bot.service.sources.values():
        assert source.title in text
        assert source.outlet in text
        assert (source.url or "no web address") in text
    assert "5 December 2016" in text


async def test_start_greets_and_deep_links_open_a_fact(
    bot: Harness, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, boris = users
    welcome = await bot.ask(alice, "/start")
    assert welcome.text is not None
    assert welcome.text.startswith("👋 Belarus Ties Bot")
    privet = await bot.ask(boris, "/start")
    assert privet.text is not None
    assert "Спросите меня" in privet.text
    fact = bot.service.fact("ir-30th-anniversary")
    assert fact is not None
    opened = await bot.ask(alice, "/start fact_ir-30th-anniversary")
    assert opened.text is not None
    assert opened.text.startswith(fact.answer_in("en"))
    assert readable(fact.evidence[0].quote) in " ".join(opened.text.split())
    missing = await bot.ask(alice, "/start fact_no-such-fact")
    assert missing.text == "There is no fact with the id no-such-fact. Browse with /topics."


async def test_fact_shows_the_answer_with_the_articles_words(
    bot: Harness, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    fact = bot.service.fact("ir-visit-march-2023")
    assert fact is not None
    shown = await bot.ask(alice, "/fact ir-visit-march-2023")
    assert shown.text is not None
    answer_end = shown.text.index("📄 What the article says")
    assert shown.text.startswith(fact.answer_in("en"))
    for item in fact.evidence:
        quote = " ".join(readable(item.quote).split())
        assert quote in " ".join(shown.text[answer_end:].split())
    assert [e for e in shown.entities if e["type"] == "blockquote"]
    assert "📄 What the article says" not in [b["text"] for b in shown.buttons]
    usage = await bot.ask(alice, "/fact")
    assert usage.text is not None
    assert usage.text.startswith("Give a fact id")


async def test_timeline_lists_dated_events_in_order(
    bot: Harness, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    expected = sorted(
        (f for f in bot.service.facts() if f.timeline and f.country == "iran"),
        key=lambda f: (f.starts, f.date, f.id),
    )
    assert len(expected) >= 2
    replies = await bot.say(alice, "/timeline iran")
    text = "\n".join(m.text or "" for m in replies)
    assert text.startswith("🗓 Timeline: Belarus and Iran")
    assert re.findall(r"/fact (\S+)", text) == [f.id for f in expected]
    everything = "\n".join(m.text or "" for m in await bot.say(alice, "/timeline"))
    listed = re.findall(r"/fact (\S+)", everything)
    assert len(listed) == sum(f.timeline for f in bot.service.facts())
    by_id = {f.id: f for f in bot.service.facts()}
    dates = [by_id[i].starts for i in listed]
    assert dates == sorted(dates)
    usage = await bot.ask(alice, "/timeline mars")
    assert usage.text is not None
    assert usage.text.startswith("Use /timeline")
