"""Benchmark: VQL parse time against input length (it should grow linearly).

    .venv/bin/python bench/vql_parse.py [--runs N]

Prints, for filters of about 100, 1,000, 5,000 and 10,000 characters, the best parse time
(parse + validation + canonical form), the time per character and its ratio to the
100-character figure; then the same for adversarial inputs of 10,000 characters.
"""

import argparse
import contextlib
import os
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


ADVERSARIAL = {
    "10,000 parentheses": "(" * 4_978 + "costs.provider = 'aws'" + ")" * 4_978,
    "one 10,000-char string": "costs.provider = 'aws' AND costs.service = '" + "x" * 9_954 + "'",
    "unterminated string": "costs.provider = 'aws' AND costs.service = '" + "x'' " * 2_488,
    "tokens without grammar": "costs.service = " * 625,
    "10,000-char garbage": "'%_(),=<>!" * 1_000,
}


def best_time(text: str, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        with contextlib.suppress(FilterError):
            parse_vql(text)
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="best of N runs (default 20)")
    runs = parser.parse_args().runs
    print(f"VQL parse time, best of {runs} runs")
    print(f"{'target':>8} {'chars':>7} {'ms':>9} {'us/char':>9} {'ratio':>7}")
    base = None
    for target in (100, 1_000, 5_000, 10_000):
        text = realistic(target)
        seconds = best_time(text, runs)
        per_char = seconds / len(text)
        base = base or per_char
        print(
            f"{target:>8,} {len(text):>7,} {seconds * 1000:>9.3f} {per_char * 1e6:>9.3f} "
            f"{per_char / base:>7.2f}"
        )
    print()
    print("Adversarial inputs (parse error or success, never worse than linear)")
    for name, text in ADVERSARIAL.items():
        seconds = best_time(text, runs)
        print(f"  {name:<26} {len(text):>7,} chars {seconds * 1000:>9.3f} ms")


if __name__ == "__main__":
    main()
