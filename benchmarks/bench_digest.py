"""The weekly digest's broadcast rate: achieved messages a second over the configured limit.

Run: .venv/bin/python benchmarks/bench_digest.py [--big 5000] [--small 300] [--fast-rate 1000]

Two runs of the real weekly job (bot.tg.digest_job.weekly: the production Application, its
RetryingRateLimiter, the delivery ledger) against the fake Bot API, whose flood model answers
429 as Telegram would to anything over the limit (`FakeBotApi.rate_limit`):

- `big` subscribers with the limiter raised to `fast-rate` messages a second
  (overall_max_rate=1000, overall_time_period=1; the rate Telegram allows paid broadcasts),
  the fake enforcing the same;
- `small` subscribers at the default limit (Telegram's 30 a second): no 429 may come back;
- `mid` subscribers at `mid-rate`, a rate one process can produce here, to tell the limiter's
  pacing apart from the CPU's ceiling when the big run falls short.

A run's rate is the digest messages the fake accepted over the time from the first send to
the last accepted one, as the fake saw them. The target is 0.9 of the configured rate, with
every subscriber getting the digest exactly once. The fake runs in a process of its own, as
Telegram's servers do not share the bot's CPU; the bot's CPU time per message is printed, as
it is what bounds the big run (1000 / ms per message is the most one process can send).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# RetryAfter.retry_after as a timedelta: PTB 22 warns on every 429 otherwise.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.broadcast import BroadcastOptions  # noqa: E402
from bot.service import FactService  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage.store import Store  # noqa: E402
from bot.tg.app import build_application, start_app, stop_app  # noqa: E402
from bot.tg.delivery import RetryingRateLimiter  # noqa: E402
from bot.tg.digest_job import WEEKLY_JOB  # noqa: E402
from tests.fakebot import FakeBotApi  # noqa: E402

TOKEN = "123456789:" + "D" * 35
OWNER = 900_000_001
FIRST_SUBSCRIBER = 1_000_000
MONDAY = dt.datetime(2031, 3, 3, 9, 0, tzinfo=ZoneInfo("Europe/Minsk"))
TARGET = 0.9
# Sends in flight: enough to cover a round trip of ROUND_TRIP seconds at the configured rate
# (at least the production default of 8). More only bunches requests up at the server.
ROUND_TRIP = 0.025
Call = tuple[int, int | None, float]  # chat id, HTTP status, when the fake received it


@dataclass
class Result:
    name: str
    subscribers: int
    configured: float
    delivered: int
    seconds: float
    refused_429: int
    duplicates: int
    missing: int
    bot_cpu: float

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0

    @property
    def ratio(self) -> float:
        return self.rate / self.configured

    @property
    def exactly_once(self) -> bool:
        return not self.duplicates and not self.missing

    def line(self) -> str:
        per_message = self.bot_cpu / max(self.delivered, 1) * 1000
        return (
            f"{self.name:<6} {self.subscribers:>5} subscribers: {self.delivered} delivered in"
            f" {self.seconds:6.2f}s = {self.rate:7.1f}/s of {self.configured:g}/s configured,"
            f" ratio {self.ratio:.3f}; 429s received {self.refused_429}; duplicates"
            f" {self.duplicates}, missing {self.missing}; bot CPU {per_message:.2f} ms/message"
            f" (ceiling ≈ {1000 / per_message:.0f}/s)"
        )


def serve_fake(conn: Connection, chats: Sequence[int], rate: int) -> None:
    """The child process: the fake Bot API with Telegram's flood model at `rate` a second.

    Sends its URL, serves until asked for the record, then sends every sendMessage call.
    """

    async def main() -> None:
        async with FakeBotApi(token=TOKEN) as fake:
            fake.user(OWNER, "Owner", started=True)
            for chat_id in chats:
                fake.user(chat_id, f"Reader {chat_id}", started=True)
            fake.rate_limit(per_second=rate, per_chat_per_minute=20)
            conn.send(fake.url)
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)
            calls: list[Call] = [
                (int(c.params.get("chat_id", 0)), c.status, c.at)
                for c in fake.calls_to("sendMessage")
            ]
            conn.send(calls)

    asyncio.run(main())


async def template(folder: Path) -> Path:
    """A database with the fact base imported, copied for each run."""
    path = folder / "template.sqlite3"
    service = await FactService.open(path, ROOT / "knowledge", ROOT / "knowledge" / "articles")
    await service.close()
    return path


async def broadcast_run(
    name: str,
    folder: Path,
    source: Path,
    subscribers: int,
    limiter: RetryingRateLimiter,
    configured: float,
) -> Result:
    """One weekly job to `subscribers` chats through `limiter`, the fake at `configured`/s."""
    database = folder / f"{name}.sqlite3"
    shutil.copyfile(source, database)
    chats = list(range(FIRST_SUBSCRIBER, FIRST_SUBSCRIBER + subscribers))
    store = await Store.open(database)
    try:
        for chat_id in chats:
            await store.subscribe(chat_id)
    finally:
        await store.close()

    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    fake = spawn.Process(target=serve_fake, args=(theirs, chats, int(configured)))
    fake.start()
    try:
        url = ours.recv()
        settings = Settings(
            token=TOKEN,
            api_base_url=url,
            admin_ids=frozenset({OWNER}),
            database_path=database,
            knowledge_dir=ROOT / "knowledge",
            sources_dir=ROOT / "knowledge" / "articles",
        )
        app = build_application(settings, rate_limiter=limiter)
        app.bot_data.digest.clock = lambda: MONDAY
        in_flight = max(BroadcastOptions.concurrency, round(configured * ROUND_TRIP))
        app.bot_data.digest.options = BroadcastOptions(concurrency=in_flight)
        await start_app(app)
        try:
            await app.bot_data.digest.ready.wait()
            assert app.job_queue is not None
            [job] = app.job_queue.jobs(WEEKLY_JOB)
            cpu = time.process_time()
            await job.run(app)
            cpu = time.process_time() - cpu
        finally:
            await stop_app(app)
        ours.send("report")
        calls: list[Call] = ours.recv()
    finally:
        fake.join(timeout=30)
        if fake.is_alive():
            fake.kill()
    wanted = set(chats)
    mine = [c for c in calls if c[0] in wanted]
    accepted = [c for c in mine if c[1] == 200]
    per_chat = Counter(c[0] for c in accepted)
    seconds = max(c[2] for c in accepted) - min(c[2] for c in mine) if accepted else 0.0
    return Result(
        name=name,
        subscribers=subscribers,
        configured=configured,
        delivered=len(accepted),
        seconds=seconds,
        refused_429=sum(c[1] == 429 for c in mine),
        duplicates=sum(n - 1 for n in per_chat.values() if n > 1),
        missing=len(wanted - set(per_chat)),
        bot_cpu=cpu,
    )


def _fine(run: Result) -> bool:
    return run.ratio >= TARGET and run.refused_429 == 0 and run.exactly_once


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = await template(folder)
        fast = RetryingRateLimiter(overall_max_rate=args.fast_rate, overall_time_period=1)
        big = await broadcast_run("big", folder, source, args.big, fast, args.fast_rate)
        print(big.line(), flush=True)
        small = await broadcast_run("small", folder, source, args.small, RetryingRateLimiter(), 30)
        print(small.line(), flush=True)
        paced = RetryingRateLimiter(overall_max_rate=args.mid_rate, overall_time_period=1)
        mid = await broadcast_run("mid", folder, source, args.mid, paced, args.mid_rate)
        print(mid.line(), flush=True)
    verdicts = [
        ("big: ratio >= 0.9", big.ratio >= TARGET),
        ("big: every subscriber exactly once", big.exactly_once),
        ("small: ratio >= 0.9", small.ratio >= TARGET),
        ("small: no 429 received", small.refused_429 == 0),
        ("small: every subscriber exactly once", small.exactly_once),
        ("mid: ratio >= 0.9, no 429, exactly once", _fine(mid)),
    ]
    for label, ok in verdicts:
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--big", type=int, default=5000, help="subscribers in the fast run")
    parser.add_argument("--small", type=int, default=300, help="subscribers at the default limit")
    parser.add_argument("--fast-rate", type=float, default=1000, help="messages a second")
    parser.add_argument("--mid", type=int, default=3000, help="subscribers in the mid run")
    parser.add_argument("--mid-rate", type=float, default=300, help="messages a second")
    sys.exit(asyncio.run(main(parser.parse_args())))
