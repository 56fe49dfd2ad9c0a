"""Matcher latency, index build time and memory, beside the naive rapidfuzz baseline.

Run: .venv/bin/python benchmarks/bench_match.py [--sizes 1000,10000,100000] [--queries 300]

For the real fact base and for synthetic bases (real facts recombined, each with invented
names and years so the vocabulary grows with the base), it prints p50/p99 latency per
question, index build time and peak traced memory, and the same for the baseline
(`rapidfuzz.process.extractOne` with `WRatio` over all phrasings), measured in the same run.
Each base is measured in a fresh subprocess so peak memory is that base's alone.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.domain.knowledge import load_folder  # noqa: E402
from bot.domain.matcher import Matcher  # noqa: E402
from bot.domain.models import Fact  # noqa: E402

SYLLABLES = "ka ro mi ta ne sul ver dan pol gri hal mon tes lur zan kor bel vis".split()


def pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def synthetic(real: list[Fact], size: int, seed: int = 7) -> list[Fact]:
    """`size` facts shaped like the real ones, each naming something of its own."""
    rng = random.Random(seed)
    out = []
    for i in range(size):
        base = real[i % len(real)]
        name = pseudo_word(rng).capitalize()
        year = str(rng.randint(1990, 2030))
        questions = {
            lang: tuple(f"{q} {name} {year}" for q in qs) for lang, qs in base.questions.items()
        }
        out.append(
            base.with_changes(
                id=f"syn-{i}",
                questions=questions,
                keywords=(*base.keywords, name, year),
                answer={k: f"{v} {name} {year}" for k, v in base.answer.items()},
            )
        )
    return out


def questions_for(facts: list[Fact], count: int, seed: int = 11) -> list[str]:
    """Phrasings with a typo, plus traps and off-topic questions, in a fixed order."""
    rng = random.Random(seed)
    picked = []
    for _ in range(count):
        fact = rng.choice(facts)
        q = rng.choice(fact.questions_in(rng.choice(("en", "ru"))))
        if len(q) > 8:
            at = rng.randrange(len(q) - 1)
            q = q[:at] + q[at + 1 :]
        picked.append(q)
    picked[::10] = ["How many tanks did Belarus sell to Iran?"] * len(picked[::10])
    picked[5::10] = ["What's the weather in Minsk today?"] * len(picked[5::10])
    return picked


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(size: int, queries: int, engine: str) -> dict[str, float]:
    real = list(load_folder(ROOT / "knowledge").facts)
    facts = real if size == 0 else synthetic(real, size)
    asked = questions_for(facts, queries)
    if engine == "matcher":

        def build() -> object:
            return Matcher(facts)
    else:

        def build() -> object:
            return [q for f in facts for qs in f.questions.values() for q in qs]

    # Timed without tracing (tracemalloc slows allocation-heavy code several-fold), then
    # built once more under tracemalloc for the peak memory alone.
    started = time.perf_counter()
    index = build()
    build_s = time.perf_counter() - started
    del index
    tracemalloc.start()
    index = build()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    if isinstance(index, Matcher):
        matcher = index

        def ask(q: str) -> object:
            return matcher.match(q)
    else:
        phrasings = index
        assert isinstance(phrasings, list)

        def ask(q: str) -> object:
            return process.extractOne(q, phrasings, scorer=fuzz.WRatio)

    ask(asked[0])
    times = []
    for q in asked:
        t0 = time.perf_counter()
        ask(q)
        times.append((time.perf_counter() - t0) * 1000)
    return {
        "facts": len(facts),
        "p50_ms": statistics.median(times),
        "p99_ms": percentile(times, 0.99),
        "build_s": build_s,
        "peak_mb": peak / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,1000,10000,100000", help="0 = the real base")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--one", nargs=2, metavar=("SIZE", "ENGINE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(int(args.one[0]), args.queries, args.one[1])))
        return
    head = (
        f"{'base':>8} {'engine':>9} {'p50 ms':>8} {'p99 ms':>8} {'build s':>8} {'peak MB':>8}"
        f" {'p99 vs baseline':>16}"
    )
    print(head)
    for size in (int(s) for s in args.sizes.split(",")):
        rows = {}
        for engine in ("baseline", "matcher"):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--queries",
                    str(args.queries),
                    "--one",
                    str(size),
                    engine,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            rows[engine] = json.loads(out.stdout)
        for engine, row in rows.items():
            ratio = row["p99_ms"] / rows["baseline"]["p99_ms"]
            label = "real" if size == 0 else str(int(row["facts"]))
            print(
                f"{label:>8} {engine:>9} {row['p50_ms']:8.3f} {row['p99_ms']:8.3f}"
                f" {row['build_s']:8.2f} {row['peak_mb']:8.1f} {ratio:15.2f}x"
            )
    print(
        "targets: matcher p99 <= 2 ms at 10,000 facts and <= 20 ms at 100,000;"
        " build <= 10 s and peak <= 300 MB at 100,000"
    )


if __name__ == "__main__":
    main()
