"""The weekly job: scheduled in DIGEST_TZ on the right weekday, and when it fires the digest
reaches every subscriber (in their language), the groups and the channel, once.

Start-up: a digest missed by less than a day goes out once; a later one is skipped and the
admins are told. Time is the test's: the job is run by hand at a chosen moment, never waited
for.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.broadcast import next_run
from bot.storage.store import Store
from bot.tg.app import build_application
from tests.fakebot import FakeBotApi
from tests.tg.conftest import ADMIN_ID, Harness, quick_limiter, running
from tests.tg.digest_helpers import (
    CHANNEL_ID,
    CHANNEL_NAME,
    GROUP_ID,
    MINSK,
    admin_texts,
    digest_bot,
    digest_settings,
    digests_to,
    fire_weekly,
    ledger,
    make_channel,
    owner,
    readers,
    subscribe_all,
    wait_ready,
    weekly_job,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("weekday", "time", "tz"),
    [
        (0, (9, 0), "Europe/Minsk"),
        (6, (23, 30), "America/New_York"),
        (2, (2, 30), "Europe/Berlin"),
    ],
)
async def test_the_weekly_job_is_scheduled_in_the_digest_time_zone(
    fake: FakeBotApi, database: Path, weekday: int, time: tuple[int, int], tz: str
) -> None:
    settings = digest_settings(
        fake, database, digest_channel="", digest_weekday=weekday, digest_time=time, digest_tz=tz
    )
    async with digest_bot(fake, settings) as bot:
        job = weekly_job(bot.app)
        zone = ZoneInfo(tz)
        assert job.job.trigger.timezone == zone
        assert job.next_t is not None
        local = job.next_t.astimezone(zone)
        now = dt.datetime.now(dt.UTC)
        assert local == next_run(now, weekday, dt.time(*time), zone)
        assert (local.weekday(), local.hour, local.minute) == (weekday, *time)


async def test_dst_never_moves_the_wall_clock_moment(fake: FakeBotApi, database: Path) -> None:
    settings = digest_settings(fake, database, digest_channel="", digest_tz="Europe/Berlin")
    async with digest_bot(fake, settings) as bot:
        trigger = weekly_job(bot.app).job.trigger
        # Berlin moves to summer time on Sunday 29 March 2026; Monday stays at 09:00 local.
        before = trigger.get_next_fire_time(None, dt.datetime(2026, 3, 20, tzinfo=BERLIN))
        after = trigger.get_next_fire_time(None, dt.datetime(2026, 3, 24, tzinfo=BERLIN))
        assert before == dt.datetime(2026, 3, 23, 9, 0, tzinfo=BERLIN)
        assert after == dt.datetime(2026, 3, 30, 9, 0, tzinfo=BERLIN)
        assert before.astimezone(dt.UTC).hour == 8
        assert after.astimezone(dt.UTC).hour == 7


async def test_the_job_fires_and_delivers_to_subscribers_groups_and_the_channel_once(
    fake: FakeBotApi, database: Path
) -> None:
    olga = owner(fake)
    alice, boris = readers(fake, 2)
    channel = make_channel(fake)
    group = fake.group(GROUP_ID, "Readers", members=[alice], admins=[boris])
    async with digest_bot(fake, digest_settings(fake, database)) as bot:
        store = bot.service.store
        await subscribe_all(bot.app, [alice.id, boris.id])
        await subscribe_all(bot.app, [group.id], "group")
        await store.set_chat_lang(boris.id, "private", "ru")
        await store.set_chat_lang(group.id, "group", "ru")
        monday = dt.datetime(2031, 3, 3, 9, 0, tzinfo=MINSK)
        await fire_weekly(bot.app, monday)

        for chat, title in (
            (alice.id, "weekly digest"),
            (boris.id, "дайджест недели"),
            (group.id, "дайджест недели"),
            (channel.id, "weekly digest"),
        ):
            [digest] = digests_to(fake, chat)
            assert title in (digest.text or ""), chat
            assert "Week 10 of 2031" in (digest.text or "") or "Неделя 10, 2031" in (
                digest.text or ""
            )
            assert digest.parse_mode == "HTML"
        assert digests_to(fake, olga) == [], "the owner is told, not subscribed"
        # @name was resolved to the channel's number once; the ledger is keyed by it.
        assert [c.params["chat_id"] for c in fake.calls_to("getChat")] == [f"@{CHANNEL_NAME}"]
        assert ledger(database, "2031-W10") == {
            alice.id: "sent",
            boris.id: "sent",
            group.id: "sent",
            CHANNEL_ID: "sent",
        }
        assert "Digest 2031-W10 broadcast: 4 sent, 0 failed, 0 deactivated, 0 unknown" in (
            admin_texts(fake)
        )

        # A second trigger in the same week (a restart, an admin) sends nobody anything again.
        await fire_weekly(bot.app)
        await fire_weekly(bot.app, monday + dt.timedelta(hours=1))
        for chat in (alice.id, boris.id, group.id, channel.id):
            assert len(digests_to(fake, chat)) == 1
        assert "4 chat(s) had it already" in admin_texts(fake)

        # Next Monday is another digest.
        await fire_weekly(bot.app, monday + dt.timedelta(weeks=1))
        for chat in (alice.id, boris.id, group.id, channel.id):
            assert len(digests_to(fake, chat)) == 2
        assert ADMIN_ID not in ledger(database)


async def previous_digest(database: Path, digest_id: str) -> None:
    """A digest sent before the bot went down, so start-up knows this is not a first run."""
    store = await Store.open(database)
    try:
        await store.create_digest(digest_id, [], '{"unused": true}')
        await store.mark_digest(digest_id, "done")
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("down_until", "sent"),
    [
        (dt.datetime(2031, 3, 3, 9, 30, tzinfo=MINSK), True),  # half an hour late
        (dt.datetime(2031, 3, 4, 8, 59, tzinfo=MINSK), True),  # just under a day
        (dt.datetime(2031, 3, 4, 9, 1, tzinfo=MINSK), False),  # just over a day: skipped
        (dt.datetime(2031, 3, 7, 12, 0, tzinfo=MINSK), False),
    ],
)
async def test_start_up_sends_a_missed_digest_once_only_when_less_than_a_day_late(
    fake: FakeBotApi, database: Path, down_until: dt.datetime, sent: bool
) -> None:
    owner(fake)
    [alice] = readers(fake, 1)
    make_channel(fake)
    await previous_digest(database, "2031-W09")
    store = await Store.open(database)
    await store.subscribe(alice.id)
    await store.close()
    settings = digest_settings(fake, database)

    for _restart in range(2):
        app = build_application(settings, rate_limiter=quick_limiter())
        app.bot_data.digest.clock = lambda: down_until
        Harness(fake, app)
        async with running(app):
            await wait_ready(app)

    digests = digests_to(fake, alice)
    texts = admin_texts(fake)
    if sent:
        assert len(digests) == 1, "sent once, not again at the second start"
        assert "Week 10 of 2031" in (digests[0].text or "")
        assert "Digest 2031-W10 broadcast: 2 sent" in texts
        assert ledger(database, "2031-W10") == {alice.id: "sent", CHANNEL_ID: "sent"}
    else:
        assert digests == []
        assert texts.count("more than a day late") == 1, "told once, not at every start"
        assert "Week 2031-W10 is skipped" in texts
        store = await Store.open(database)
        skipped = await store.get_digest("2031-W10")
        await store.close()
        assert skipped is not None
        assert skipped.status == "skipped"


async def test_a_first_start_has_nothing_to_catch_up(fake: FakeBotApi, database: Path) -> None:
    owner(fake)
    [alice] = readers(fake, 1)
    async with digest_bot(fake, digest_settings(fake, database, digest_channel="")) as bot:
        await subscribe_all(bot.app, [alice.id])
    assert digests_to(fake, alice) == []
    assert admin_texts(fake) == ""
