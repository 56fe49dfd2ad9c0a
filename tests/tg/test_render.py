"""Telegram's limits, enforced where messages are built: length, callback data, buttons."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from telegram import InlineKeyboardButton

from bot.domain.models import Fact
from bot.service import FactService
from bot.tg import render
from bot.tg.render import MAX_TEXT, CallbackDataError
from tests.fakebot import parse_html, utf16_len


@pytest.fixture
async def service(database: Path) -> AsyncIterator[FactService]:
    opened = await FactService.open(database, None, None)
    yield opened
    await opened.close()


def test_split_blocks_keeps_every_message_under_the_limit_and_tags_whole() -> None:
    blocks = [f"<b>{i}</b> " + html.escape("é & < " * 300) for i in range(40)]
    messages = render.split_blocks(blocks)
    assert len(messages) > 1
    for message in messages:
        parsed = parse_html(message)  # raises on a cut tag, as Telegram would refuse it
        assert utf16_len(parsed.text) <= MAX_TEXT
    joined = "\n\n".join(parse_html(m).text for m in messages)
    assert joined.count("é & <") == 40 * 300


def test_a_single_huge_block_is_cut_between_words() -> None:
    huge = "<i>" + " ".join(["𝔘nicode"] * 3000) + "</i>"  # astral characters count twice
    messages = render.split_blocks([huge])
    assert len(messages) >= 2
    for message in messages:
        assert utf16_len(parse_html(message).text) <= MAX_TEXT
        assert not message.startswith("nicode")


def test_visible_length_counts_what_telegram_counts() -> None:
    text = '<a href="https://x.org/?a=1&amp;b=2">link</a> &lt;tag&gt; 😀'
    assert render.visible_length(text) == utf16_len(parse_html(text).text)


async def test_callback_data_fits_64_bytes_even_for_long_fact_ids(service: FactService) -> None:
    base = service.facts()[0]
    long_fact: Fact = replace(base, id="a-" + "very-long-identifier-" * 5 + "x")
    await service.save(long_fact, actor="test", action="add")
    lang_data = [
        render.pick_data("ru", 2**62, long_fact),
        render.show_data("ru", long_fact),
        render.evidence_data("ru", long_fact),
        render.vote_data(2**62, -1),
        render.browse_data("azerbaijan", "geopolitics", 999),
    ]
    for data in lang_data:
        assert len(data.encode()) <= 64
    action = render.parse(render.show_data("ru", long_fact))
    assert render.resolve_ref(service, action.ref) == long_fact
    out = render.answer(service, long_fact, "ru", query_id=2**62)
    assert out.markup is not None


def test_keyboards_refuse_more_than_100_buttons() -> None:
    rows = [[InlineKeyboardButton(str(i), callback_data=f"t:iran:trade:{i}")] for i in range(101)]
    with pytest.raises(ValueError, match="100"):
        render.keyboard(rows)
    with pytest.raises(ValueError, match="64"):
        render.keyboard([[InlineKeyboardButton("x", callback_data="x" * 65)]])


@pytest.mark.parametrize(
    "data",
    ["", "x", "d:de:1:fact", "d:en:one:fact", "f:1:2", "t:mars", "t:iran:cooking:0", "r:en"],
)
def test_unknown_callback_data_is_rejected(data: str) -> None:
    with pytest.raises(CallbackDataError):
        render.parse(data)


async def test_every_topic_page_fits_telegram(service: FactService) -> None:
    for country in ("azerbaijan", "iran", "belarus"):
        for topic in {f.topic for f in service.facts() if f.country == country}:
            for lang in ("en", "ru"):
                out = render.topic_page(service, country, topic, 0, lang)
                assert out.markup is not None
                assert render.visible_length(out.text) <= MAX_TEXT


async def test_every_fact_view_parses_as_telegram_html(service: FactService) -> None:
    for fact in service.facts():
        for lang in ("en", "ru"):
            for out in render.fact_view(service, fact, lang):
                assert utf16_len(parse_html(out.text).text) <= MAX_TEXT
