"""What the store benchmarks share: the cached sample FOCUS file and a percentile."""

import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MONTHS = [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]


def focus_file(rows: int, given: str | None) -> Path:
    """``given``, else N generated AWS FOCUS rows over ``MONTHS`` with ``costs.sample_data``,
    cached as ``var/bench/aws-<rows>.parquet`` (Django must be set up)."""
    if given:
        return Path(given)
    from costs.sample_data import write_focus_parquet

    path = ROOT / "var" / "bench" / f"aws-{rows}.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        partial = path.with_suffix(".part")
        write_focus_parquet(partial, "aws", rows=rows, seed=7, months=MONTHS)
        partial.rename(path)
        print(f"generated {rows:,} FOCUS rows in {time.perf_counter() - started:.0f} s")
    return path


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
