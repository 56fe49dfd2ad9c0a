"""The whole bot under load: answers per second and time from update to reply.

Run: .venv/bin/python benchmarks/bench_bot.py [--users 200] [--questions 2000] [--rounds 3]

Simulated users each ask their share of the questions through the fake Bot API (HTTP on
127.0.0.1, the same harness as tests/tg): a user sends a question, waits for the bot's reply,
then asks the next, and all users do so at once. The real bot (built by bot.tg.app) runs
beside tests/tg/echo_bot.py, a bot that does nothing but reply, on the same harness in the
same run, twice: as a plain PTB bot ("echo", PTB's default HTTPXRequest), and on tiesbot's
own HTTP stack ("echo/aio", bot/tg/transport.py). The target, 0.8 of the echo bot's
throughput, is against the plain one; the ratio to echo/aio is the cost of the bot's own
work (matching, rendering, the query log). All get the same concurrency and the same rate
limiter with Telegram's flood limits switched off: otherwise all would measure Telegram's
30 messages a second, not themselves.

The fake runs in a process of its own for both bots, as Telegram's servers do not share the
bot's CPU: its work on a reply (parsing the HTML, checking buttons, storing the message) is
not the bot's. The users live there too: on command the fake process injects the questions,
stamps each question when it is queued and each reply when its sendMessage request arrives,
and sends the timings back through a pipe; the bot's process only runs the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import multiprocessing
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram.ext import AIORateLimiter, Application  # noqa: E402
from telegram.request import BaseRequest  # noqa: E402

from bot.service import FactService  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.tg.app import build_application, start_app, stop_app  # noqa: E402
from bot.tg.delivery import RetryingRateLimiter  # noqa: E402
from bot.tg.transport import AiohttpRequest  # noqa: E402
from tests.fakebot import ApiCall, FakeBotApi, FakeUser  # noqa: E402
from tests.tg.echo_bot import build_echo_app  # noqa: E402

TOKEN = "123456789:" + "B" * 35
TARGET = 0.8
AnyApp = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class Result:
    name: str
    answers: int
    seconds: float
    latencies: list[float]
    duplicates: int = 0
    missing: int = 0

    @property
    def exactly_once(self) -> bool:
        return not self.duplicates and not self.missing

    @property
    def per_second(self) -> float:
        return self.answers / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def line(self) -> str:
        return (
            f"{self.name:<8} {self.answers:>5} answers in {self.seconds:6.2f}s = "
            f"{self.per_second:7.1f}/s   p50 {self.percentile(0.5) * 1000:6.1f} ms"
            f"   p99 {self.percentile(0.99) * 1000:6.1f} ms"
            + (
                ""
                if self.exactly_once
                else f"   ({self.duplicates} extra, {self.missing} missing)"
            )
        )


def questions(count: int, seed: int = 7) -> list[str]:
    """What users ask: the facts' own phrasings in both languages, plus off-topic questions."""
    facts = asyncio.run(_phrasings())
    rng = random.Random(seed)
    off_topic = [
        "What is the capital of France?",
        "How many tanks did Belarus sell to Iran?",
        "Belarus",
        "Who won the 2018 World Cup?",
    ]
    pool = facts + off_topic * max(1, len(facts) // 20)
    return [rng.choice(pool) for _ in range(count)]


async def _phrasings() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        service = await FactService.open(Path(tmp) / "q.sqlite3", ROOT / "knowledge", None)
        try:
            return [
                q for f in service.facts() for lang in ("en", "ru") for q in f.questions_in(lang)
            ]
        finally:
            await service.close()


Report = tuple[int, float, list[float], int, int]  # answers, seconds, latencies, extra, missing


def serve_fake(conn: Connection, users: int) -> None:
    """The child process: the fake Bot API and the users who talk to the bot through it.

    Sends its URL, waits for (questions, warmup), runs them and sends back a Report, then
    serves until told the bot has stopped (shutdown still talks to the fake).
    """

    async def main() -> None:
        async with FakeBotApi(token=TOKEN) as fake:
            people = [fake.user(100_000 + i, f"User {i}", "en") for i in range(users)]
            conn.send(fake.url)
            loop = asyncio.get_running_loop()
            asked, warmup = await loop.run_in_executor(None, conn.recv)
            conn.send(await ask_all(fake, people, asked, warmup))
            await loop.run_in_executor(None, conn.recv)

    asyncio.run(main())


async def ask_all(
    fake: FakeBotApi, people: list[FakeUser], asked: list[str], warmup: int
) -> Report:
    """Users ask `asked` between them, one question at a time each; runs in the fake's process.

    A question's clock starts once its update is queued for getUpdates and stops when the
    bot's sendMessage request for that chat reaches the fake (`ApiCall.at`), before the fake
    parses it, so the fake's own work on the reply is not counted.
    """
    users = len(people)
    waiting: dict[int, asyncio.Future[float]] = {}
    in_flight: list[ApiCall] = []
    scanned = 0

    def settle() -> bool:
        nonlocal scanned
        for call in fake.calls[scanned:]:
            if call.method == "sendMessage":
                in_flight.append(call)
        scanned = len(fake.calls)
        for call in [c for c in in_flight if c.status is not None]:
            in_flight.remove(call)
            if call.status != 200:
                continue
            future = waiting.pop(int(call.params.get("chat_id", 0)), None)
            if future is not None and not future.done():
                future.set_result(call.at)
        return False

    async def watch() -> None:
        await fake.wait_for(settle, timeout=3600)

    async def ask(user: FakeUser, texts: list[str], latencies: list[float]) -> None:
        for text in texts:
            future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            waiting[user.id] = future
            await fake.send_text(user, text)
            queued = time.monotonic()
            latencies.append(await future - queued)

    watcher = asyncio.create_task(watch())
    try:
        await asyncio.gather(*(ask(people[i], [asked[i]], []) for i in range(min(warmup, users))))
        first_call = len(fake.calls)
        latencies: list[float] = []
        shares = [asked[i::users] for i in range(users)]
        started = time.monotonic()
        await asyncio.gather(*(ask(people[i], shares[i], latencies) for i in range(users)))
        elapsed = time.monotonic() - started
        # Anything still coming (a second reply to some question) shows up as an extra.
        await asyncio.sleep(0.5)
    finally:
        watcher.cancel()
    replies = Counter(
        int(c.params.get("chat_id", 0))
        for c in fake.calls[first_call:]
        if c.method == "sendMessage" and c.status == 200
    )
    wanted = {people[i].id: len(shares[i]) for i in range(users)}
    extra = sum(max(0, n - wanted.get(chat, 0)) for chat, n in replies.items())
    missing = sum(max(0, n - replies[chat]) for chat, n in wanted.items())
    return sum(replies.values()), elapsed, latencies, extra, missing


async def drive(
    name: str,
    build: Callable[[str], AnyApp],
    asked: list[str],
    users: int,
    warmup: int,
) -> Result:
    """Run one bot against a fresh fake in its own process and measure `asked` there."""
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    fake = spawn.Process(target=serve_fake, args=(theirs, users))
    fake.start()
    try:
        url = await asyncio.to_thread(ours.recv)
        app = build(url)
        await start_app(app)
        try:
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            ours.send((asked, warmup))
            report: Report = await asyncio.to_thread(ours.recv)
        finally:
            await stop_app(app)
        ours.send("stop")
    finally:
        await asyncio.to_thread(fake.join, 30)
        if fake.is_alive():
            fake.kill()
    answers, seconds, latencies, extra, missing = report
    return Result(name, answers, seconds, latencies, extra, missing)


def build_tiesbot(database: Path) -> Callable[[str], AnyApp]:
    def build(url: str) -> AnyApp:
        settings = Settings(
            token=TOKEN,
            api_base_url=url,
            database_path=database,
            knowledge_dir=ROOT / "knowledge",
            sources_dir=ROOT / "knowledge" / "articles",
            flood_limit=1000,
        )
        limiter = RetryingRateLimiter(overall_max_rate=0, group_max_rate=0)
        return build_application(settings, rate_limiter=limiter)

    return build


def build_echo(url: str, request: Callable[[int], BaseRequest] | None = None) -> AnyApp:
    """The echo bot: PTB's defaults (HTTPXRequest), or on `request`, e.g. tiesbot's HTTP
    stack, where what is left of the difference is the bot's own work."""
    limiter = AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=3)
    return build_echo_app(
        url, TOKEN, rate_limiter=limiter, concurrent_updates=True, request=request
    )


