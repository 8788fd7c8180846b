"""Benchmark: is VQL parse time linear in the input's length?

    .venv/bin/python bench/vql_parse.py [--rounds 5] [--runs 20] [--limit 1.5]

Times on a shared machine move with the other load, so the verdict rests on ratios measured
side by side: the clock is the process's CPU time (other processes do not count) with the
garbage collector paused, as ``timeit`` does; within a round the inputs are parsed in turn, one
parse each, ``--runs`` times over, and each keeps its best (parse + validation + canonical form);
the time per character of each length is divided by that of the 1,000-character filter *of the
same round*, and the median over the rounds (at least 3) is the figure. Linear parsing keeps the
ratio near 1 (fixed costs make it fall slightly); quadratic parsing would make the
10,000-character ratio about 10. The exit status is 1 when a median ratio passes ``--limit``,
so the script can gate a CI job.

Adversarial inputs of 10,000 characters are timed in the same rounds and compared, per
character, with a 1,000-character input of the same construction.
"""

import argparse
import contextlib
import gc
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from segments.filter_tree import FilterError, parse_vql  # noqa: E402

PIECES = [
    "costs.service IN ('AmazonEC2', 'AmazonS3', 'it''s')",
    "(costs.region = 'us-east-1' OR costs.category LIKE '%Compute%')",
    "tags.name = 'team' AND tags.value NOT IN ('a{i}', 'b')",
    "NOT (costs.resource_id = 'i-{i}' OR tags.name = NULL)",
]
TARGETS = (100, 1_000, 5_000, 10_000)
BASE = 1_000
TICK = time.get_clock_info("process_time").resolution


def realistic(length: int) -> str:
    """A valid filter of about ``length`` characters using every construct."""
    parts = ["costs.provider = 'aws'"]
    index = 0
    while True:
        candidate = PIECES[index % len(PIECES)].format(i=index)
        if len(" AND ".join([*parts, candidate])) > length:
            break
        parts.append(candidate)
        index += 1
    return " AND ".join(parts)


def adversarial(scale: int) -> dict[str, str]:
    """Hostile inputs of about ``scale`` characters (10,000 is the language's limit)."""
    depth = (scale - 22) // 2
    return {
        "nested parentheses": "(" * depth + "costs.provider = 'aws'" + ")" * depth,
        "one long string": "costs.provider = 'aws' AND costs.service = '"
        + "x" * (scale - 46)
        + "'",
        "unterminated string": "costs.provider = 'aws' AND costs.service = '"
        + "x'' " * ((scale - 44) // 4),
        "tokens without grammar": "costs.service = " * (scale // 16),
        "garbage": "'%_(),=<>!" * (scale // 10),
    }


def parse_time(text: str) -> float:
    start = time.process_time()
    with contextlib.suppress(FilterError):
        parse_vql(text)
    return time.process_time() - start


def best_times(texts: dict, runs: int) -> dict:
    """Best parse time of each input, the inputs interleaved parse by parse."""
    best = dict.fromkeys(texts, float("inf"))
    gc.collect()
    gc.disable()
    try:
        for _ in range(runs):
            for key, text in texts.items():
                best[key] = min(best[key], parse_time(text))
    finally:
        gc.enable()
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (min 3)")
    parser.add_argument("--runs", type=int, default=20, help="best of N parses per input")
    parser.add_argument(
        "--limit", type=float, default=1.5, help="highest acceptable median ratio (default 1.5)"
    )
    args = parser.parse_args()
    rounds = max(args.rounds, 3)
    texts = {target: realistic(target) for target in TARGETS}
    hostile_long, hostile_short = adversarial(10_000), adversarial(1_000)

    seconds: dict[int, list[float]] = {target: [] for target in TARGETS}
    ratios: dict[int, list[float]] = {target: [] for target in TARGETS}
    hostile_ms: dict[str, list[float]] = {name: [] for name in hostile_long}
    hostile_ratios: dict[str, list[float]] = {name: [] for name in hostile_long}
    for _ in range(rounds):
        best = best_times(texts, args.runs)
        for target, text in texts.items():
            seconds[target].append(best[target])
            per_char = best[target] / len(text)
            ratios[target].append(per_char / (best[BASE] / len(texts[BASE])))
        inputs = {
            **{(name, "long"): text for name, text in hostile_long.items()},
            **{(name, "short"): text for name, text in hostile_short.items()},
        }
        best = best_times(inputs, args.runs)
        for name, text in hostile_long.items():
            hostile_ms[name].append(best[(name, "long")] * 1000)
            # A parse quicker than the clock's resolution counts as one tick.
            long_per_char = max(best[(name, "long")], TICK) / len(text)
            short_per_char = max(best[(name, "short")], TICK) / len(hostile_short[name])
            hostile_ratios[name].append(long_per_char / short_per_char)

    print(f"VQL parse time: {rounds} interleaved rounds, best of {args.runs} parses each")
    print(f"ratio = time per character / that of the {BASE:,}-character filter, same round")
    print(
        f"{'target':>8} {'chars':>7} {'median ms':>10} {'us/char':>8} {'median ratio':>13}"
        "  ratios per round"
    )
    for target, text in texts.items():
        median_s = statistics.median(seconds[target])
        print(
            f"{target:>8,} {len(text):>7,} {median_s * 1000:>10.3f} "
            f"{median_s / len(text) * 1e6:>8.3f} {statistics.median(ratios[target]):>13.2f}  "
            + " ".join(f"{ratio:.2f}" for ratio in ratios[target])
        )
    print()
    print("Adversarial inputs (parse error or success); ratio to the same input at 1,000 chars")
    for name, text in hostile_long.items():
        print(
            f"  {name:<24} {len(text):>7,} chars {statistics.median(hostile_ms[name]):>9.3f} ms"
            f"  ratio {statistics.median(hostile_ratios[name]):.2f}"
        )

    # Below 1,000 characters the fixed cost of a parse dominates: not a sign of anything.
    worst = max(statistics.median(ratios[target]) for target in TARGETS if target >= BASE)
    worst_hostile = max(statistics.median(values) for values in hostile_ratios.values())
    linear = worst <= args.limit and worst_hostile <= args.limit
    print()
    print(
        f"{'linear' if linear else 'NOT linear'}: worst median ratio {worst:.2f} "
        f"(realistic, {BASE:,}+ characters), {worst_hostile:.2f} (adversarial); "
        f"limit {args.limit}"
    )
    return 0 if linear else 1


if __name__ == "__main__":
    sys.exit(main())
