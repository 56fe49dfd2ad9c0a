"""Delivers the weekly digest: at most once to every chat, exactly once to all but a crash's few.

Telegram has no idempotency key: after a crash between Telegram accepting a message and the
ledger recording it, nobody can tell whether the reader got it. So every (digest, chat) pair has
a row in the delivery ledger, claimed as 'sending' (and committed) before the send and marked
'sent' after. A row found 'sending' on start-up is never sent again but reported as 'unknown'
to the admins: a duplicate in someone's chat is worse than one uncertain delivery.

Nothing here imports Telegram. The Telegram edge supplies a `Sender` that maps Bot API errors
onto the exceptions below: Forbidden, "chat not found" → RecipientGone; ChatMigrated →
RecipientMoved; RetryAfter →
RetryLater; a 5xx answer, or a NetworkError whose cause shows the request never left (connect
error or connect timeout) → TransientError; any other BadRequest → PermanentError; a read
timeout or a connection dropped after the request went out → DeliveryUncertain, because
Telegram may have delivered it. Rate limiting is PTB's AIORateLimiter's job; this module only
honours RetryLater.

The job's flow, all idempotent so a double trigger or a restart cannot send twice (`now` is
aware and in DIGEST_TZ, since the ISO week of the digest is the one on the local calendar):

    digest = await prepare_digest(store, service.facts(), service.composer, now)
    report = await send_digest(store, digest, sender, channel=Recipient(channel_id))
    # at start-up, before scheduling the weekly job:
    reports = await resume(store, sender, channel=Recipient(channel_id))
    decision, slot = await startup_decision(store, now, weekday, time, tz)
    # 'send': prepare_digest(..., now=slot) then send_digest; 'skip': store.skip_digest(
    # week_id(slot)) and tell the admins.

Give the broadcast a Store of its own (`await Store.open(settings.database_path)`): ledger
writes are single autocommit statements, and on a connection shared with handlers one of them
could land inside a handler's open transaction and be committed only with it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from bot.domain.answers import Composer
from bot.domain.digest import (
    ROTATION_MEMORY,
    WINDOW,
    ChangeKind,
    Digest,
    compose_digest,
    week_id,
)
from bot.domain.models import LANGUAGES, Fact
from bot.storage.store import Store

log = logging.getLogger(__name__)

Decision = Literal["send", "skip", "none"]
Sleep = Callable[[float], Awaitable[None]]
LATE_LIMIT = dt.timedelta(days=1)


# -- what a Sender may raise ---------------------------------------------------------------


class DeliveryError(Exception):
    """A send did not go through; the subclass says what the ledger should make of it."""


class RecipientGone(DeliveryError):
    """403 and the like: blocked, kicked, chat deleted. The subscriber is deactivated."""


class RecipientMoved(DeliveryError):
    """The group became a supergroup with a new chat id; nothing was posted. The subscription
    moves to the new id, which gets the digest instead."""

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"moved to supergroup {new_chat_id}")
        self.new_chat_id = new_chat_id


class RetryLater(DeliveryError):
    """429: Telegram asks to wait. Not a failure; the same part is sent again after the wait."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds:g} s")
        self.seconds = seconds


class TransientError(DeliveryError):
    """5xx or a network error before the request reached Telegram: retried with backoff."""


class PermanentError(DeliveryError):
    """Telegram refused this message for this chat (400): retrying cannot help. 'failed'."""


class DeliveryUncertain(DeliveryError):
    """The request may have reached Telegram (a read timeout): never retried, 'unknown'."""


class Sender(Protocol):
    """Sends one HTML message; raises a DeliveryError subclass when it did not go through."""

    async def send(self, chat_id: int, text: str) -> None: ...


@dataclass(frozen=True)
class Recipient:
    """A chat to deliver to and the edition it reads. The channel is one too; give it its
    numeric id (resolve an @name with getChat once): the ledger is keyed by integer ids."""

    chat_id: int
    lang: str = "en"


