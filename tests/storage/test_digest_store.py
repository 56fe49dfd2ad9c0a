"""The digest's tables: subscribers, digests, the delivery ledger and the weekly windows."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.knowledge import KnowledgeBase, load_folder
from bot.domain.models import Fact, Source
from bot.storage.store import Store

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"

NOW = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)
DIGEST = "2026-W48"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "tiesbot.sqlite3")
    try:
        yield opened
    finally:
        await opened.close()


def seen_by_another_process(path: str, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


async def set_lang(store: Store, chat_id: int, lang: str) -> None:
    async with store.transaction() as conn:
        await conn.execute(
            "INSERT INTO chats (chat_id, kind, lang, updated_at) VALUES (?, 'private', ?, ?)",
            (chat_id, lang, NOW.isoformat()),
        )


async def states(store: Store, digest_id: str = DIGEST) -> dict[int, str]:
    return {d.chat_id: d.state for d in await store.deliveries(digest_id)}


def iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


# -- subscribers ---------------------------------------------------------------------------


async def test_subscribe_unsubscribe_and_subscribe_again(store: Store) -> None:
    assert await store.subscribe(1)
    assert not await store.subscribe(1)  # already on
    assert await store.is_subscribed(1)
    assert await store.unsubscribe(1)
    assert not await store.unsubscribe(1)
    assert not await store.is_subscribed(1)
    assert await store.subscribe(1, "group")
    subscribers = await store.active_subscribers()
    assert [(s.chat_id, s.kind) for s in subscribers] == [(1, "group")]


async def test_a_group_moving_to_a_supergroup_takes_its_subscription_and_language(
    store: Store,
) -> None:
    await store.subscribe(-1, "group")
    await store.set_chat_lang(-1, "group", "ru")
    assert await store.move_chat(-1, -1001)
    assert await store.is_subscribed(-1001)
    assert not await store.is_subscribed(-1)
    assert await store.chat_lang(-1001) == "ru"
    assert await store.chat_lang(-1) is None
    # The new chat already had a subscription and a language of its own: those are kept.
    await store.subscribe(-2, "group")
    await store.set_chat_lang(-2, "group", "ru")
    await store.subscribe(-1002, "supergroup")
    await store.set_chat_lang(-1002, "supergroup", "en")
    assert not await store.move_chat(-2, -1002)
    assert await store.is_subscribed(-1002)
    assert not await store.is_subscribed(-2)
    assert await store.chat_lang(-1002) == "en"


async def test_active_subscribers_read_in_their_chat_language(store: Store) -> None:
    for chat_id in (3, 1, 2):
        await store.subscribe(chat_id)
    await set_lang(store, 2, "ru")
    assert await store.deactivate(3, "Forbidden: bot was blocked by the user")
    assert not await store.deactivate(3, "again")
    assert [(s.chat_id, s.lang) for s in await store.active_subscribers()] == [
        (1, "en"),
        (2, "ru"),
    ]
    rows = seen_by_another_process(
        store.path, "SELECT active, deactivated_reason FROM subscribers WHERE chat_id = 3"
    )
    assert rows == [(0, "Forbidden: bot was blocked by the user")]


# -- digests -------------------------------------------------------------------------------


async def test_a_digest_is_stored_once_and_the_first_stays_authoritative(store: Store) -> None:
    assert await store.create_digest(DIGEST, ["a", "b"], '{"v": 1}')
    assert not await store.create_digest(DIGEST, ["c"], '{"v": 2}')
    stored = await store.get_digest(DIGEST)
    assert stored is not None
    assert (stored.featured, stored.content, stored.status) == (("a", "b"), '{"v": 1}', "sending")
    assert await store.get_digest("2026-W01") is None
    assert [d.id for d in await store.unfinished_digests()] == [DIGEST]
    assert await store.mark_digest(DIGEST, "done")
    assert await store.unfinished_digests() == []
    with pytest.raises(ValueError, match="status"):
        await store.mark_digest(DIGEST, "lost")


async def test_a_skipped_week_is_recorded_and_can_still_be_sent(store: Store) -> None:
    assert not await store.has_digests()
    assert await store.skip_digest("2026-W47")
    assert not await store.skip_digest("2026-W47")
    assert await store.has_digests()
    skipped = await store.get_digest("2026-W47")
    assert skipped is not None
    assert skipped.status == "skipped"
    assert await store.unfinished_digests() == []
    # An admin's explicit send revives it; skipping a stored digest changes nothing.
    assert await store.create_digest("2026-W47", ["x"], "{}")
    revived = await store.get_digest("2026-W47")
    assert revived is not None
    assert (revived.status, revived.featured) == ("sending", ("x",))
    assert not await store.skip_digest("2026-W47")


async def test_recent_featured_lists_the_last_digests_newest_first(store: Store) -> None:
    for week in range(1, 13):
        await store.create_digest(f"2026-W{week:02d}", [f"f{week}"], "{}")
    await store.skip_digest("2026-W13")
    await store.create_digest("2025-W52", ["old"], "{}")
    assert await store.recent_featured(3) == [["f12"], ["f11"], ["f10"]]
    assert await store.recent_featured(2, before="2026-W10") == [["f9"], ["f8"]]
    assert await store.recent_featured(3, before="2026-W02") == [["f1"], ["old"]]
    assert len(await store.recent_featured()) == 8


async def test_digest_status_counts_deliveries_per_state(store: Store) -> None:
    await store.create_digest("2026-W47", [], "{}")
    await store.create_digest(DIGEST, [], "{}")
    await store.skip_digest("2026-W46")
    await store.add_deliveries(DIGEST, [1, 2, 3, 4])
    await store.add_deliveries("2026-W47", [1])
    await store.mark_sending(DIGEST, [1])
    await store.mark_sent(DIGEST, [1])
    await store.mark_sending(DIGEST, [2])
    await store.mark_failed(DIGEST, 2, "502")
    await store.mark_deactivated(DIGEST, 3, "blocked")
    report = await store.digest_status(limit=3)
    assert [(r.id, r.status) for r in report] == [
        (DIGEST, "sending"),
        ("2026-W47", "sending"),
        ("2026-W46", "skipped"),
    ]
    assert report[0].counts == {"sent": 1, "failed": 1, "deactivated": 1, "pending": 1}
    assert report[1].counts == {"pending": 1}
    assert report[2].counts == {}
    assert [r.id for r in await store.digest_status(limit=1)] == [DIGEST]


# -- the ledger ----------------------------------------------------------------------------


async def test_ledger_rows_are_created_idempotently(store: Store) -> None:
    await store.create_digest(DIGEST, [], "{}")
    assert await store.add_deliveries(DIGEST, [1, 2, 3]) == 3
    await store.mark_sending(DIGEST, [2])
    await store.mark_sent(DIGEST, [2])
    assert await store.add_deliveries(DIGEST, [2, 3, 4]) == 1
    assert await states(store) == {1: "pending", 2: "sent", 3: "pending", 4: "pending"}
    assert await store.add_deliveries(DIGEST, []) == 0
    await set_lang(store, 3, "ru")
    assert await store.pending_deliveries(DIGEST) == {1: "en", 3: "ru", 4: "en"}


async def test_sending_is_committed_before_the_call_returns(store: Store) -> None:
    """The row must say 'sending' to anyone who looks, a crash included, before the send."""
    await store.create_digest(DIGEST, [], "{}")
    await store.add_deliveries(DIGEST, [7])
    assert await store.mark_sending(DIGEST, [7])
    assert seen_by_another_process(store.path, "SELECT state, attempts FROM deliveries") == [
        ("sending", 1)
    ]


async def test_a_row_is_claimed_only_once(store: Store) -> None:
    await store.create_digest(DIGEST, [], "{}")
    await store.add_deliveries(DIGEST, [1])
    assert await store.mark_sending(DIGEST, [1])
    assert not await store.mark_sending(DIGEST, [1])
    assert await store.mark_sent(DIGEST, [1])
    assert not await store.mark_sent(DIGEST, [1])
    assert not await store.mark_sending(DIGEST, [1])
    assert not await store.mark_failed(DIGEST, 1, "late")
    assert not await store.mark_unknown(DIGEST, 1, "late")
    assert not await store.mark_deactivated(DIGEST, 1, "late")
    assert await states(store) == {1: "sent"}


async def test_a_refused_send_goes_back_to_pending(store: Store) -> None:
    await store.create_digest(DIGEST, [], "{}")
    await store.add_deliveries(DIGEST, [1])
    await store.mark_sending(DIGEST, [1])
    assert await store.release_delivery(DIGEST, 1, "retry after 3 s")
    [row] = await store.deliveries(DIGEST)
    assert (row.state, row.attempts, row.error) == ("pending", 1, "retry after 3 s")
    assert await store.mark_sending(DIGEST, [1])
    assert await store.mark_sent(DIGEST, [1])
    [row] = await store.deliveries(DIGEST)
    assert (row.state, row.attempts, row.error) == ("sent", 2, None)


async def test_recovery_turns_rows_in_flight_into_unknown(tmp_path: Path) -> None:
    path = tmp_path / "tiesbot.sqlite3"
    store = await Store.open(path)
    await store.create_digest(DIGEST, [], "{}")
    await store.create_digest("2026-W49", [], "{}")
    await store.add_deliveries(DIGEST, [1, 2, 3, 4])
    await store.add_deliveries("2026-W49", [5])
    for chat_id in (1, 2, 3):
        await store.mark_sending(DIGEST, [chat_id])
    await store.mark_sent(DIGEST, [1])
    await store.mark_sending("2026-W49", [5])
    await store.close()  # the crash

    store = await Store.open(path)
    try:
        assert await store.recover_in_flight(DIGEST) == [2, 3]
        assert await states(store) == {1: "sent", 2: "unknown", 3: "unknown", 4: "pending"}
        assert await store.recover_in_flight(DIGEST) == []
        assert await states(store, "2026-W49") == {5: "sending"}  # another digest's business
        assert not await store.mark_sending(DIGEST, [2])
        assert list(await store.pending_deliveries(DIGEST)) == [4]
    finally:
        await store.close()


async def test_chats_that_unsubscribed_meanwhile_are_dropped(store: Store) -> None:
    for chat_id in (1, 2, 3):
        await store.subscribe(chat_id)
    await store.create_digest(DIGEST, [], "{}")
    await store.add_deliveries(DIGEST, [1, 2, 3, -100123])  # the channel is no subscriber
    await store.unsubscribe(2)
    await store.unsubscribe(3)
    await store.mark_sending(DIGEST, [3])
    assert await store.drop_unsubscribed(DIGEST) == [2]
    assert await states(store) == {
        -100123: "pending",
        1: "pending",
        2: "deactivated",
        3: "sending",
    }


# -- the week's history --------------------------------------------------------------------


async def test_answered_counts_cover_the_window_and_answers_only(store: Store) -> None:
    start = NOW - dt.timedelta(days=7)
    log = [
        (NOW - dt.timedelta(days=1), "answered", "a"),
        (NOW - dt.timedelta(days=2), "answered", "a"),
        (NOW, "answered", "b"),  # the end is included
        (start, "answered", "b"),  # so is the start
        (start - dt.timedelta(seconds=1), "answered", "a"),
        (NOW + dt.timedelta(seconds=1), "answered", "a"),
        (NOW - dt.timedelta(days=1), "suggested", "c"),
        (NOW - dt.timedelta(days=1), "declined", None),
    ]
    for at, outcome, fact_id in log:
        await store.log_query("q", "en", outcome, fact_id, 0.5, at=iso(at))
    minsk = ZoneInfo("Europe/Minsk")
    assert await store.answered_counts(start.astimezone(minsk), NOW.astimezone(minsk)) == {
        "a": 2,
        "b": 2,
    }
    with pytest.raises(ValueError, match="aware"):
        await store.answered_counts(start.replace(tzinfo=None), NOW)


def make_fact(fact_id: str, answer: str = "An answer.") -> Fact:
    return Fact(
        id=fact_id,
        country="belarus",
        topic="diplomacy",
        date="2024",
        answer={"en": answer},
        questions={"en": ("A question?",)},
        keywords=(),
        aliases=(),
        sources=("src",),
        evidence=(),
    )


async def test_changed_facts_tell_added_from_changed_within_the_window(store: Store) -> None:
    await store.save_source(Source("src", "Title", "Outlet", "Author", "2024"))
    for fact_id in ("old", "edited", "new", "gone"):
        await store.save_fact(make_fact(fact_id), "import", "import")
    await store.save_fact(make_fact("edited", "Changed."), "admin", "edit")
    await store.save_fact(make_fact("gone").with_changes(retired=True), "admin", "retire")
    week_ago = NOW - dt.timedelta(days=7)
    async with store.transaction() as conn:
        # The first revisions of "old" and "edited" happened long before this week.
        await conn.execute(
            "UPDATE revisions SET at = ? WHERE fact_id IN ('old', 'edited') AND before IS NULL",
            (iso(NOW - dt.timedelta(days=30)),),
        )
        await conn.execute(
            "UPDATE revisions SET at = ? WHERE at > ?",
            (iso(NOW - dt.timedelta(days=1)), iso(NOW - dt.timedelta(days=2))),
        )
    changed = await store.changed_facts(week_ago, NOW)
    assert changed == {"edited": "changed", "new": "added", "gone": "added"}
    assert await store.changed_facts(NOW - dt.timedelta(days=40), week_ago) == {
        "old": "added",
        "edited": "added",
    }


async def test_the_first_fill_is_not_news_but_later_imports_are(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "first.sqlite3")
    try:
        base = load_folder(KNOWLEDGE)
        await store.import_knowledge(KnowledgeBase(sources=base.sources, facts=base.facts[:-1]))
        week = (dt.datetime.now(dt.UTC) - dt.timedelta(days=7), dt.datetime.now(dt.UTC))
        assert await store.changed_facts(*week) == {}
        await store.import_knowledge(base)
        assert await store.changed_facts(*week) == {base.facts[-1].id: "added"}
    finally:
        await store.close()
