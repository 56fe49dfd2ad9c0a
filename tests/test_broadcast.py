"""The delivery engine and the schedule: at most once per chat, exactly once unless in flight.

A fake Sender stands in for Telegram; it can fail a chat in scripted ways and can "crash the
process" right after Telegram accepted a message, before the ledger heard of it. Waits go
through a recording fake sleep, so nothing here waits for real time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

import pytest

from bot.broadcast import (
    BroadcastOptions,
    BroadcastReport,
    DeliveryUncertain,
    PermanentError,
    Recipient,
    RecipientGone,
    RetryLater,
    TransientError,
    broadcast,
    job_time,
    missed_digest_decision,
    next_run,
    prepare_digest,
    preview_digest,
    previous_run,
    ptb_days,
    resume,
    send_digest,
    startup_decision,
)
from bot.domain.answers import Composer
from bot.domain.digest import Digest, week_id
from bot.domain.models import Fact, Source
from bot.storage.store import Store

MINSK = ZoneInfo("Europe/Minsk")
BERLIN = ZoneInfo("Europe/Berlin")
CHANNEL = -1001234567890
Mode = Literal["after-accept", "before-accept", "cancel-after-accept"]


class Crash(BaseException):
    """The process dying: not an error the engine may catch and handle."""


@dataclass
class FakeSender:
    """Telegram as the engine sees it: accepts messages, or fails them as scripted.

    `crash_at` is the number of the send call (1-based) during which the process dies: after
    Telegram accepted the message, or before, or by the broadcast task being cancelled.
    """

    failures: dict[int, list[Exception]] = field(default_factory=dict)
    crash_at: int | None = None
    mode: Mode = "after-accept"
    victim: asyncio.Task[BroadcastReport] | None = None
    accepted: list[tuple[int, str]] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    gate: asyncio.Event | None = None
    gate_at: int = 0

    async def send(self, chat_id: int, text: str) -> None:
        self.calls.append(chat_id)
        scripted = self.failures.get(chat_id)
        if scripted:
            raise scripted.pop(0)
        crash = len(self.calls) == self.crash_at
        if crash and self.mode == "before-accept":
            raise Crash
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                if self.in_flight >= self.gate_at:
                    self.gate.set()
                await self.gate.wait()
            self.accepted.append((chat_id, text))
        finally:
            self.in_flight -= 1
        if crash and self.mode == "after-accept":
            raise Crash
        if crash and self.mode == "cancel-after-accept":
            assert self.victim is not None
            self.victim.cancel()
            await asyncio.Event().wait()  # cancelled here, before the engine records 'sent'


@dataclass
class FakeSleep:
    slept: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


def make_digest(digest_id: str = "2026-W48", parts: int = 1) -> Digest:
    def edition(lang: str) -> tuple[str, ...]:
        return tuple(f"<b>{digest_id}</b> {lang} part {i + 1}/{parts}" for i in range(parts))

    return Digest(
        id=digest_id,
        featured=("a", "b", "c"),
        new=("a",),
        archive=("b", "c"),
        most_asked=(),
        html={"en": edition("en"), "ru": edition("ru")},
        text={"en": edition("en"), "ru": edition("ru")},
    )


async def stored_digest(store: Store, digest_id: str = "2026-W48", parts: int = 1) -> Digest:
    digest = make_digest(digest_id, parts)
    assert await store.create_digest(digest.id, digest.featured, digest.to_json())
    return digest


async def subscribe(store: Store, chat_ids: Sequence[int], lang: str = "en") -> None:
    for chat_id in chat_ids:
        await store.subscribe(chat_id)
        if lang != "en":
            async with store.transaction() as conn:
                await conn.execute(
                    "INSERT INTO chats (chat_id, kind, lang, updated_at) VALUES (?, ?, ?, ?)",
                    (chat_id, "private", lang, "2026-11-01T00:00:00+00:00"),
                )


async def states(store: Store, digest_id: str = "2026-W48") -> dict[int, str]:
    return {d.chat_id: d.state for d in await store.deliveries(digest_id)}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "tiesbot.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(db_path)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


def options(sleep: FakeSleep, **changes: Any) -> BroadcastOptions:
    return BroadcastOptions(sleep=sleep, **changes)


# -- a crash after k of n sends ------------------------------------------------------------

SUBSCRIBERS = [101, 102, 103, 104, 105]


@pytest.mark.parametrize("mode", ["after-accept", "before-accept", "cancel-after-accept"])
@pytest.mark.parametrize("parts", [1, 2])
@pytest.mark.parametrize("k", range(len(SUBSCRIBERS)))
async def test_a_crash_after_k_sends_then_resume_delivers_exactly_once_but_in_flight(
    db_path: Path, sleep: FakeSleep, k: int, parts: int, mode: Mode
) -> None:
    store = await Store.open(db_path)
    await subscribe(store, SUBSCRIBERS)
    digest = await stored_digest(store, parts=parts)
    # One worker: chats go in order, so the victim is the (k+1)th chat. With two parts the
    # crash comes with its second part, after its first reached the chat.
    crash_call = k * parts + parts
    first = FakeSender(crash_at=crash_call, mode=mode)
    run = asyncio.create_task(
        send_digest(store, digest, first, options=options(sleep, concurrency=1))
    )
    first.victim = run
    with pytest.raises(asyncio.CancelledError if mode.startswith("cancel") else Crash):
        await run
    await store.close()

    store = await Store.open(db_path)  # the restart
    try:
        second = FakeSender()
        [report] = await resume(store, second, options=options(sleep, concurrency=1))
        victim = SUBSCRIBERS[k]
        assert report.unknown == [victim]
        assert victim not in {chat for chat, _ in second.accepted}
        received = Counter(first.accepted + second.accepted)
        for chat_id in SUBSCRIBERS:
            for part in digest.parts("en"):
                # At most once for every chat ...
                assert received[(chat_id, part)] <= 1
                # ... exactly once for all but the one in flight.
                if chat_id != victim:
                    assert received[(chat_id, part)] == 1
        assert sorted(report.sent) == [c for c in SUBSCRIBERS if c > victim]
        expected = {c: "sent" for c in SUBSCRIBERS} | {victim: "unknown"}
        assert await states(store) == expected
        stored = await store.get_digest(digest.id)
        assert stored is not None
        assert stored.status == "done"
        # Nothing is left to resume, and sending again (an admin's /digest send) sends nothing.
        assert await resume(store, FakeSender()) == []
        third = FakeSender()
        again = await send_digest(store, digest, third, options=options(sleep))
        assert third.accepted == []
        assert again.already_done == len(SUBSCRIBERS)
    finally:
        await store.close()


@pytest.mark.parametrize("k", [0, 3, 7, 11])
async def test_a_crash_with_concurrent_workers_never_duplicates(
    db_path: Path, sleep: FakeSleep, k: int
) -> None:
    chats = list(range(1, 13))
    store = await Store.open(db_path)
    await subscribe(store, chats)
    digest = await stored_digest(store)
    first = FakeSender(crash_at=k + 1)
    with pytest.raises(Crash):
        await send_digest(store, digest, first, options=options(sleep, concurrency=4))
    await store.close()

    store = await Store.open(db_path)
    try:
        second = FakeSender()
        [report] = await resume(store, second, options=options(sleep, concurrency=4))
        received = Counter(chat for chat, _ in first.accepted + second.accepted)
        final = await states(store)
        assert set(final.values()) <= {"sent", "unknown"}
        assert 1 <= len(report.unknown) <= 4  # only what was in flight at the crash
        for chat_id in chats:
            assert received[chat_id] <= 1
            if final[chat_id] == "sent":
                assert received[chat_id] == 1
        assert {c for c, s in final.items() if s == "unknown"} == set(report.unknown)
        assert not {chat for chat, _ in second.accepted} & set(report.unknown)
    finally:
        await store.close()


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_a_stopping_bot_finishes_the_sends_under_way_and_leaves_the_rest_pending(
    db_path: Path, sleep: FakeSleep, concurrency: int
) -> None:
    chats = list(range(1, 13))
    store = await Store.open(db_path)
    await subscribe(store, chats)
    digest = await stored_digest(store)
    first = FakeSender()
    # The bot starts stopping once five chats are claimed (Application.stop in production).
    going = options(sleep, concurrency=concurrency, keep_going=lambda: len(first.calls) < 5)
    report = await send_digest(store, digest, first, options=going)
    assert report.left == len(chats) - len(report.sent)
    assert report.unknown == []
    assert report.left > 0
    assert len(report.sent) == len(first.accepted) >= 5  # what was under way was finished
    assert "left for the next start-up" in report.summary()
    stored = await store.get_digest(digest.id)
    assert stored is not None
    assert stored.status != "done"
    await store.close()

    store = await Store.open(db_path)  # the restart
    try:
        second = FakeSender()
        [resumed] = await resume(store, second, options=options(sleep, concurrency=concurrency))
        assert resumed.unknown == []
        assert resumed.left == 0
        received = Counter(chat for chat, _ in first.accepted + second.accepted)
        assert received == Counter(chats), "every chat exactly once, nobody unknown"
        assert await states(store) == {c: "sent" for c in chats}
        assert await resume(store, FakeSender()) == []
    finally:
        await store.close()


async def test_two_broadcasts_of_one_digest_at_once_send_each_chat_once(
    store: Store, sleep: FakeSleep
) -> None:
    chats = list(range(1, 21))
    await subscribe(store, chats)
    digest = await stored_digest(store)
    one, two = FakeSender(), FakeSender()
    reports = await asyncio.gather(
        send_digest(store, digest, one, options=options(sleep, concurrency=3)),
        send_digest(store, digest, two, options=options(sleep, concurrency=3)),
    )
    received = Counter(chat for chat, _ in one.accepted + two.accepted)
    assert received == Counter(chats)
    assert sorted(reports[0].sent + reports[1].sent) == chats


async def test_sends_run_concurrently_within_the_bound(store: Store, sleep: FakeSleep) -> None:
    chats = list(range(1, 21))
    await subscribe(store, chats)
    digest = await stored_digest(store)
    sender = FakeSender(gate=asyncio.Event(), gate_at=4)
    report = await send_digest(store, digest, sender, options=options(sleep, concurrency=4))
    assert sender.max_in_flight == 4
    assert sorted(report.sent) == chats


async def test_concurrent_ledger_writes_go_out_together_in_the_same_order(
    store: Store, sleep: FakeSleep, monkeypatch: pytest.MonkeyPatch
) -> None:
    chats = list(range(1, 41))
    await subscribe(store, chats)
    digest = await stored_digest(store)
    statements: list[tuple[str, int]] = []
    for name in ("mark_sending", "mark_sent"):
        original = getattr(store, name)

        async def counted(
            digest_id: str, chat_ids: list[int], _name: str = name, _write: Any = original
        ) -> set[int]:
            statements.append((_name, len(chat_ids)))
            return cast(set[int], await _write(digest_id, chat_ids))

        monkeypatch.setattr(store, name, counted)
    seen_at_send: dict[int, str] = {}

    class Checking(FakeSender):
        async def send(self, chat_id: int, text: str) -> None:
            # Committed before the send: what a crash right now would leave in the ledger.
            seen_at_send[chat_id] = (await states(store))[chat_id]
            await super().send(chat_id, text)

    sender = Checking(gate=asyncio.Event(), gate_at=8)
    report = await send_digest(store, digest, sender, options=options(sleep, concurrency=8))
    assert sorted(report.sent) == chats
    assert seen_at_send == {c: "sending" for c in chats}
    assert await states(store) == {c: "sent" for c in chats}
    for name in ("mark_sending", "mark_sent"):
        sizes = [n for kind, n in statements if kind == name]
        assert sum(sizes) == len(chats)
        assert len(sizes) < len(chats), f"{name}: one statement per chat, none grouped"


# -- what Telegram may answer --------------------------------------------------------------


async def test_403_deactivates_the_subscriber_for_good(store: Store, sleep: FakeSleep) -> None:
    await subscribe(store, [1, 2, 3])
    digest = await stored_digest(store)
    sender = FakeSender(failures={2: [RecipientGone("Forbidden: bot was blocked by the user")]})
    report = await send_digest(store, digest, sender, options=options(sleep))
    assert report.deactivated == [2]
    assert sorted(report.sent) == [1, 3]
    assert report.counts == {"sent": 2, "failed": 0, "deactivated": 1, "unknown": 0}
    assert await states(store) == {1: "sent", 2: "deactivated", 3: "sent"}
    assert not await store.is_subscribed(2)
    assert sender.calls.count(2) == 1  # not retried

    later = await stored_digest(store, "2026-W49")
    next_week = FakeSender()
    await send_digest(store, later, next_week, options=options(sleep))
    assert sorted(chat for chat, _ in next_week.accepted) == [1, 3]


async def test_429_is_waited_out_and_is_no_failure(store: Store, sleep: FakeSleep) -> None:
    await subscribe(store, [1, 2])
    digest = await stored_digest(store, parts=2)
    seen_while_waiting: list[str] = []

    async def watching_sleep(seconds: float) -> None:
        await sleep(seconds)
        seen_while_waiting.append((await states(store))[1])

    sender = FakeSender(failures={1: [RetryLater(7), RetryLater(3)]})
    report = await send_digest(
        store,
        digest,
        sender,
        options=BroadcastOptions(sleep=watching_sleep, concurrency=1, max_attempts=1),
    )
    assert sleep.slept == [7, 3]
    assert sorted(report.sent) == [1, 2]
    assert report.failed == {}
    [row, _] = await store.deliveries(digest.id)
    assert (row.state, row.error) == ("sent", None)
    assert [chat for chat, _ in sender.accepted] == [1, 1, 2, 2]
    # Nothing had reached the chat, so a crash during the wait would not cost it the digest.
    assert seen_while_waiting == ["pending", "pending"]


async def test_429_between_parts_keeps_the_row_in_flight(store: Store, sleep: FakeSleep) -> None:
    await subscribe(store, [1])
    digest = await stored_digest(store, parts=2)
    seen_while_waiting: list[str] = []

    async def watching_sleep(seconds: float) -> None:
        seen_while_waiting.append((await states(store))[1])

    class SecondPartThrottled(FakeSender):
        async def send(self, chat_id: int, text: str) -> None:
            if "part 2/2" in text and len(self.calls) == 1:
                self.calls.append(chat_id)
                raise RetryLater(5)
            await super().send(chat_id, text)

    sender = SecondPartThrottled()
    report = await send_digest(
        store, digest, sender, options=BroadcastOptions(sleep=watching_sleep)
    )
    assert report.sent == [1]
    assert [text for _, text in sender.accepted] == list(digest.parts("en"))
    # Part 1 had reached the chat: a crash now must not lead to sending it again.
    assert seen_while_waiting == ["sending"]


async def test_endless_429_gives_up_after_the_bound(store: Store, sleep: FakeSleep) -> None:
    await subscribe(store, [1])
    digest = await stored_digest(store)
    sender = FakeSender(failures={1: [RetryLater(1) for _ in range(10)]})
    report = await send_digest(store, digest, sender, options=options(sleep, max_waits=3))
    assert list(report.failed) == [1]
    assert len(sleep.slept) == 3


async def test_transient_errors_are_retried_with_backoff_then_fail(
    store: Store, sleep: FakeSleep
) -> None:
    await subscribe(store, [1, 2])
    digest = await stored_digest(store)
    sender = FakeSender(
        failures={
            1: [TransientError("502 Bad Gateway") for _ in range(10)],
            2: [TransientError("connection reset"), TransientError("503")],
        }
    )
    report = await send_digest(
        store, digest, sender, options=options(sleep, concurrency=1, max_attempts=4)
    )
    assert report.failed == {1: "502 Bad Gateway"}
    assert report.sent == [2]
    assert sender.calls.count(1) == 4  # max_attempts in all
    assert sleep.slept == [1.0, 2.0, 4.0, 1.0, 2.0]
    assert await states(store) == {1: "failed", 2: "sent"}
    rows = {d.chat_id: d for d in await store.deliveries(digest.id)}
    assert rows[1].error == "502 Bad Gateway"


async def test_backoff_is_capped(store: Store, sleep: FakeSleep) -> None:
    await subscribe(store, [1])
    digest = await stored_digest(store)
    sender = FakeSender(failures={1: [TransientError("500") for _ in range(5)]})
    await send_digest(
        store,
        digest,
        sender,
        options=BroadcastOptions(sleep=sleep, max_attempts=6, backoff=2.0, max_backoff=5.0),
    )
    assert sleep.slept == [2.0, 4.0, 5.0, 5.0, 5.0]


async def test_refusals_and_uncertain_sends_are_never_retried(
    store: Store, sleep: FakeSleep
) -> None:
    await subscribe(store, [1, 2, 3, 4])
    digest = await stored_digest(store, parts=2)
    sender = FakeSender(
        failures={
            1: [PermanentError("Bad Request: message is too long")],
            2: [DeliveryUncertain("Timed out")],
            3: [ValueError("a Sender bug")],
        }
    )
    report = await send_digest(store, digest, sender, options=options(sleep))
    assert report.failed == {1: "Bad Request: message is too long"}
    assert sorted(report.unknown) == [2, 3]
    assert report.sent == [4]
    assert Counter(sender.calls) == {1: 1, 2: 1, 3: 1, 4: 2}
    assert sleep.slept == []
    assert await states(store) == {1: "failed", 2: "unknown", 3: "unknown", 4: "sent"}


async def test_a_failure_after_some_parts_says_so(store: Store, sleep: FakeSleep) -> None:
    await subscribe(store, [1])
    digest = await stored_digest(store, parts=3)

    class ThirdPartRefused(FakeSender):
        async def send(self, chat_id: int, text: str) -> None:
            if "part 3/3" in text:
                raise PermanentError("Bad Request: can't parse entities")
            await super().send(chat_id, text)

    report = await send_digest(store, digest, ThirdPartRefused(), options=options(sleep))
    assert report.failed == {1: "Bad Request: can't parse entities (after 2 of 3 parts)"}


# -- recipients ----------------------------------------------------------------------------


async def test_editions_follow_the_chat_language_and_the_channel_is_a_recipient(
    store: Store, sleep: FakeSleep
) -> None:
    await subscribe(store, [1])
    await subscribe(store, [2], lang="ru")
    digest = await stored_digest(store)
    sender = FakeSender()
    report = await send_digest(
        store, digest, sender, channel=Recipient(CHANNEL, "ru"), options=options(sleep)
    )
    assert dict(sender.accepted) == {
        1: digest.parts("en")[0],
        2: digest.parts("ru")[0],
        CHANNEL: digest.parts("ru")[0],
    }
    assert sorted(report.sent) == [CHANNEL, 1, 2]
    assert (await states(store))[CHANNEL] == "sent"
    assert report.summary() == "Digest 2026-W48: 3 sent, 0 failed, 0 deactivated, 0 unknown."


async def test_a_language_without_edition_gets_english_and_duplicates_collapse(
    store: Store, sleep: FakeSleep
) -> None:
    await stored_digest(store)
    digest = make_digest()
    sender = FakeSender()
    recipients = [Recipient(1, "de"), Recipient(1, "de"), Recipient(2)]
    report = await broadcast(
        store, digest.id, digest.parts_by_lang, recipients, sender, options(sleep)
    )
    assert sender.accepted == [(1, digest.parts("en")[0]), (2, digest.parts("en")[0])]
    assert sorted(report.sent) == [1, 2]
    with pytest.raises(ValueError, match="English"):
        await broadcast(store, digest.id, {"ru": ("x",)}, recipients, sender)


async def test_resume_skips_who_unsubscribed_and_starts_what_never_began(
    db_path: Path, sleep: FakeSleep
) -> None:
    store = await Store.open(db_path)
    try:
        await subscribe(store, [1, 2, 3])
        digest = await stored_digest(store)
        first = FakeSender(crash_at=1)
        with pytest.raises(Crash):
            await send_digest(store, digest, first, options=options(sleep, concurrency=1))
        await store.unsubscribe(3)
        # A digest stored just before a crash, with no ledger rows yet.
        never_begun = await stored_digest(store, "2026-W49")

        second = FakeSender()
        reports = await resume(
            store, second, channel=Recipient(CHANNEL), options=options(sleep, concurrency=1)
        )
        assert [r.digest_id for r in reports] == ["2026-W48", "2026-W49"]
        assert reports[0].unknown == [1]
        assert reports[0].sent == [2]
        assert await states(store) == {1: "unknown", 2: "sent", 3: "deactivated"}
        assert sorted(reports[1].sent) == [CHANNEL, 1, 2]
        assert (CHANNEL, never_begun.parts("en")[0]) in second.accepted
    finally:
        await store.close()


# -- the job's steps against a real store ---------------------------------------------------


def fact(fact_id: str) -> Fact:
    return Fact(
        id=fact_id,
        country="iran",
        topic="visits",
        date="2023-03",
        answer={"en": f"Answer {fact_id}.", "ru": f"Ответ {fact_id}."},
        questions={"en": (f"Question {fact_id}?",), "ru": (f"Вопрос {fact_id}?",)},
        keywords=(),
        aliases=(),
        sources=("src",),
        evidence=(),
    )


async def test_a_prepared_digest_is_stored_once_and_previewed_as_stored(store: Store) -> None:
    source = Source("src", "Title", "Outlet", "Author", "2023-03-30")
    await store.save_source(source)
    for fact_id in ("f1", "f2", "f3", "f4"):
        await store.save_fact(fact(fact_id), "import", "import")
    composer = Composer({"src": source})
    facts = await store.facts()
    now = dt.datetime.now(MINSK)
    preview = await preview_digest(store, facts, composer, now)
    assert await store.get_digest(preview.id) is None  # a preview stores nothing
    assert preview.new == ("f1", "f2", "f3", "f4")  # just added
    prepared = await prepare_digest(store, facts, composer, now)
    assert prepared == preview
    # The stored digest is what goes out, even if the fact base changed since.
    await store.save_fact(fact("f5"), "admin", "create")
    facts = await store.facts()
    assert await prepare_digest(store, facts, composer, now) == prepared
    assert await preview_digest(store, facts, composer, now) == prepared
    # The next week's rotation avoids what this one featured.
    await store.mark_digest(prepared.id, "done")
    assert await store.recent_featured(before=week_id(now + dt.timedelta(days=7))) == [
        list(prepared.featured)
    ]


# -- the schedule --------------------------------------------------------------------------

NINE = dt.time(9, 0)


def test_next_run_in_minsk_is_monday_nine_local() -> None:
    wednesday = dt.datetime(2026, 11, 25, 12, 0, tzinfo=MINSK)
    slot = next_run(wednesday, 0, NINE, "Europe/Minsk")
    assert slot == dt.datetime(2026, 11, 30, 9, 0, tzinfo=MINSK)
    assert slot.astimezone(dt.UTC) == dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC)
    # Given in UTC or local, the answer is the same moment.
    assert next_run(wednesday.astimezone(dt.UTC), 0, NINE, MINSK) == slot
    # Strictly after: at the slot itself the next one is a week later.
    assert next_run(slot, 0, NINE, MINSK) == slot + dt.timedelta(days=7)
    assert previous_run(slot, 0, NINE, MINSK) == slot
    assert previous_run(wednesday, 0, NINE, MINSK) == dt.datetime(2026, 11, 23, 9, tzinfo=MINSK)


@pytest.mark.parametrize(
    ("now", "expected_utc"),
    [
        # Spring: the clocks go forward on Sunday 29 March 2026; Monday's 09:00 is 07:00 UTC.
        (dt.datetime(2026, 3, 27, 12, tzinfo=BERLIN), dt.datetime(2026, 3, 30, 7, tzinfo=dt.UTC)),
        # Autumn: back on Sunday 25 October 2026; Monday's 09:00 is 08:00 UTC again.
        (
            dt.datetime(2026, 10, 22, 12, tzinfo=BERLIN),
            dt.datetime(2026, 10, 26, 8, tzinfo=dt.UTC),
        ),
    ],
)
def test_next_run_keeps_the_wall_clock_across_dst(
    now: dt.datetime, expected_utc: dt.datetime
) -> None:
    slot = next_run(now, 0, NINE, "Europe/Berlin")
    assert slot.astimezone(dt.UTC) == expected_utc
    assert (slot.weekday(), slot.hour, slot.minute) == (0, 9, 0)
    before = previous_run(now, 0, NINE, BERLIN)
    # A week on the wall clock, an hour more or less in real time.
    real = slot.astimezone(dt.UTC) - before.astimezone(dt.UTC)
    assert real in {dt.timedelta(days=7, hours=-1), dt.timedelta(days=7, hours=1)}


def test_a_year_of_slots_is_always_monday_nine_in_berlin() -> None:
    slot = dt.datetime(2026, 1, 1, tzinfo=BERLIN)
    offsets = set()
    for _ in range(53):
        following = next_run(slot, 0, NINE, BERLIN)
        assert (following.weekday(), following.hour, following.minute) == (0, 9, 0)
        assert following.date() - slot.date() <= dt.timedelta(days=7)
        offsets.add(following.utcoffset())
        slot = following
    assert offsets == {dt.timedelta(hours=1), dt.timedelta(hours=2)}


def test_wall_times_that_dst_skips_or_repeats() -> None:
    saturday = dt.datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)
    skipped = next_run(saturday, 6, dt.time(2, 30), BERLIN)  # 02:30 does not exist that day
    assert skipped.astimezone(dt.UTC) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    assert (skipped.hour, skipped.minute, skipped.utcoffset()) == (3, 30, dt.timedelta(hours=2))
    saturday = dt.datetime(2026, 10, 24, 12, 0, tzinfo=BERLIN)
    repeated = next_run(saturday, 6, dt.time(2, 30), BERLIN)  # 02:30 happens twice: the first
    assert repeated.astimezone(dt.UTC) == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)


def test_schedule_needs_aware_times() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_run(dt.datetime(2026, 1, 1), 0, NINE, MINSK)  # noqa: DTZ001 - the point of it
    with pytest.raises(ValueError, match="aware"):
        missed_digest_decision(dt.datetime(2026, 1, 1), dt.datetime.now(dt.UTC))  # noqa: DTZ001


def test_ptb_days_count_from_sunday() -> None:
    from telegram.ext import JobQueue

    assert ptb_days(0) == (1,)
    assert ptb_days(6) == (0,)
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    for weekday, name in enumerate(names):
        # What run_daily hands APScheduler for these days (PTB's own mapping).
        assert JobQueue._CRON_MAPPING[ptb_days(weekday)[0]] == name
    with pytest.raises(ValueError, match="weekday"):
        ptb_days(7)
    assert job_time(9, 0, "Europe/Minsk") == dt.time(9, 0, tzinfo=MINSK)


SLOT = dt.datetime(2026, 11, 23, 9, 0, tzinfo=MINSK)


@pytest.mark.parametrize(
    ("late", "decision"),
    [
        (dt.timedelta(0), "send"),
        (dt.timedelta(hours=3), "send"),
        (dt.timedelta(hours=23, minutes=59, seconds=59), "send"),
        (dt.timedelta(days=1), "skip"),
        (dt.timedelta(days=3), "skip"),
        (dt.timedelta(seconds=-1), "none"),
    ],
)
def test_missed_digest_decision_boundaries(late: dt.timedelta, decision: str) -> None:
    assert missed_digest_decision(SLOT, SLOT + late) == decision
    assert missed_digest_decision(SLOT, (SLOT + late).astimezone(dt.UTC)) == decision


def test_nothing_missed_means_nothing_to_do() -> None:
    assert missed_digest_decision(None, SLOT) == "none"


@pytest.mark.parametrize(
    ("slot", "now", "decision"),
    [
        # Spring forward: 24.5 hours on the wall clock, 23.5 in real time.
        (
            dt.datetime(2026, 3, 28, 9, tzinfo=BERLIN),
            dt.datetime(2026, 3, 29, 9, 30, tzinfo=BERLIN),
            "send",
        ),
        # Fall back: 23.5 hours on the wall clock, 24.5 in real time.
        (
            dt.datetime(2026, 10, 24, 9, tzinfo=BERLIN),
            dt.datetime(2026, 10, 25, 8, 30, tzinfo=BERLIN),
            "skip",
        ),
    ],
)
def test_lateness_is_real_time_across_dst(
    slot: dt.datetime, now: dt.datetime, decision: str
) -> None:
    assert missed_digest_decision(slot, now) == decision
    wall_clock = now.replace(tzinfo=None) - slot.replace(tzinfo=None)
    assert (wall_clock < dt.timedelta(days=1)) == (decision == "skip")  # naive maths is wrong


async def test_startup_decision_against_the_store(store: Store) -> None:
    two_hours_late = SLOT + dt.timedelta(hours=2)
    # A first start has nothing to catch up on.
    assert await startup_decision(store, two_hours_late, 0, NINE, MINSK) == ("none", SLOT)
    await store.create_digest("2026-W47", [], "{}")
    assert await startup_decision(store, two_hours_late, 0, NINE, MINSK) == ("send", SLOT)
    two_days_late = SLOT + dt.timedelta(days=2)
    assert await startup_decision(store, two_days_late, 0, NINE, MINSK) == ("skip", SLOT)
    assert week_id(SLOT) == "2026-W48"
    await store.skip_digest(week_id(SLOT))
    assert await startup_decision(store, two_days_late, 0, NINE, MINSK) == ("none", SLOT)


# -- tiesbot digest --preview --------------------------------------------------------------


def test_the_preview_command_prints_the_digest_offline_and_stores_nothing(
    tmp_path: Path,
) -> None:
    root = Path(__file__).resolve().parents[1]
    database = tmp_path / "tiesbot.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DIGEST_"))}
    env |= {
        "DATABASE_PATH": str(database),
        "KNOWLEDGE_DIR": str(root / "knowledge"),
        "SOURCES_DIR": str(root / "knowledge" / "articles"),
    }

    def preview(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "--env-file", str(tmp_path / "none.env"), *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
            check=False,
        )

    russian = preview("digest", "--preview", "--lang", "ru")
    assert russian.returncode == 0, russian.stderr
    assert "дайджест недели" in russian.stdout
    assert "<b>" not in russian.stdout  # plain text, not Telegram HTML
    assert russian.stdout.rstrip().endswith("отправьте /unsubscribe.")
    english = preview("digest", "--preview")
    assert english.returncode == 0, english.stderr
    assert "weekly digest" in english.stdout
    with closing(sqlite3.connect(database)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM digests").fetchone() == (0,)