@dataclass
class BroadcastReport:
    """What one broadcast (or resume) did, for the admins' summary."""

    digest_id: str
    sent: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    deactivated: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)
    moved: dict[int, int] = field(default_factory=dict)  # old chat id → its supergroup's
    already_done: int = 0
    # Chats still 'pending' because the bot was stopping: the next start-up sends to them.
    left: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {
            "sent": len(self.sent),
            "failed": len(self.failed),
            "deactivated": len(self.deactivated),
            "unknown": len(self.unknown),
        }

    def summary(self) -> str:
        """One line for the admins (English; the Telegram edge may render its own)."""
        counts = ", ".join(f"{n} {state}" for state, n in self.counts.items())
        left = f"; {self.left} left for the next start-up" if self.left else ""
        return f"Digest {self.digest_id}: {counts}{left}."


@dataclass(frozen=True)
class BroadcastOptions:
    """How hard a broadcast tries. A TransientError is tried `max_attempts` times in all, with
    exponential backoff from `backoff` seconds up to `max_backoff`, then recorded 'failed';
    RetryLater waits as told and does not count, up to `max_waits` waits per chat (a chat
    throttled for ever must not hold the broadcast open). `sleep` is injectable for tests.

    `keep_going` is asked before each chat is claimed: once it says no (the bot is stopping),
    no chat is claimed any more, the sends under way finish, and the rest stay 'pending' for
    the next start-up. A restart then costs no reader the digest and reports nobody
    'unknown', where a stop that cut sends off would; and a stop waits for a few sends, not
    for the whole broadcast."""

    concurrency: int = 8
    max_attempts: int = 5
    backoff: float = 1.0
    max_backoff: float = 60.0
    max_waits: int = 20
    sleep: Sleep = asyncio.sleep
    keep_going: Callable[[], bool] = lambda: True


# -- the engine ----------------------------------------------------------------------------


async def broadcast(
    store: Store,
    digest_id: str,
    parts_by_lang: Mapping[str, Sequence[str]],
    recipients: Iterable[Recipient],
    sender: Sender,
    options: BroadcastOptions | None = None,
) -> BroadcastReport:
    """Send a stored digest to every recipient whose ledger row is still 'pending'.

    Rows are created idempotently, so calling this again for the same digest (a second
    trigger, an admin's /digest send) only reaches chats not yet handled. Each chat gets all
    parts of its edition under one row; a chat whose language has no edition gets English.
    See BroadcastOptions for retries. A crash or cancellation propagates and leaves the rows in
    flight 'sending', for `resume` to report as 'unknown'.
    """
    options = options or BroadcastOptions()
    if "en" not in parts_by_lang:
        raise ValueError("the digest needs an English edition to fall back on")
    unique = list({r.chat_id: r for r in reversed(list(recipients))}.values())[::-1]
    await store.add_deliveries(digest_id, (r.chat_id for r in unique))
    pending = await store.pending_deliveries(digest_id)
    queue = [r for r in unique if r.chat_id in pending]
    report = BroadcastReport(digest_id, already_done=len(unique) - len(queue))
    claim = _GroupedWrite(functools.partial(store.mark_sending, digest_id))
    confirm = _GroupedWrite(functools.partial(store.mark_sent, digest_id))
    courier = _Courier(store, digest_id, parts_by_lang, sender, report, options, claim, confirm)
    queue.reverse()

    async def worker() -> None:
        while queue and options.keep_going():
            await courier.deliver(queue.pop())

    try:
        async with asyncio.TaskGroup() as group:
            writers = [group.create_task(claim.run()), group.create_task(confirm.run())]
            workers = [
                group.create_task(worker())
                for _ in range(max(1, min(options.concurrency, len(queue))))
            ]
            await asyncio.wait(workers)
            for writer in writers:
                writer.cancel()
    except BaseExceptionGroup as errors:
        # Workers only let crashes and cancellations through; surface the first as itself.
        raise errors.exceptions[0] from None
    report.left = len(queue)
    return report


