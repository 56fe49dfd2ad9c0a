"""The one composition root: parse the command line, load settings, configure logging, run.

`tiesbot …` and `python -m bot …` are the same program.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from telegram import Update

from bot import ops
from bot.domain.evidence import SourceTexts
from bot.domain.knowledge import (
    KnowledgeError,
    load_folder,
    write_folder,
)
from bot.logs import configure_logging
from bot.service import FactService, Reply, sync_knowledge
from bot.settings import Settings, SettingsError, load_settings
from bot.storage.store import Store

if TYPE_CHECKING:
    from bot.tg.context import TiesApp

EMPTY_QUESTION = "Please type a question, e.g. “When did Lukashenka visit Iran?”"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tiesbot",
        description="Belarus Ties Bot: sourced answers on Belarus's relations with Azerbaijan"
        " and Iran.",
    )
    parser.add_argument("--env-file", type=Path, default=Path(".env"), help="settings file (.env)")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser(
        "run",
        help="run the Telegram bot (long polling, or webhook with WEBHOOK_URL); with no token,"
        " chat with it in the console",
    )

    ask = sub.add_parser("ask", help="answer a question from the fact base, offline")
    ask.add_argument(
        "question", help="the question, or - to read one question per line from stdin"
    )
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    ask.add_argument("--lang", choices=("en", "ru"), help="answer in this language")

    knowledge = sub.add_parser("knowledge", help="check, load or export the fact files")
    ksub = knowledge.add_subparsers(dest="action", required=True)
    check = ksub.add_parser("check", help="validate the fact files")
    check.add_argument(
        "dir", nargs="?", type=Path, help="knowledge folder (default: KNOWLEDGE_DIR)"
    )
    check.add_argument("--sources", type=Path, help="folder of article texts to verify quotes")
    load = ksub.add_parser("load", help="import the fact files into the database")
    load.add_argument("dir", nargs="?", type=Path)
    load.add_argument(
        "--overwrite",
        action="store_true",
        help="replace facts that admins changed in the database",
    )
    export = ksub.add_parser("export", help="write the database back as fact files")
    export.add_argument("dir", nargs="?", type=Path, help="target folder (default: KNOWLEDGE_DIR)")
    ops.add_parsers(sub)  # backup, restore, health, doctor
    add_digest_parser(sub)
    return parser


async def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    service = await FactService.open(
        settings.database_path, settings.knowledge_dir, settings.sources_dir
    )
    try:
        questions = sys.stdin.read().splitlines() if args.question == "-" else [args.question]
        for question in questions:
            reply = service.ask(question) if question.strip() else None
            if args.json:
                out: dict[str, object]
                if reply is None:
                    out = {
                        "question": question,
                        "answered": False,
                        "answer": None,
                        "fact_id": None,
                        "score": 0.0,
                        "sources": [],
                        "suggestions": [],
                        "error": EMPTY_QUESTION,
                    }
                else:
                    out = service.to_json(reply, args.lang)
                print(json.dumps(out, ensure_ascii=False), flush=True)
            elif reply is None:
                print(EMPTY_QUESTION, file=sys.stderr)
                return 2
            else:
                print(render_console(service, reply, args.lang))
    finally:
        await service.close()
    return 0


def render_console(service: FactService, reply: Reply, lang: str | None) -> str:
    """`tiesbot ask` without --json: the answer as a reader sees it, or why there is none."""
    lang = lang or reply.match.lang
    if reply.fact is not None:
        return service.render(reply.fact, lang)
    if reply.suggestions:
        lines = ["Did you mean:" if lang == "en" else "Возможно, вы имели в виду:"]
        lines += [
            f"  {i}. {f.questions_in(lang)[0]}  [{f.id}]"
            for i, (f, _) in enumerate(reply.suggestions, 1)
        ]
        return "\n".join(lines)
    if lang == "ru":
        return "Не знаю: в базе фактов нет ответа на этот вопрос."
    return "I don't know: the fact base has no answer to that."


async def cmd_knowledge(settings: Settings, args: argparse.Namespace) -> int:
    folder = args.dir or settings.knowledge_dir
    if args.action == "check":
        texts = SourceTexts.from_dir(args.sources or settings.sources_dir)
        try:
            base = load_folder(folder, texts)
        except KnowledgeError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            print(f"{len(exc.problems)} problem(s) in {folder}", file=sys.stderr)
            return 1
        print(f"{folder}: {len(base.facts)} facts, {len(base.sources)} sources, all valid")
        return 0
    store = await Store.open(settings.database_path)
    try:
        if args.action == "load":
            texts = SourceTexts.from_dir(settings.sources_dir)
            try:
                report = await sync_knowledge(store, folder, texts, args.overwrite, force=True)
            except KnowledgeError as exc:
                for problem in exc.problems:
                    print(problem, file=sys.stderr)
                print("nothing was imported", file=sys.stderr)
                return 1
            assert report is not None
            print(
                f"added {len(report.added)}, updated {len(report.updated)}, "
                f"unchanged {len(report.unchanged)}, conflicts {len(report.conflicts)}"
            )
            for fact_id in report.conflicts:
                print(
                    f"conflict: {fact_id} was changed in the database by an admin since the "
                    "last import; both sides left as they are (use --overwrite to replace)"
                )
            return 3 if report.conflicts else 0
        base = await store.knowledge_base()
        for path in write_folder(base, folder):
            print(path)
        return 0
    finally:
        await store.close()


def add_digest_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    digest = sub.add_parser("digest", help="the weekly digest, offline")
    digest.add_argument(
        "--preview",
        action="store_true",
        required=True,
        help="print, as plain text, the digest that would go out now",
    )
    digest.add_argument("--lang", choices=("en", "ru"), default="en", help="edition to print")


async def cmd_digest(settings: Settings, args: argparse.Namespace) -> int:
    """Show what the weekly job would send now, without Telegram and without storing it."""
    import datetime as dt

    from bot.broadcast import preview_digest

    service = await FactService.open(
        settings.database_path, settings.knowledge_dir, settings.sources_dir
    )
    try:
        now = dt.datetime.now(settings.zone)
        digest = await preview_digest(service.store, service.facts(), service.composer, now)
    finally:
        await service.close()
    parts = digest.parts(args.lang, "text")
    for number, part in enumerate(parts, 1):
        if len(parts) > 1:
            print(f"──── message {number} of {len(parts)} ────")
        print(part)
        print()
    return 0


def cmd_run(settings: Settings) -> int:
    """Run until SIGINT/SIGTERM: PTB's run_* stop polling or the webhook server, let handlers
    finish, then post_shutdown closes the database.

    The instance lock is held throughout, so `restore` cannot swap the database under a
    running bot and a second copy of the bot cannot start on the same database.
    """
    # Imported here so offline commands (ask, knowledge, backup) start without the bot.
    from bot.tg.app import build_application
    from bot.tg.console import run_console

    try:
        with ops.hold_instance_lock(settings):
            if not settings.token:
                try:
                    return asyncio.run(run_console(settings))
                except KeyboardInterrupt:
                    print()
                    return 0
            app = build_application(settings, heartbeat=True)
            if settings.webhook_url:
                run_webhook(app, settings)
            else:
                logging.getLogger(__name__).info("long polling mode")
                app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    except ops.InstanceLockedError as exc:
        print(f"tiesbot: {exc}", file=sys.stderr)
        return ops.EXIT_BOT_RUNNING
    return 0


def run_webhook(app: TiesApp, settings: Settings) -> None:
    """Serve Telegram's webhook calls on WEBHOOK_LISTEN:WEBHOOK_PORT behind the reverse proxy."""
    path = urlsplit(settings.webhook_url).path.lstrip("/")
    logging.getLogger(__name__).info(
        "webhook mode: listening on %s:%d/%s", settings.webhook_listen, settings.webhook_port, path
    )
    # PTB checks X-Telegram-Bot-Api-Secret-Token against secret_token on every request and
    # answers 403 to anything else.
    app.run_webhook(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        url_path=path,
        webhook_url=settings.webhook_url,
        secret_token=settings.webhook_secret,
        allowed_updates=Update.ALL_TYPES,
        drop_pending_updates=False,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "doctor":  # reports invalid settings itself instead of stopping at them
        return asyncio.run(ops.cmd_doctor(args))
    try:
        settings = load_settings(env_file=args.env_file)
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"setting {problem}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, (settings.token, settings.webhook_secret))
    if args.command == "run":
        return cmd_run(settings)
    handlers = {
        "ask": cmd_ask,
        "knowledge": cmd_knowledge,
        "backup": ops.cmd_backup,
        "restore": ops.cmd_restore,
        "health": ops.cmd_health,
        "digest": cmd_digest,
    }
    try:
        return asyncio.run(handlers[args.command](settings, args))
    except BrokenPipeError:
        # The reader went away (`tiesbot digest --preview | head`): stop quietly, as cat does.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
