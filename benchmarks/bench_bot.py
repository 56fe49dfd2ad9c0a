"""The whole bot under load: answers per second and time from update to reply.

Run: .venv/bin/python benchmarks/bench_bot.py [--users 200] [--questions 2000] [--rounds 3]

Simulated users each ask their share of the questions through the fake Bot API (HTTP on
127.0.0.1, the same harness as tests/tg): a user sends a question, waits for the bot's reply,
then asks the next, and all users do so at once. The real bot (built by bot.tg.app) runs
beside tests/tg/echo_bot.py, a bot that does nothing but reply, on the same harness in the
same run; their throughput ratio is the bot's own cost. Both get the same concurrency and
the same rate limiter with Telegram's flood limits switched off: otherwise both would
measure Telegram's 30 messages a second, not themselves. The target is a ratio of 0.8.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram.ext import AIORateLimiter, Application  # noqa: E402

from bot.service import FactService  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.tg.app import build_application, start_app, stop_app  # noqa: E402
from bot.tg.delivery import RetryingRateLimiter  # noqa: E402
from tests.fakebot import FakeBotApi  # noqa: E402
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


async def drive(
    name: str,
    build: Callable[[FakeBotApi], AnyApp],
    asked: list[str],
    users: int,
    warmup: int,
) -> Result:
    """Run one bot against a fresh fake and measure `asked`, spread over `users` users."""
    async with FakeBotApi(token=TOKEN) as fake:
        app = build(fake)
        people = [fake.user(100_000 + i, f"User {i}", "en") for i in range(users)]
        waiting: dict[int, asyncio.Future[float]] = {}
        seen = 0

        def more_sent() -> bool:
            return len(fake.sent) > seen

        async def watch() -> None:
            nonlocal seen
            while True:
                await fake.wait_for(more_sent, timeout=120)
                now = time.perf_counter()
                for message in fake.sent[seen:]:
                    future = waiting.pop(message.chat_id or 0, None)
                    if future is not None and not future.done():
                        future.set_result(now)
                seen = len(fake.sent)

        async def ask(user_index: int, texts: list[str], latencies: list[float]) -> None:
            user = people[user_index]
            for text in texts:
                future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
                waiting[user.id] = future
                sent = time.perf_counter()
                await fake.send_text(user, text)
                latencies.append(await future - sent)

        await start_app(app)
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        watcher = asyncio.create_task(watch())
        try:
            await asyncio.gather(*(ask(i, [asked[i]], []) for i in range(min(warmup, users))))
            latencies: list[float] = []
            shares = [asked[i::users] for i in range(users)]
            started = time.perf_counter()
            await asyncio.gather(*(ask(i, shares[i], latencies) for i in range(users)))
            elapsed = time.perf_counter() - started
        finally:
            watcher.cancel()
            await stop_app(app)
        return Result(name, len(latencies), elapsed, latencies)


def build_tiesbot(database: Path) -> Callable[[FakeBotApi], AnyApp]:
    def build(fake: FakeBotApi) -> AnyApp:
        settings = Settings(
            token=TOKEN,
            api_base_url=fake.url,
            database_path=database,
            knowledge_dir=ROOT / "knowledge",
            sources_dir=ROOT / "knowledge" / "articles",
            flood_limit=1000,
        )
        limiter = RetryingRateLimiter(overall_max_rate=0, group_max_rate=0)
        return build_application(settings, rate_limiter=limiter)

    return build


def build_echo(fake: FakeBotApi) -> AnyApp:
    limiter = AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=3)
    return build_echo_app(fake.url, TOKEN, rate_limiter=limiter, concurrent_updates=True)


async def bench(users: int, total: int, rounds: int, database: Path) -> list[Result]:
    asked = await asyncio.to_thread(questions, total)
    results = []
    for _ in range(rounds):
        results.append(await drive("echo", build_echo, asked, users, warmup=50))
        results.append(await drive("tiesbot", build_tiesbot(database), asked, users, warmup=50))
    return results


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
    # Rounds alternate echo and tiesbot so both see the same machine load; each round's ratio
    # compares neighbours, and the median ratio is the figure that counts.
    echo = [r for r in results if r.name == "echo"]
    bot = [r for r in results if r.name == "tiesbot"]
    ratios = [b.per_second / e.per_second for e, b in zip(echo, bot, strict=True)]
    ratio = statistics.median(ratios)
    p50 = statistics.median(statistics.median(r.latencies) for r in bot) * 1000
    p99 = statistics.median(r.percentile(0.99) for r in bot) * 1000
    verdict = "meets" if ratio >= TARGET else "misses"
    print(
        f"throughput ratio tiesbot/echo per round: {', '.join(f'{r:.2f}' for r in ratios)};"
        f" median {ratio:.2f} ({verdict} the {TARGET} target)"
    )
    print(
        f"tiesbot: median {statistics.median(r.per_second for r in bot):.1f} answers/s,"
        f" p50 {p50:.1f} ms, p99 {p99:.1f} ms from update to reply"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