class _GroupedWrite:
    """One kind of ledger write (claim, or confirm), coalesced across the workers.

    Each worker still waits until its own row is committed, so the ledger's order is the same
    as with one statement per chat: claimed before the send, confirmed after. What changes is
    that the writes workers issue while a statement is running go out together in the next:
    at a thousand messages a second, a round trip to SQLite's thread per chat and per state
    was a third of the broadcast's CPU.
    """

    def __init__(self, write: Callable[[list[int]], Awaitable[set[int]]]) -> None:
        self._write = write
        self._queued: dict[int, asyncio.Future[bool]] = {}
        self._wake = asyncio.Event()

    async def __call__(self, chat_id: int) -> bool:
        """Whether this chat's row was written (False: it was not in the expected state)."""
        future = asyncio.get_running_loop().create_future()
        self._queued[chat_id] = future
        self._wake.set()
        return await future

    async def run(self) -> None:
        """Write what is queued, batch after batch, until cancelled (with nothing queued: the
        broadcast cancels it once every worker is done)."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queued = self._queued, {}
            try:
                written = await self._write(list(batch))
            except Exception as exc:
                for future in batch.values():
                    if not future.done():
                        future.set_exception(exc)
                continue
            for chat_id, future in batch.items():
                if not future.done():
                    future.set_result(chat_id in written)


@dataclass
class _Courier:
    store: Store
    digest_id: str
    parts_by_lang: Mapping[str, Sequence[str]]
    sender: Sender
    report: BroadcastReport
    options: BroadcastOptions
    claim: _GroupedWrite
    confirm: _GroupedWrite

    async def deliver(self, recipient: Recipient) -> None:
        """All parts to one chat under one ledger row, claimed before the first part."""
        store, digest_id, chat_id = self.store, self.digest_id, recipient.chat_id
        parts = self.parts_by_lang.get(recipient.lang) or self.parts_by_lang["en"]
        if not await self.claim(chat_id):
            self.report.already_done += 1
            return
        index = attempts = waits = 0
        while index < len(parts):
            try:
                await self.sender.send(chat_id, parts[index])
            except RecipientGone as exc:
                await store.mark_deactivated(digest_id, chat_id, str(exc) or "gone")
                await store.deactivate(chat_id, str(exc) or "gone")
                self.report.deactivated.append(chat_id)
                return
            except RecipientMoved as exc:
                await self._move(recipient, exc, index, len(parts))
                return
            except PermanentError as exc:
                await self._fail(chat_id, exc, index, len(parts))
                return
            except DeliveryUncertain as exc:
                await store.mark_unknown(digest_id, chat_id, str(exc) or "uncertain")
                self.report.unknown.append(chat_id)
                return
            except RetryLater as exc:
                waits += 1
                if waits > self.options.max_waits:
                    await self._fail(chat_id, exc, index, len(parts))
                    return
                if not await self._wait(chat_id, index, exc, exc.seconds):
                    return
                continue
            except TransientError as exc:
                attempts += 1
                if attempts >= self.options.max_attempts:
                    await self._fail(chat_id, exc, index, len(parts))
                    return
                delay = min(self.options.max_backoff, self.options.backoff * 2 ** (attempts - 1))
                if not await self._wait(chat_id, index, exc, delay):
                    return
                continue
            except Exception as exc:
                # A Sender that broke its contract: nobody knows whether Telegram got it.
                log.exception("digest %s to chat %s: unexpected error", digest_id, chat_id)
                await store.mark_unknown(digest_id, chat_id, repr(exc))
                self.report.unknown.append(chat_id)
                return
            index += 1
        await self.confirm(chat_id)
        self.report.sent.append(chat_id)

    async def _wait(self, chat_id: int, index: int, exc: DeliveryError, seconds: float) -> bool:
        """Wait before a retry. While nothing of the digest has reached the chat the row goes
        back to 'pending', so a crash during the wait costs nothing; False: it was claimed
        meanwhile by another broadcast, which now owns it."""
        if index == 0:
            await self.store.release_delivery(self.digest_id, chat_id, str(exc))
        await self.options.sleep(seconds)
        if index == 0 and not await self.claim(chat_id):
            self.report.already_done += 1
            return False
        return True

    async def _move(
        self, recipient: Recipient, exc: RecipientMoved, index: int, total: int
    ) -> None:
        """Follow a group to its new supergroup: the old id's row is closed, the subscription
        moves, and the new id gets the digest under a row of its own (unless it has one)."""
        chat_id, new_id = recipient.chat_id, exc.new_chat_id
        if index or new_id == chat_id:  # parts already went to this very chat: not a move
            await self._fail(chat_id, exc, index, total)
            return
        await self.store.mark_deactivated(self.digest_id, chat_id, str(exc))
        await self.store.move_chat(chat_id, new_id)
        self.report.moved[chat_id] = new_id
        await self.store.add_deliveries(self.digest_id, [new_id])
        await self.deliver(Recipient(new_id, recipient.lang))

    async def _fail(self, chat_id: int, exc: DeliveryError, index: int, total: int) -> None:
        error = str(exc) or type(exc).__name__
        if index:
            error += f" (after {index} of {total} parts)"
        await self.store.mark_failed(self.digest_id, chat_id, error)
        self.report.failed[chat_id] = error


# -- the job's steps -----------------------------------------------------------------------


async def compose_now(
    store: Store,
    facts: Iterable[Fact],
    composer: Composer,
    now: dt.datetime,
    langs: Sequence[str] = LANGUAGES,
) -> Digest:
    """Fetch the week's history from the store and compose, storing nothing."""
    start = now - WINDOW
    changed = await store.changed_facts(start, now)
    counts = await store.answered_counts(start, now)
    recent = await store.recent_featured(ROTATION_MEMORY, before=week_id(now))
    kinds: dict[str, ChangeKind] = {
        i: "added" if k == "added" else "changed" for i, k in changed.items()
    }
    return compose_digest(facts, kinds, counts, recent, now, composer, langs)


