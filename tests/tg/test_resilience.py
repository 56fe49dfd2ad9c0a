"""The bot under stress: Telegram's faults, a crashing handler, a flooding user, a crowd."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from bot.service import Reply
from bot.settings import Settings
from bot.tg.app import build_application
from tests.fakebot import FakeBotApi, FakeUser
from tests.tg.conftest import ADMIN_ID, FakeClock, Harness, make_settings, quick_limiter, running

QUESTION = "When did Lukashenka visit Iran?"


async def test_429_retry_after_is_honoured_and_the_reply_still_arrives(
    bot: Harness, fake: FakeBotApi, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    fake.fail_next("sendMessage", "429", retry_after=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await bot.ask(alice, QUESTION)
    assert "Source:" in (answer.text or "")
    calls = fake.calls_to("sendMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 1.0, "the retry came before retry_after had passed"
    assert loop.time() - started >= 1.0
    assert "Source:" in ((await bot.ask(alice, QUESTION)).text or "")


@pytest.mark.parametrize("fault", ["500", "502", "drop"])
async def test_server_errors_and_dropped_connections_are_retried(
    fault: str, bot: Harness, fake: FakeBotApi, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    fake.fail_next("sendMessage", fault, times=2)  # type: ignore[arg-type]
    answer = await bot.ask(alice, QUESTION)
    assert "Source:" in (answer.text or "")
    statuses = [c.status for c in fake.calls_to("sendMessage")]
    assert statuses[-1] == 200
    assert len(statuses) == 3
    # The bot keeps serving: the next question is answered at once.
    again = await bot.ask(alice, "/sources")
    assert (again.text or "").startswith("📰 Sources")


async def test_a_fault_on_a_button_press_is_retried_too(
    bot: Harness, fake: FakeBotApi, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, _ = users
    answer = await bot.ask(alice, QUESTION)
    fake.fail_next("editMessageText", "502")
    await bot.press_label(alice, answer, "📄 What the article says")
    assert "What the article says" in (answer.text or "")


async def test_errors_reach_admins_once_a_minute_and_users_never_see_a_trace(
    bot: Harness,
    fake: FakeBotApi,
    clock: FakeClock,
    users: tuple[FakeUser, FakeUser],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    alice, boris = users
    fake.user(ADMIN_ID, "Admin", started=True)

    def broken(question: str) -> Reply:
        raise RuntimeError("database exploded at /secret/path")

    monkeypatch.setattr(bot.service, "ask", broken)
    first = await bot.ask(alice, QUESTION)
    second = await bot.ask(boris, QUESTION)
    assert first.text == "Sorry, something went wrong on my side. Please try again in a moment."
    assert second.text == "Извините, у меня что-то сломалось. Попробуйте ещё раз чуть позже."
    alerts = fake.messages_to(ADMIN_ID)
    assert len(alerts) == 1
    assert "RuntimeError" in (alerts[0].text or "")
    assert "update" in (alerts[0].text or "")
    clock.advance(61)
    await bot.ask(alice, QUESTION)
    assert len(fake.messages_to(ADMIN_ID)) == 2
    for message in fake.messages_to(alice.id) + fake.messages_to(boris.id):
        assert "Traceback" not in (message.text or "")
        assert "secret" not in (message.text or "")
    assert any("update" in r.getMessage() and r.exc_info for r in caplog.records)
    monkeypatch.undo()
    assert "Source:" in ((await bot.ask(alice, QUESTION)).text or "")


async def test_flood_limit_one_notice_then_silence_and_others_unaffected(
    fake: FakeBotApi, database: Path, clock: FakeClock, users: tuple[FakeUser, FakeUser]
) -> None:
    alice, boris = users
    settings = make_settings(fake, database, flood_limit=3)
    app = build_application(settings, rate_limiter=quick_limiter())
    app.bot_data.flood.clock = clock
    bot = Harness(fake, app)
    async with running(app):
        replies = []
        for _ in range(6):
            replies += await bot.say(alice, QUESTION)
        texts = [m.text or "" for m in replies]
        assert sum("Source:" in t for t in texts) == 3
        assert (
            texts[3]
            == "You are asking faster than I can keep up with. I will answer again in a minute."
        )
        assert len(texts) == 4, "after the notice, silence"
        assert "Source:" in ((await bot.ask(boris, QUESTION)).text or "")
        assert await bot.say(alice, QUESTION) == []
        clock.advance(60)
        assert "Source:" in ((await bot.ask(alice, QUESTION)).text or "")
        # Commands are not questions: browsing still works for a user over the limit.
        assert (await bot.ask(alice, "/sources")).text


async def test_200_concurrent_users_each_get_exactly_one_answer(
    fake: FakeBotApi, settings: Settings
) -> None:
    app = build_application(settings, rate_limiter=quick_limiter())
    users = [fake.user(50_000 + i, f"User {i}", "ru" if i % 3 == 0 else "en") for i in range(200)]
    questions = [
        QUESTION,
        "Когда Лукашенко был в Иране?",
        "What is the capital of France?",
        "Belarus",
        "Did Belarus sell weapons to Azerbaijan?",
    ]
    fake.rate_limit(per_second=30, per_chat_per_minute=20)  # Telegram's flood model
    async with running(app):
        injected = await asyncio.gather(
            *(fake.send_text(u, questions[i % len(questions)]) for i, u in enumerate(users))
        )
        assert all(i.delivered for i in injected)
        await fake.wait_for(lambda: len({m.chat_id for m in fake.sent}) == len(users), timeout=30)
    # Leaving `running` stopped polling and drained every in-flight update.
    per_chat = Counter(m.chat_id for m in fake.sent)
    assert set(per_chat) == {u.id for u in users}
    assert set(per_chat.values()) == {1}, "some user got more than one answer"
    delivered = [i.update_id for i in injected if i.update_id is not None]
    assert sorted(fake.delivered_update_ids) == sorted(delivered)
    assert fake.pending_updates == []
    # Bursts past the flood model were answered 429 and waited out, never dropped.
    assert {c.status for c in fake.calls_to("sendMessage")} <= {200, 429}
