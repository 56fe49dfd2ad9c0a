"""Builds the bot: one Application, its services, and every handler in one ordered list.

The same `build_application` serves Telegram (long polling or webhook), the console chat
(with a request layer that never leaves the process) and the tests (against a fake Bot API
on 127.0.0.1), so what is tested and what runs are one program.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    BaseRateLimiter,
    ContextTypes,
    Defaults,
    JobQueue,
    TypeHandler,
)
from telegram.request import BaseRequest

from bot import ops
from bot.logs import current_update
from bot.service import FactService
from bot.settings import Settings
from bot.tg import commands, digest_job, errors
from bot.tg.context import BotData, Context, TiesApp
from bot.tg.delivery import RetryingRateLimiter
from bot.tg.flood import FloodLimiter
from bot.tg.handlers import (
    admin_desk,
    admin_digest,
    admin_drafts,
    ask,
    callbacks,
    fact,
    inline,
    lang,
    sources,
    start,
    subscribe,
    timeline,
    topics,
)
from bot.tg.transport import AiohttpRequest

log = logging.getLogger(__name__)

CONTEXT_TYPES = ContextTypes(bot_data=BotData)
# ApplicationBuilder insists on a token even when no request ever reaches Telegram.
CONSOLE_TOKEN = "0:console"
# `tiesbot health` calls the bot dead when its heartbeat is older than ops.HEARTBEAT_MAX_AGE.
HEARTBEAT_SECONDS = 30


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    service: FactService | None = None,
    concurrent_updates: bool | int = True,
    heartbeat: bool = False,
) -> TiesApp:
    """The Application with its settings, services and handlers; not yet initialised.

    HTTP goes through aiohttp (bot/tg/transport.py says why); `request` replaces it (the
    console chat); `service` lends an already open fact service
    that the caller keeps ownership of; `rate_limiter` replaces Telegram's flood limits (the
    benchmark measures the bot, not Telegram's 30 messages a second); `heartbeat` proves the
    bot alive to `tiesbot health` every 30 s (for the deployed bot, not tests or the console).
    """
    builder = (
        ApplicationBuilder()
        .token(settings.token or CONSOLE_TOKEN)
        .base_url(settings.bot_api_url)
        .base_file_url(settings.file_api_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .context_types(CONTEXT_TYPES)
        .job_queue(JobQueue[Context]())
        .rate_limiter(rate_limiter or RetryingRateLimiter())
        .concurrent_updates(concurrent_updates)
        .post_init(open_services)
        .post_shutdown(close_services)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request).updater(None)
    else:
        builder = builder.request(AiohttpRequest()).get_updates_request(
            AiohttpRequest(connection_pool_size=1)
        )
    app: TiesApp = builder.build()
    data = app.bot_data
    data.settings = settings
    data.flood = FloodLimiter(settings.flood_limit)
    data.fact_service = service
    data.owns_service = service is None
    data.heartbeat = heartbeat
    register_handlers(app)
    return app


def register_handlers(app: TiesApp) -> None:
    """Every handler, in order (order matters: commands before free text)."""
    # Runs first for every update, so every log line of its handling names the update.
    app.add_handler(TypeHandler(Update, _note_update_id), group=-100)
    start.register(app)  # /start, deep links, /help
    topics.register(app)  # /topics and its browsing buttons
    sources.register(app)  # /sources
    fact.register(app)  # /fact ID
    timeline.register(app)  # /timeline [country]
    lang.register(app)  # /lang en|ru
    subscribe.register(app)  # /subscribe, /unsubscribe (in groups: administrators only)
    admin_drafts.register(app)  # /add, /edit, /import conversations — before free text
    ask.register(app)  # /ask, private text, group mentions and replies — after the commands
    callbacks.register(app)  # did-you-mean, related, 📄 quotes, 👍/👎
    admin_digest.register(app)  # /digest and its buttons — before admin_desk's stale buttons
    admin_desk.register(app)  # the other admin commands and buttons, stale admin buttons last
    inline.register(app)  # @bot question in any chat
    errors.register(app)


async def _note_update_id(update: Update, context: Context) -> None:
    current_update.set(update.update_id)


async def open_services(app: TiesApp) -> None:
    """post_init: open the fact base, publish the command menu in both languages, and start
    the weekly digest (its own connection, its jobs)."""
    data = app.bot_data
    settings = data.settings
    if data.fact_service is None:
        data.fact_service = await FactService.open(
            settings.database_path, settings.knowledge_dir, settings.sources_dir
        )
    await app.bot.set_my_commands(commands.bot_commands("en"))
    await app.bot.set_my_commands(commands.bot_commands("ru"), language_code="ru")
    if data.heartbeat and app.job_queue is not None:
        # The first beat is written now: a repeating job's first run comes one interval
        # after it is scheduled, and `health` must not call a starting bot dead.
        ops.write_heartbeat(settings)
        app.job_queue.run_repeating(heartbeat, interval=HEARTBEAT_SECONDS, name="heartbeat")
    log.info("fact base open: %d facts", len(data.service.facts()))
    await digest_job.open_digest(app)


async def close_services(app: TiesApp) -> None:
    """post_shutdown: close what post_init opened (a lent service stays open)."""
    data = app.bot_data
    await digest_job.close_digest(app)
    if data.fact_service is not None and data.owns_service:
        await data.fact_service.close()
        data.fact_service = None


async def heartbeat(context: Context) -> None:
    """A job: a stuck loop stops running jobs too, so a fresh file means a working bot."""
    ops.write_heartbeat(context.bot_data.settings)


async def start_app(app: TiesApp) -> None:
    """Initialise and start without `run_*` (console chat, tests), running post_init as they do.

    PTB calls post_init/post_shutdown only from run_polling/run_webhook; code that drives the
    lifecycle itself must call them, or the fact service never opens.
    """
    await app.initialize()
    try:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
    except BaseException:
        await stop_app(app)
        raise


async def stop_app(app: TiesApp) -> None:
    """The reverse of start_app: stop, shut down, then post_shutdown closes the services."""
    try:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
    finally:
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