async def preview_digest(
    store: Store, facts: Iterable[Fact], composer: Composer, now: dt.datetime
) -> Digest:
    """Exactly what would go out now: the week's stored digest if there is one, else a fresh
    composition (for `/digest preview` and `tiesbot digest --preview`)."""
    stored = await store.get_digest(week_id(now))
    if stored is not None and stored.content:
        return Digest.from_json(stored.content)
    return await compose_now(store, facts, composer, now)


async def prepare_digest(
    store: Store, facts: Iterable[Fact], composer: Composer, now: dt.datetime
) -> Digest:
    """The week's digest, composed once and stored: later calls return the stored one, so a
    resumed or repeated broadcast sends the same messages."""
    digest = await preview_digest(store, facts, composer, now)
    await store.create_digest(digest.id, digest.featured, digest.to_json())
    stored = await store.get_digest(digest.id)
    assert stored is not None
    return Digest.from_json(stored.content)


async def send_digest(
    store: Store,
    digest: Digest,
    sender: Sender,
    channel: Recipient | None = None,
    options: BroadcastOptions | None = None,
) -> BroadcastReport:
    """Broadcast a prepared digest to the active subscribers (and the channel), then close it
    (unless the bot stopped it half-way: `resume` finishes it at the next start-up)."""
    recipients = [Recipient(s.chat_id, s.lang) for s in await store.active_subscribers()]
    if channel is not None:
        recipients.append(channel)
    report = await broadcast(store, digest.id, digest.parts_by_lang, recipients, sender, options)
    if not report.left:
        await store.mark_digest(digest.id, "done")
    return report


async def resume(
    store: Store,
    sender: Sender,
    channel: Recipient | None = None,
    options: BroadcastOptions | None = None,
) -> list[BroadcastReport]:
    """At start-up: finish every broadcast a crash or restart interrupted.

    Rows left 'sending' become 'unknown' and are listed in the report, never sent again;
    'pending' rows are sent; chats that unsubscribed meanwhile are dropped. A digest stored but
    never begun (no ledger rows) goes to the current subscribers and the channel.
    """
    reports = []
    for stored in await store.unfinished_digests():
        if not stored.content:
            await store.mark_digest(stored.id, "done")
            continue
        digest = Digest.from_json(stored.content)
        recovered = await store.recover_in_flight(stored.id)
        if recovered:
            log.warning(
                "digest %s: %d delivery(ies) in flight at the crash", stored.id, len(recovered)
            )
        if not await store.deliveries(stored.id):
            report = await send_digest(store, digest, sender, channel, options)
        else:
            await store.drop_unsubscribed(stored.id)
            pending = await store.pending_deliveries(stored.id)
            recipients = [
                channel
                if channel is not None and chat_id == channel.chat_id
                else Recipient(chat_id, lang)
                for chat_id, lang in pending.items()
            ]
            report = await broadcast(
                store, digest.id, digest.parts_by_lang, recipients, sender, options
            )
            if not report.left:
                await store.mark_digest(stored.id, "done")
        report.unknown[:0] = recovered
        reports.append(report)
    return reports


# -- the schedule --------------------------------------------------------------------------


