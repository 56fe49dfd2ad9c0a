"""Delivery through the fake Bot API: exactly once per chat across a crash and a restart,
403 deactivates, 429 is waited out, a 5xx is retried, a dropped connection is never retried.

The crash is the broadcast task dying after k of n chats had the digest, while Telegram has
accepted the next message but not yet answered (the fake's "delay" fault), so the ledger
still says 'sending'. The restart is a new Application on the same database.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from telegram.ext import CallbackContext

from bot.broadcast import BroadcastOptions
from bot.tg.app import build_application, start_app, stop_app
from bot.tg.digest_job import weekly
from tests.fakebot import FakeBotApi
from tests.tg.conftest import Harness, quick_limiter, running
from tests.tg.digest_helpers import (
    CHANNEL_ID,
    GROUP_ID,
    MINSK,
    admin_texts,
    digest_bot,
    digest_settings,
    digests_to,
    fire_weekly,
    in_flight_calls,
    ledger,
    make_channel,
    owner,
    readers,
    send_calls_to,
    subscribe_all,
    until,
    wait_ready,
    weekly_job,
)

MONDAY = dt.datetime(2031, 3, 3, 9, 0, tzinfo=MINSK)
WEEK = "2031-W10"
QUICK = BroadcastOptions(backoff=0.01, max_backoff=0.05)


@pytest.mark.parametrize(("k", "concurrency"), [(0, 1), (4, 1), (10, 1), (4, 8)])
async def test_a_crash_after_k_of_n_sends_then_a_restart_delivers_to_everyone_exactly_once(
    fake: FakeBotApi, database: Path, k: int, concurrency: int
) -> None:
    owner(fake)
    subscribers = readers(fake, 10)
    make_channel(fake)
    chats = [u.id for u in subscribers] + [CHANNEL_ID]  # n = 11 recipients
    settings = digest_settings(fake, database)

    first = build_application(settings, rate_limiter=quick_limiter())
    first.bot_data.digest.clock = lambda: MONDAY
    first.bot_data.digest.options = BroadcastOptions(concurrency=concurrency)
    await start_app(first)
    try:
        await wait_ready(first)
        await subscribe_all(first, [u.id for u in subscribers])

        def delivered() -> int:
            return sum(len(digests_to(fake, c)) for c in chats)

        if k == 0:
            fake.fail_next("sendMessage", "delay", times=20, delay=60)
        context = CallbackContext.from_job(weekly_job(first), first)
        task = asyncio.create_task(weekly(context))
        if k:
            await fake.wait_for(lambda: delivered() >= k)
            # From here on Telegram posts each message but never answers: the crash comes
            # while the next send is in flight.
            fake.fail_next("sendMessage", "delay", times=20, delay=60)
        await until(lambda: bool(in_flight_calls(fake)))
        task.cancel()  # the process dies
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        await stop_app(first)
    fake.clear_faults()
    in_flight = {c for c, state in ledger(database, WEEK).items() if state == "sending"}
    assert in_flight, "the crash left a send in flight"
    if concurrency == 1:
        assert len(in_flight) == 1
        assert sum(state == "sent" for state in ledger(database, WEEK).values()) == k

    second = build_application(settings, rate_limiter=quick_limiter())
    second.bot_data.digest.clock = lambda: MONDAY + dt.timedelta(minutes=5)
    Harness(fake, second)
    async with running(second):
        await wait_ready(second)

    final = ledger(database, WEEK)
    assert {c for c, state in final.items() if state == "unknown"} == in_flight
    assert all(final[c] == "sent" for c in chats if c not in in_flight)
    for chat in chats:
        if chat in in_flight:
            # Claimed before the crash: posted by the first run if the request had reached
            # Telegram, else not at all, and in either case never sent again.
            assert len(digests_to(fake, chat)) == len(send_calls_to(fake, chat)) <= 1, chat
        else:
            assert len(digests_to(fake, chat)) == 1, chat
            assert len(send_calls_to(fake, chat)) == 1, chat
    if concurrency == 1:
        [chat] = in_flight
        assert len(digests_to(fake, chat)) == 1, "Telegram had accepted the one in flight"
    report = admin_texts(fake)
    assert f"Digest {WEEK} (resumed after a restart)" in report
    assert f"{len(in_flight)} unknown" in report
    for chat in in_flight:
        assert str(chat) in report.split("Unknown")[1]


async def test_403_deactivates_and_the_next_digest_skips_them(
    fake: FakeBotApi, database: Path
) -> None:
    owner(fake)
    alice, blocked, kicked_user = readers(fake, 3)
    kicked_from = fake.group(GROUP_ID, "Old group", admins=[kicked_user], bot_status="kicked")
    fake.block(blocked)
    settings = digest_settings(fake, database, digest_channel="")
    async with digest_bot(fake, settings) as bot:
        await subscribe_all(bot.app, [alice.id, blocked.id, 777_123_456])  # a deleted chat
        await subscribe_all(bot.app, [kicked_from.id], "group")
        await fire_weekly(bot.app, MONDAY)
        assert ledger(database, WEEK) == {
            alice.id: "sent",
            blocked.id: "deactivated",
            kicked_from.id: "deactivated",
            777_123_456: "deactivated",
        }
        active = [s.chat_id for s in await bot.service.store.active_subscribers()]
        assert active == [alice.id]
        assert "1 sent, 0 failed, 3 deactivated, 0 unknown" in admin_texts(fake)

        fake.unblock(blocked)
        await fire_weekly(bot.app, MONDAY + dt.timedelta(weeks=1))
        assert set(ledger(database, "2031-W11")) == {alice.id}
        assert digests_to(fake, blocked) == []


async def test_429_is_honoured_and_the_message_still_arrives(
    fake: FakeBotApi, database: Path
) -> None:
    owner(fake)
    subscribers = readers(fake, 3)
    settings = digest_settings(fake, database, digest_channel="")
    async with digest_bot(fake, settings) as bot:
        bot.app.bot_data.digest.options = BroadcastOptions(concurrency=1)
        await subscribe_all(bot.app, [u.id for u in subscribers])
        fake.fail_next("sendMessage", "429", retry_after=1)
        await fire_weekly(bot.app, MONDAY)
    calls = [c for c in fake.calls_to("sendMessage") if c.params["chat_id"] != owner(fake).id]
    assert [c.status for c in calls] == [429, 200, 200, 200]
    assert calls[0].params["chat_id"] == calls[1].params["chat_id"]
    assert calls[1].at - calls[0].at >= 1.0, "retried before retry_after had passed"
    for user in subscribers:
        assert len(digests_to(fake, user)) == 1
    assert "3 sent, 0 failed, 0 deactivated, 0 unknown" in admin_texts(fake)


async def test_telegrams_flood_limits_are_waited_out_and_nobody_gets_it_twice(
    fake: FakeBotApi, database: Path
) -> None:
    owner(fake)
    subscribers = readers(fake, 12)
    settings = digest_settings(fake, database, digest_channel="")
    async with digest_bot(fake, settings) as bot:
        await subscribe_all(bot.app, [u.id for u in subscribers])
        fake.rate_limit(per_second=5, per_chat_per_minute=20)
        await fire_weekly(bot.app, MONDAY)
        fake.clear_rate_limit()
    statuses = Counter(c.status for c in fake.calls_to("sendMessage"))
    assert statuses[429] > 0, "the flood model never pushed back"
    assert set(statuses) <= {200, 429}
    for user in subscribers:
        assert len(digests_to(fake, user)) == 1
    assert set(ledger(database, WEEK).values()) == {"sent"}


@pytest.mark.parametrize("fault", ["500", "502"])
async def test_a_server_error_is_retried_by_the_broadcast_with_backoff(
    fake: FakeBotApi, database: Path, fault: str
) -> None:
    owner(fake)
    subscribers = readers(fake, 2)
    settings = digest_settings(fake, database, digest_channel="")
    async with digest_bot(fake, settings) as bot:
        bot.app.bot_data.digest.options = QUICK
        await subscribe_all(bot.app, [u.id for u in subscribers])
        fake.fail_next("sendMessage", fault, times=2)  # type: ignore[arg-type]
        await fire_weekly(bot.app, MONDAY)
    for user in subscribers:
        assert len(digests_to(fake, user)) == 1
    assert set(ledger(database, WEEK).values()) == {"sent"}
    statuses = [s for u in subscribers for s in send_calls_to(fake, u.id)]
    assert Counter(statuses) == Counter({int(fault): 2, 200: 2})


async def test_a_dropped_connection_is_reported_unknown_and_never_resent(
    fake: FakeBotApi, database: Path
) -> None:
    owner(fake)
    subscribers = readers(fake, 3)
    settings = digest_settings(fake, database, digest_channel="")
    async with digest_bot(fake, settings) as bot:
        bot.app.bot_data.digest.options = QUICK
        await subscribe_all(bot.app, [u.id for u in subscribers])
        fake.fail_next("sendMessage", "drop")
        await fire_weekly(bot.app, MONDAY)
        # A later trigger (restart, /digest send) does not try that chat again either.
        await fire_weekly(bot.app, MONDAY + dt.timedelta(hours=2))
    [dropped] = [c for c in fake.calls_to("sendMessage") if c.status == 0]
    chat = dropped.params["chat_id"]
    # The rate limiter's own network retries (which answer a user again after a drop)
    # must not repeat a digest: Telegram may have posted it before the connection died.
    assert send_calls_to(fake, chat) == [0]
    assert ledger(database, WEEK)[chat] == "unknown"
    others = [u.id for u in subscribers if u.id != chat]
    assert all(ledger(database, WEEK)[c] == "sent" for c in others)
    report = admin_texts(fake)
    assert "2 sent, 0 failed, 0 deactivated, 1 unknown" in report
    assert f"<code>{chat}</code>" not in report, "admins read text, not HTML source"
    assert str(chat) in report


async def test_a_permanent_refusal_is_recorded_failed_and_reported(
    fake: FakeBotApi, database: Path
) -> None:
    owner(fake)
    subscribers = readers(fake, 2)
    settings = digest_settings(fake, database, digest_channel="")
    async with digest_bot(fake, settings) as bot:
        bot.app.bot_data.digest.options = BroadcastOptions(concurrency=1)
        await subscribe_all(bot.app, [u.id for u in subscribers])
        fake.fail_next("sendMessage", "400", description="Bad Request: TOPIC_CLOSED")
        await fire_weekly(bot.app, MONDAY)
    first = subscribers[0].id
    assert ledger(database, WEEK) == {first: "failed", subscribers[1].id: "sent"}
    assert send_calls_to(fake, first) == [400]
    report = admin_texts(fake)
    assert "1 sent, 1 failed, 0 deactivated, 0 unknown" in report
    assert "topic_closed" in report.lower()


async def test_a_bot_stopped_mid_broadcast_finishes_its_sends_and_the_restart_sends_the_rest(
    fake: FakeBotApi, database: Path
) -> None:
    owner(fake)
    subscribers = readers(fake, 10)
    chats = [u.id for u in subscribers]
    settings = digest_settings(fake, database, digest_channel="")

    first = build_application(settings, rate_limiter=quick_limiter())
    first.bot_data.digest.clock = lambda: MONDAY
    first.bot_data.digest.options = BroadcastOptions(concurrency=2)
    await start_app(first)
    try:
        await wait_ready(first)
        await subscribe_all(first, chats)
        # Every send takes a while, as at Telegram's 30 a second: the stop comes mid-way.
        fake.fail_next("sendMessage", "delay", times=len(chats), delay=0.3)
        assert first.job_queue is not None
        first.job_queue.run_once(weekly, 0)
        await until(lambda: sum(len(digests_to(fake, c)) for c in chats) >= 3)
    finally:
        await stop_app(first)  # what SIGTERM does: waits for the job, which now winds down
    fake.clear_faults()
    halfway = ledger(database, WEEK)
    assert "sending" not in halfway.values(), "a send under way was cut off"
    assert "pending" in halfway.values(), "the stop waited for the whole broadcast"
    assert "still to go" in admin_texts(fake)

    second = build_application(settings, rate_limiter=quick_limiter())
    second.bot_data.digest.clock = lambda: MONDAY + dt.timedelta(minutes=5)
    Harness(fake, second)
    async with running(second):
        await wait_ready(second)

    assert ledger(database, WEEK) == {c: "sent" for c in chats}
    for chat in chats:
        assert len(digests_to(fake, chat)) == 1, chat
        assert len(send_calls_to(fake, chat)) == 1, chat
    report = admin_texts(fake)
    assert f"Digest {WEEK} (resumed after a restart)" in report
    assert "0 unknown" in report
    assert "Unknown —" not in report, "nobody is left uncertain by a stop"


async def test_a_group_that_became_a_supergroup_is_followed_to_its_new_id(
    fake: FakeBotApi, database: Path
) -> None:
    olga = owner(fake)
    [reader] = readers(fake, 1)
    basic = fake.group(-4_000_001, "Minsk desk", admins=[olga])
    settings = digest_settings(fake, database, digest_channel="")
    async with digest_bot(fake, settings) as bot:
        store = bot.app.bot_data.service.store
        await subscribe_all(bot.app, [basic.id], kind="group")
        await subscribe_all(bot.app, [reader.id])
        await store.set_chat_lang(basic.id, "group", "ru")
        # Upgraded while the bot was down (it never saw the service message): the digest's
        # send to the old id is what tells it.
        new, _ = await fake.migrate_to_supergroup(basic, -100_400_000_001, by=olga, seen=False)
        await fire_weekly(bot.app, MONDAY)
        assert await store.is_subscribed(new.id)
        assert not await store.is_subscribed(basic.id)
        assert await store.chat_lang(new.id) == "ru"
    assert ledger(database, WEEK) == {reader.id: "sent", basic.id: "deactivated", new.id: "sent"}
    [digest] = digests_to(fake, new)
    assert digest.text is not None
    assert any("а" <= ch <= "я" for ch in digest.text), "the group's Russian edition"
    assert digests_to(fake, basic) == []
    assert f"{basic.id} → {new.id}" in admin_texts(fake)


async def test_the_migration_message_moves_the_subscription_at_once(
    fake: FakeBotApi, database: Path
) -> None:
    olga = owner(fake)
    basic = fake.group(-4_000_002, "Baku desk", admins=[olga])
    settings = digest_settings(fake, database, digest_channel="")
    async with digest_bot(fake, settings) as bot:
        store = bot.app.bot_data.service.store
        await subscribe_all(bot.app, [basic.id], kind="group")
        await store.set_chat_lang(basic.id, "group", "ru")
        new, service_message = await fake.migrate_to_supergroup(basic, -100_400_000_002, by=olga)
        await bot.wait_processed(service_message)
        assert await store.is_subscribed(new.id)
        assert not await store.is_subscribed(basic.id)
        assert await store.chat_lang(new.id) == "ru"
        await fire_weekly(bot.app, MONDAY)
    assert ledger(database, WEEK) == {new.id: "sent"}
    assert send_calls_to(fake, basic.id) == []
