"""Anomaly detection: precision and recall on generated daily cost series with injected spikes,
drops and level shifts, against a naive day-over-day rule on the same data in the same run.

    .venv/bin/python bench/anomalies.py [--series 500] [--days 182] [--rounds 5]

Each round generates ``--series`` daily series (levels from $20 to $20,000 a day, a weekly rhythm
with weekend dips of 0–60%, a slow trend, 3–12% multiplicative noise) and injects 0–2 events per
series after the first 9 weeks: a spike (×2–5 for a day), a drop (×0.05–0.4 for a day) or a level
shift (×1.6–2.5 or ×0.3–0.6 from that day on). An event counts only if its impact reaches the
minimum impact both methods use ($25), as the product would never page for less.

- **Costline** (``alerts.detection.detect``): same-weekday median/MAD baseline, z ≥ 4, one alert
  per episode.
- **Naive**: |today − yesterday| ≥ 30% of yesterday (and ≥ $25), each such day an alert.

A detection matches an event of its series on the event's day (a level shift: up to 2 days
later); precision = matched detections ÷ detections, recall = events found ÷ events, over the
days after the 9 weeks of history. Figures are per round and their median.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.detection import DEFAULT_Z, day_over_day, detect  # noqa: E402

HISTORY = 63
MIN_IMPACT = 25.0
SHIFT_GRACE = 2


def generate(rng, series: int, days: int):
    """Values (days × series) and the injected events [(series, day, kind)]."""
    level = np.exp(rng.uniform(np.log(20), np.log(20_000), series))
    weekend = rng.uniform(0, 0.6, series)
    weekday = np.arange(days) % 7
    rhythm = np.where(weekday[:, None] >= 5, 1 - weekend[None, :], 1.0)
    trend = 1 + rng.normal(0, 0.001, series)[None, :] * np.arange(days)[:, None]
    noise = 1 + rng.normal(0, 1, (days, series)) * rng.uniform(0.03, 0.12, series)[None, :]
    clean = level[None, :] * rhythm * trend * np.clip(noise, 0.2, None)
    values = clean.copy()
    events = []
    for column in range(series):
        count = rng.integers(0, 3)
        taken: list[int] = []
        for _ in range(count):
            day = int(rng.integers(HISTORY + 7, days - 3))
            if any(abs(day - other) < 14 for other in taken):
                continue
            kind = rng.choice(["spike", "drop", "shift"])
            before = values[day, column]
            if kind == "spike":
                values[day, column] *= rng.uniform(2, 5)
            elif kind == "drop":
                values[day, column] *= rng.uniform(0.05, 0.4)
            else:
                factor = rng.uniform(1.6, 2.5) if rng.random() < 0.5 else rng.uniform(0.3, 0.6)
                values[day:, column] *= factor
            if abs(values[day, column] - before) >= MIN_IMPACT:
                events.append((column, day, str(kind)))
            taken.append(day)
    return values, events


def score(flags: np.ndarray, events) -> dict:
    """Precision and recall of (days × series) boolean detections against the events."""
    judged = flags.copy()
    judged[:HISTORY] = False
    detections = {(int(c), int(d)) for d, c in zip(*np.nonzero(judged), strict=True)}
    matched: set[tuple[int, int]] = set()
    found = {"spike": 0, "drop": 0, "shift": 0}
    total = {"spike": 0, "drop": 0, "shift": 0}
    for column, day, kind in events:
        total[kind] += 1
        window = range(day, day + 1 + (SHIFT_GRACE if kind == "shift" else 0))
        hit = next(((column, d) for d in window if (column, d) in detections), None)
        if hit is not None:
            found[kind] += 1
            matched.add(hit)
    events_found = sum(found.values())
    return {
        "detections": len(detections),
        "precision": len(matched) / len(detections) if detections else 1.0,
        "recall": events_found / len(events) if events else 1.0,
        **{f"recall_{kind}": found[kind] / total[kind] if total[kind] else 1.0 for kind in total},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=500)
    parser.add_argument("--days", type=int, default=182)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    rows = []
    sensitivity: dict[float, list[dict]] = {z: [] for z in (3.0, 3.5, 4.0, 5.0)}
    for round_number in range(args.rounds):
        rng = np.random.default_rng(1000 + round_number)
        values, events = generate(rng, args.series, args.days)
        started = time.perf_counter()
        costline = detect(values, z_threshold=DEFAULT_Z, min_impact=MIN_IMPACT).onset
        costline_seconds = time.perf_counter() - started
        started = time.perf_counter()
        naive = day_over_day(values, percent=30, min_impact=MIN_IMPACT)
        naive_seconds = time.perf_counter() - started
        ours, theirs = score(costline, events), score(naive, events)
        for z, found in sensitivity.items():
            found.append(score(detect(values, z_threshold=z, min_impact=MIN_IMPACT).onset, events))
        rows.append((ours, theirs, costline_seconds, naive_seconds))
        print(
            f"round {round_number + 1}: {len(events)} events | costline precision "
            f"{ours['precision']:.3f} recall {ours['recall']:.3f} ({ours['detections']} alerts, "
            f"{costline_seconds * 1000:.0f} ms) | naive precision {theirs['precision']:.3f} "
            f"recall {theirs['recall']:.3f} ({theirs['detections']} alerts, "
            f"{naive_seconds * 1000:.0f} ms)"
        )

    def median(index: int, key: str) -> float:
        return statistics.median(row[index][key] for row in rows)

    print(f"\nmedian of {args.rounds} rounds, {args.series} series × {args.days} days")
    print("| method | precision | recall | recall spikes | recall drops | recall shifts | alerts |")
    print("|---|---|---|---|---|---|---|")
    methods = ((0, "Costline (same-weekday median/MAD)"), (1, "naive (±30% day over day)"))
    for index, name in methods:
        print(
            f"| {name} | {median(index, 'precision'):.3f} | {median(index, 'recall'):.3f} | "
            f"{median(index, 'recall_spike'):.3f} | {median(index, 'recall_drop'):.3f} | "
            f"{median(index, 'recall_shift'):.3f} | {median(index, 'detections'):.0f} |"
        )
    print("\nthe z threshold (median of the rounds): z, precision, recall")
    for z, found in sensitivity.items():
        precision = statistics.median(item["precision"] for item in found)
        recall = statistics.median(item["recall"] for item in found)
        print(f"| {z} | {precision:.3f} | {recall:.3f} |")
    seconds = statistics.median(row[2] for row in rows)
    naive_seconds = statistics.median(row[3] for row in rows)
    cells = args.series * args.days
    print(
        f"\ndetection time: median {seconds * 1000:.1f} ms for {cells:,} series-days "
        f"({cells / seconds / 1e6:.1f} M/s); naive {naive_seconds * 1000:.1f} ms "
        f"(ratio {seconds / naive_seconds:.1f}×)"
    )


if __name__ == "__main__":
    main()
