"""The digest's content rules, read off the messages subscribers actually receive: the week's
new and changed facts with their citations, the archive rotation that repeats nothing for
eight weeks, "most asked", and a split at Telegram's 4,096 characters between facts.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from bot.domain.digest import MESSAGE_LIMIT
from bot.domain.models import Fact
from bot.service import FactService
from tests.fakebot import FakeBotApi, utf16_len
from tests.tg.conftest import ADMIN_ID
from tests.tg.digest_helpers import (
    MINSK,
    bold_titles,
    digest_bot,
    digest_parts_to,
    digest_settings,
    digests_to,
    fire_weekly,
    owner,
    readers,
    subscribe_all,
)

ACTOR = f"tg:{ADMIN_ID}"
BASE_FACT = "ir-30th-anniversary"
CHANGED_FACT = "az-arms-d30-howitzers"
ASKED = {
    "When did Lukashenka visit Iran?": 3,
    "How many D-30 howitzers did Azerbaijan buy from Belarus?": 2,
    "What joint production did Lukashenko propose to Azerbaijan?": 1,
}


def new_fact(service: FactService, number: int) -> Fact:
    """A fact added this week: a copy of a real one under a new id and new wording."""
    base = service.fact(BASE_FACT)
    assert base is not None
    return base.with_changes(
        id=f"ir-test-fact-{number}",
        questions={
            "en": (f"What is test fact number {number}?",),
            "ru": (f"Что такое тестовый факт номер {number}?",),
        },
        answer={
            "en": f"Test fact number {number} is about the zebra partnership. " * 4,
            "ru": f"Тестовый факт номер {number} — о партнёрстве «зебра». " * 4,
        },
    )


async def test_new_and_changed_facts_with_citations_archive_and_most_asked(
    fake: FakeBotApi, database: Path
) -> None:
    owner(fake)
    [alice] = readers(fake, 1)
    async with digest_bot(fake, digest_settings(fake, database, digest_channel="")) as bot:
        service = bot.service
        await subscribe_all(bot.app, [alice.id])
        added = await service.create(new_fact(service, 1), ACTOR)
        stored = await service.store.get(CHANGED_FACT)
        assert stored is not None
        changed = stored.fact.with_changes(
            answer={**stored.fact.answer, "en": "Azerbaijan bought 120 D-30 howitzers (edited)."}
        )
        await service.save(changed, ACTOR, "edit", stored.version)
        for question, times in ASKED.items():
            for _ in range(times):
                await bot.ask(alice, question)
        expected_asked = [service.ask(q).fact for q in ASKED]
        assert None not in expected_asked, "every question is answered outright"
        await fire_weekly(bot.app)  # now: the edits and questions are this week's

    [digest] = digests_to(fake, alice)
    html = digest.html or ""
    text = digest.text or ""
    new = bold_titles(html, "🆕 New and updated this week")
    assert sorted(new) == sorted([added.fact.questions_in("en")[0], changed.questions_in("en")[0]])
    assert "(updated)" in text.split(changed.questions_in("en")[0])[1].split("\n")[0]
    assert "(updated)" not in text.split(added.fact.questions_in("en")[0])[1].split("\n")[0]
    assert "Azerbaijan bought 120 D-30 howitzers (edited)." in text
    new_section = text.split("🆕 New and updated this week")[1].split("📚 From the archive")[0]
    assert new_section.count("📄 Source:") == 2, "each new or changed fact with its citation"
    archive = bold_titles(html, "📚 From the archive")
    assert len(archive) == 1, "archive facts fill up to three"
    most = text.split("🔥 Most asked this week")[1].split("\n\n")[0].strip().splitlines()
    assert [re.sub(r"^\d\. ", "", line).rsplit(" — ", 1) for line in most] == [
        [f.questions_in("en")[0], f"{n}×"]
        for f, n in zip(expected_asked, ASKED.values(), strict=True)
        if f is not None  # (checked above; narrows the type)
    ]
    assert text.rstrip().endswith("send /unsubscribe.")


async def test_the_archive_rotation_repeats_no_fact_within_eight_digests(
    fake: FakeBotApi, database: Path
) -> None:
    owner(fake)
    [alice] = readers(fake, 1)
    first = dt.datetime(2031, 1, 6, 9, 0, tzinfo=MINSK)  # a Monday, far from this week's edits
    weeks: list[list[str]] = []
    async with digest_bot(fake, digest_settings(fake, database, digest_channel="")) as bot:
        await subscribe_all(bot.app, [alice.id])
        for week in range(10):
            await fire_weekly(bot.app, first + dt.timedelta(weeks=week))
            [*_, latest] = digests_to(fake, alice)
            assert "No facts were added or changed this week." in (latest.text or "")
            weeks.append(bold_titles(latest.html or "", "📚 From the archive"))
        live = {f.questions_in("en")[0] for f in bot.service.facts()}
    assert all(len(titles) == 3 for titles in weeks)
    assert all(set(titles) <= live for titles in weeks)
    for end in range(9, len(weeks) + 1):
        window = [t for titles in weeks[end - 9 : end] for t in titles]
        assert len(window) == len(set(window)), "a fact came back within eight digests"
    assert weeks[0] != weeks[1]


async def test_a_large_week_is_split_at_4096_between_facts_in_both_editions(
    fake: FakeBotApi, database: Path
) -> None:
    owner(fake)
    alice, boris = readers(fake, 2)
    async with digest_bot(fake, digest_settings(fake, database, digest_channel="")) as bot:
        service = bot.service
        await subscribe_all(bot.app, [alice.id, boris.id])
        await service.store.set_chat_lang(boris.id, "private", "ru")
        facts = [(await service.create(new_fact(service, n), ACTOR)).fact for n in range(40)]
        await fire_weekly(bot.app)

    for user, lang, closing in ((alice, "en", "/unsubscribe."), (boris, "ru", "/unsubscribe.")):
        parts = digest_parts_to(fake, user)
        assert len(parts) >= 3, "40 new facts do not fit one message"
        messages = [m for m in fake.messages_to(user) if m.html in parts]
        assert all(utf16_len(m.text or "") <= MESSAGE_LIMIT for m in messages)
        assert all(utf16_len(p) <= MESSAGE_LIMIT for p in parts), "raw HTML within the limit"
        assert "📰" in parts[0]
        assert parts[-1].rstrip().endswith(closing)
        for fact in facts:
            title = fact.questions_in(lang)[0]
            holding = [p for p in parts if title in p]
            assert len(holding) == 1, (lang, title)
            # The whole fact (title, answer, citation) sits in one message: no cut inside.
            block = holding[0].split(f"<b>{title}</b>", 1)[1].split("\n\n<b>", 1)[0]
            assert fact.answer_in(lang).split(".")[0] in block
            assert "📄" in block
