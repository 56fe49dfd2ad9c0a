"""The weekly digest's jobs: the weekly broadcast, the start-up catch-up and /digest send.

post_init (`open_digest`) gives the digest its own database connection, schedules the weekly
job with a time that carries DIGEST_TZ (so a DST change never moves the wall-clock moment;
`ptb_days` because run_daily counts 0 = Sunday) and queues the start-up job, which runs once
the application has started, so a long catch-up never holds up the first updates:

1. the channel: DIGEST_CHANNEL_ID resolved to its number, and the bot's rights there checked;
   admins hear of a problem (`tiesbot doctor` says the same);
2. `resume`: a broadcast a crash or restart interrupted is finished; chats whose send was in
   flight are reported 'unknown' and never sent again;
3. `startup_decision`: a digest missed while the bot was down goes out now when less than a
   day late, else the week is skipped and the admins are told.

Every broadcast holds `DigestState.lock` and ends with a summary to the owners (and to the
admin who asked for it). The ledger in bot/broadcast.py makes each step idempotent, so a
second trigger sends nothing twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import logging
import re

from telegram import ChatMember, ChatMemberAdministrator
from telegram.error import TelegramError

from bot.broadcast import (
    LATE_LIMIT,
    BroadcastOptions,
    BroadcastReport,
    Recipient,
    job_time,
    next_run,
    prepare_digest,
    ptb_days,
    resume,
    send_digest,
    startup_decision,
)
from bot.domain.digest import week_id
from bot.storage.store import Store
from bot.tg import digest_render
from bot.tg.context import Context, DigestState, TiesApp
from bot.tg.digest_sender import TelegramSender
from bot.tg.texts import DIGEST

log = logging.getLogger(__name__)

WEEKLY_JOB = "digest-weekly"
STARTUP_JOB = "digest-startup"
SEND_JOB = "digest-send"


# -- lifecycle ---------------------------------------------------------------------------------


async def open_digest(app: TiesApp) -> None:
    """post_init: the digest's own connection, the weekly job and the start-up job.

    The console chat (no token) has nobody to send a digest to and schedules nothing.
    """
    data = app.bot_data
    settings = data.settings
    if not settings.token or app.job_queue is None:
        data.digest.ready.set()
        return
    if data.digest.store is None:
        data.digest.store = await Store.open(settings.database_path)
    schedule(app)
    app.job_queue.run_once(startup, 0, name=STARTUP_JOB)


async def close_digest(app: TiesApp) -> None:
    """post_shutdown: the job queue has stopped (and waited for running jobs) by now."""
    state = app.bot_data.digest
    if state.store is not None:
        await state.store.close()
        state.store = None


def schedule(app: TiesApp) -> None:
    """The weekly job at DIGEST_WEEKDAY / DIGEST_TIME in DIGEST_TZ (replacing an earlier one).

    A run the event loop could not start on time is still made within a day (APScheduler's
    default grace is one second), the same lateness start-up accepts for a missed digest.
    """
    queue = app.job_queue
    if queue is None:
        return
    for job in queue.get_jobs_by_name(WEEKLY_JOB):
        job.schedule_removal()
    settings = app.bot_data.settings
    hour, minute = settings.digest_time
    queue.run_daily(
        weekly,
        time=job_time(hour, minute, settings.digest_tz),
        days=ptb_days(settings.digest_weekday),
        name=WEEKLY_JOB,
        job_kwargs={
            "misfire_grace_time": int(LATE_LIMIT.total_seconds()),
            "coalesce": True,
        },
    )


# -- the jobs ----------------------------------------------------------------------------------


async def weekly(context: Context) -> None:
    """The weekly job: this week's digest to every subscriber and the channel."""
    state = context.bot_data.digest
    now = state.clock().astimezone(context.bot_data.settings.zone)
    async with state.lock:
        await deliver(context, now)


async def startup(context: Context) -> None:
    """Once after start: check the channel, finish an interrupted broadcast, catch up."""
    state = context.bot_data.digest
    settings = context.bot_data.settings
    try:
        async with state.lock:
            await check_channel(context)
            store = _store(state)
            channel = await channel_recipient(context)
            reports = await resume(store, TelegramSender(context.bot), channel, _options(context))
            for report in reports:
                log.warning("digest resumed: %s", report.summary())
                await tell_admins(context, digest_render.summary(report, resumed=True))
            hour, minute = settings.digest_time
            decision, slot = await startup_decision(
                store, state.clock(), settings.digest_weekday, dt.time(hour, minute), settings.zone
            )
            if decision == "send":
                log.info("digest due %s was missed; sending it now", slot)
                await deliver(context, slot)
            elif decision == "skip":
                await store.skip_digest(week_id(slot))
                log.warning("digest due %s is more than a day late; week skipped", slot)
                text = DIGEST.skipped.format(slot=digest_render.when(slot), id=week_id(slot))
                await tell_admins(context, text)
    finally:
        state.ready.set()


async def send_now(context: Context) -> None:
    """/digest send, confirmed: this week's digest now, the summary to the admin who asked."""
    state = context.bot_data.digest
    job = context.job
    requested_by = job.data if job is not None and isinstance(job.data, int) else None
    now = state.clock().astimezone(context.bot_data.settings.zone)
    async with state.lock:
        await deliver(context, now, requested_by)