def _zone(tz: str | dt.tzinfo) -> dt.tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def _slot(day: dt.date, time: dt.time, zone: dt.tzinfo) -> dt.datetime:
    # A wall time skipped by a spring-forward change is taken with the old offset, which lands
    # just after the gap (02:30 → 03:30); an ambiguous autumn time is its first occurrence.
    local = dt.datetime.combine(day, time.replace(tzinfo=None), tzinfo=zone)
    return local.astimezone(dt.UTC).astimezone(zone)


def next_run(now: dt.datetime, weekday: int, time: dt.time, tz: str | dt.tzinfo) -> dt.datetime:
    """The first digest moment strictly after `now`: `weekday` (Monday = 0) at `time` on the wall
    clock of `tz`, whatever the UTC offset that day. Returned in `tz`."""
    zone = _zone(tz)
    local = _aware(now).astimezone(zone)
    day = local.date() + dt.timedelta(days=(weekday - local.weekday()) % 7)
    for week in range(3):
        slot = _slot(day + dt.timedelta(weeks=week), time, zone)
        if slot > now:
            return slot
    raise AssertionError("unreachable: a weekly slot always lies within three weeks")


def previous_run(
    now: dt.datetime, weekday: int, time: dt.time, tz: str | dt.tzinfo
) -> dt.datetime:
    """The latest digest moment at or before `now` (what start-up checks was not missed)."""
    zone = _zone(tz)
    local = _aware(now).astimezone(zone)
    day = local.date() - dt.timedelta(days=(local.weekday() - weekday) % 7)
    for week in range(3):
        slot = _slot(day - dt.timedelta(weeks=week), time, zone)
        if slot <= now:
            return slot
    raise AssertionError("unreachable: a weekly slot always lies within three weeks")


def missed_digest_decision(last_scheduled: dt.datetime | None, now: dt.datetime) -> Decision:
    """What start-up does about a digest moment that passed while the bot was down.

    `last_scheduled` is the latest past digest moment whose digest does not exist yet (None
    when there is none). Less than a day late: 'send' it now, once. Later than that: 'skip'
    the week (and tell the admins) rather than send stale news. Lateness is real elapsed time,
    so a DST change in between neither adds nor removes an hour.
    """
    if last_scheduled is None:
        return "none"
    late = _aware(now).astimezone(dt.UTC) - _aware(last_scheduled).astimezone(dt.UTC)
    if late < dt.timedelta(0):
        return "none"
    return "send" if late < LATE_LIMIT else "skip"


async def startup_decision(
    store: Store, now: dt.datetime, weekday: int, time: dt.time, tz: str | dt.tzinfo
) -> tuple[Decision, dt.datetime]:
    """The missed-digest decision against the store, with the moment it is about.

    A first start (no digest ever) has nothing to catch up. On 'send', prepare the digest with
    `now=slot` so it carries the missed week's id; on 'skip', `store.skip_digest(week_id(slot))`
    records it so the next start-up does not ask again.
    """
    slot = previous_run(now, weekday, time, tz)
    if not await store.has_digests() or await store.get_digest(week_id(slot)) is not None:
        return "none", slot
    return missed_digest_decision(slot, now), slot


def ptb_days(weekday: int) -> tuple[int]:
    """Monday = 0 (datetime.weekday) as JobQueue.run_daily's `days`, which counts 0 = Sunday."""
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
    return ((weekday + 1) % 7,)


def job_time(hour: int, minute: int, tz: str | dt.tzinfo) -> dt.time:
    """The time of day for run_daily, carrying its zone so DST never shifts the digest."""
    return dt.time(hour, minute, tzinfo=_zone(tz))


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("schedule arithmetic needs aware datetimes")
    return moment


__all__ = [
    "BroadcastOptions",
    "BroadcastReport",
    "DeliveryError",
    "DeliveryUncertain",
    "PermanentError",
    "Recipient",
    "RecipientGone",
    "RecipientMoved",
    "RetryLater",
    "Sender",
    "TransientError",
    "broadcast",
    "compose_now",
    "job_time",
    "missed_digest_decision",
    "next_run",
    "prepare_digest",
    "preview_digest",
    "previous_run",
    "ptb_days",
    "resume",
    "send_digest",
    "startup_decision",
]