BASELINES: dict[str, Callable[[str], AnyApp]] = {
    "echo": build_echo,
    "echo/aio": functools.partial(build_echo, request=AiohttpRequest),
}


async def bench(users: int, total: int, rounds: int, database: Path) -> list[Result]:
    asked = await asyncio.to_thread(questions, total)
    results = []
    for _ in range(rounds):
        for name, build in BASELINES.items():
            results.append(await drive(name, build, asked, users, warmup=50))
        results.append(await drive("tiesbot", build_tiesbot(database), asked, users, warmup=50))
    return results


def ratios(results: list[Result], baseline: str) -> list[float]:
    """Tiesbot over `baseline`, round by round (neighbours see the same machine load)."""
    base = [r for r in results if r.name == baseline]
    bot = [r for r in results if r.name == "tiesbot"]
    return [b.per_second / e.per_second for e, b in zip(base, bot, strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "bench.sqlite3"
        results = asyncio.run(bench(args.users, args.questions, args.rounds, database))
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{args.questions} questions from {args.users} users, {args.rounds} round(s) each:")
    for result in results:
        print("  " + result.line())
    # Each round runs both baselines and tiesbot back to back; the median of the rounds'
    # ratios is the figure that counts. The target compares with the plain echo bot.
    bot = [r for r in results if r.name == "tiesbot"]
    p50 = statistics.median(statistics.median(r.latencies) for r in bot) * 1000
    p99 = statistics.median(r.percentile(0.99) for r in bot) * 1000
    for baseline in BASELINES:
        per_round = ratios(results, baseline)
        ratio = statistics.median(per_round)
        verdict = "meets" if ratio >= TARGET else "misses"
        target = f" ({verdict} the {TARGET} target)" if baseline == "echo" else ""
        print(
            f"throughput ratio tiesbot/{baseline} per round:"
            f" {', '.join(f'{r:.2f}' for r in per_round)}; median {ratio:.2f}{target}"
        )
    print(
        f"tiesbot: median {statistics.median(r.per_second for r in bot):.1f} answers/s,"
        f" p50 {p50:.1f} ms, p99 {p99:.1f} ms from update to reply"
    )
    once = all(r.exactly_once and r.answers == args.questions for r in results)
    print(f"every question got exactly one reply: {'yes' if once else 'NO'}")
    return 0 if once else 1


if __name__ == "__main__":
    sys.exit(main())