def start_sending(context: Context, user_id: int) -> None:
    """Queue /digest send as a job: a broadcast outlives the button press that asked for it
    (and shutdown waits for running jobs)."""
    if context.job_queue is None:
        raise RuntimeError("the digest needs PTB's job queue")
    context.job_queue.run_once(send_now, 0, data=user_id, name=SEND_JOB)


# -- one broadcast -----------------------------------------------------------------------------


async def deliver(
    context: Context, now: dt.datetime, requested_by: int | None = None
) -> BroadcastReport | None:
    """The digest of `now`'s week, composed once and stored, to everyone who has not had it.

    The caller holds the digest lock. None when there was nothing to tell.
    """
    state = context.bot_data.digest
    store = _store(state)
    service = context.bot_data.service
    digest = await prepare_digest(store, service.facts(), service.composer, now)
    if digest.empty:
        await store.mark_digest(digest.id, "skipped")
        await tell_admins(context, DIGEST.empty.format(id=digest.id), also=requested_by)
        return None
    channel = await channel_recipient(context)
    sender = TelegramSender(context.bot)
    report = await send_digest(store, digest, sender, channel, _options(context))
    log.info("%s", report.summary())
    await tell_admins(context, digest_render.summary(report), also=requested_by)
    return report


def next_digest(context: Context) -> dt.datetime:
    """When the weekly job runs next, in DIGEST_TZ (for /digest preview and status)."""
    settings = context.bot_data.settings
    hour, minute = settings.digest_time
    now = context.bot_data.digest.clock()
    return next_run(now, settings.digest_weekday, dt.time(hour, minute), settings.zone)


# -- the channel -------------------------------------------------------------------------------


def _chat_ref(channel: str) -> int | str:
    return int(channel) if re.fullmatch(r"-?\d+", channel) else channel


async def channel_recipient(context: Context) -> Recipient | None:
    """DIGEST_CHANNEL_ID as a recipient, its @name resolved once with getChat; None when
    there is no channel or the name cannot be resolved now (the subscribers still get it)."""
    data = context.bot_data
    name, state = data.settings.digest_channel, data.digest
    if not name:
        return None
    if state.channel_id is None:
        ref = _chat_ref(name)
        if isinstance(ref, int):
            state.channel_id = ref
        else:
            try:
                state.channel_id = (await context.bot.get_chat(ref)).id
            except TelegramError as exc:
                log.warning("digest channel %s: %s; it misses this digest", name, exc)
                return None
    lang = await _store(state).chat_lang(state.channel_id)
    return Recipient(state.channel_id, lang or "en")


async def check_channel(context: Context) -> bool:
    """Whether the bot may post in DIGEST_CHANNEL_ID; when not, a warning in the log and a
    message to the admins (a digest posted nowhere would otherwise go unnoticed)."""
    data = context.bot_data
    name = data.settings.digest_channel
    if not name:
        return True
    bot = context.bot
    problem: str | None
    try:
        chat = await bot.get_chat(_chat_ref(name))
        data.digest.channel_id = chat.id
        member = await bot.get_chat_member(chat.id, bot.id)
    except TelegramError as exc:
        problem = exc.message
    else:
        problem = _rights_problem(member)
    if problem is None:
        return True
    log.warning("digest channel %s: %s", name, problem)
    text = DIGEST.channel_problem.format(
        channel=html.escape(name), problem=html.escape(problem, quote=False)
    )
    await tell_admins(context, text)
    return False


def _rights_problem(member: ChatMember) -> str | None:
    if member.status == ChatMember.OWNER:
        return None
    if member.status != ChatMember.ADMINISTRATOR:
        return DIGEST.channel_not_admin.format(status=member.status)
    if isinstance(member, ChatMemberAdministrator) and member.can_post_messages is False:
        return DIGEST.channel_no_post
    return None


# -- telling the admins ------------------------------------------------------------------------


async def tell_admins(context: Context, text: str, also: int | None = None) -> None:
    """A report to every owner (ADMIN_IDS), and to `also` (the admin who asked) if another.

    An owner who never started the bot cannot be written to; that is logged, not raised,
    so one unreachable owner never stops a broadcast's bookkeeping.
    """
    owners = set(context.bot_data.settings.admin_ids)
    if also is not None:
        owners.add(also)
    for chat_id in sorted(owners):
        try:
            await context.bot.send_message(chat_id, text)
        except TelegramError as exc:
            log.warning("could not tell admin %s about the digest: %s", chat_id, exc)


def _store(state: DigestState) -> Store:
    if state.store is None:
        raise RuntimeError("the digest store is not open yet (post_init has not run)")
    return state.store


def _options(context: Context) -> BroadcastOptions:
    """The broadcast options, stopping with the bot: Application.stop() clears `running`
    before it waits for running jobs, so a broadcast then finishes its sends under way and
    leaves the rest for the next start-up instead of holding the stop up."""
    app = context.application
    return dataclasses.replace(context.bot_data.digest.options, keep_going=lambda: app.running)
