"""Benchmark: backtest the daily cost forecasts on held-out months, against naive forecasts
computed in the same run.

Usage (embedded SQLite and a Parquet store in a temporary directory, both thrown away):

    .venv/bin/python bench/forecasts.py [--rounds 3] [--rows 40000]

Data, imported through the product's own path (``costs.services``) and read back as daily series
with ``reports.costs.report_costs`` (the figures of ``/v2/costs``):

- **demo**: ``manage.py load_demo``'s cost data (``costs.services.demo_data_load``: AWS, Azure
  and GCP, four months ending 30 November 2026); held out: October and November.
- **focus**: generated FOCUS exports (``costs.sample_data``), ``--rows`` rows per provider over
  March to October 2026; held out: August, September and October.
- **weekly** (synthetic, labelled so): the focus series with a weekday/weekend pattern and a
  slow trend laid over them, what cloud bills usually look like (the generator has neither).

Series: the organization's total, each provider's, and each provider's three largest services,
kept when their training days have a cost on at least 90% of days and a mean of at least 1 a
day (a percentage error means nothing on pennies). For every series and held-out month, each
method forecasts the whole month from the days before it:

- ``costline``: ``budgets.forecasting.forecast``, the shipped rule (the same days of the last
  three months, unless ETS with a weekly season, their blend or the naive forecast did at
  least twice as well on the series' own last four weeks);
- ``ets``: the ETS model alone, always;
- ``naive_month``: the baseline, the same days of last month
  (``budgets.forecasting.same_days_last_period``);
- ``naive_4w``: another naive one, the last four weeks repeated.

It prints per data set and method the mean and median daily MAPE over series-months, the mean
error of the month's total (what a budget reads), how often ``costline`` beats each naive
forecast, which method the rule chose, and the median time per forecast over ``--rounds``
rounds. It exits 1 if ``costline`` does not beat both naive forecasts on mean daily MAPE in
every data set.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEMO_TODAY = date(2026, 11, 30)
DEMO_HELD_OUT = [date(2026, 10, 1), date(2026, 11, 1)]
FOCUS_MONTHS = [date(2026, month, 1) for month in range(3, 11)]
FOCUS_HELD_OUT = [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]
TOP_SERVICES = 3
MIN_DAILY_MEAN = 1.0
MIN_COVERAGE = 0.9
METHODS = ["costline", "ets", "naive_4w", "naive_month"]


def setup(directory: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{directory / 'bench.sqlite3'}"
    os.environ["COSTLINE_COLUMNAR_ROOT"] = str(directory / "columnar")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.COSTLINE_COLUMNAR_ROOT = os.environ["COSTLINE_COLUMNAR_ROOT"]
    call_command("migrate", verbosity=0)


def month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def daily_series(organization, start: date, end: date) -> dict[str, dict[date, float]]:
    """``{series name: {day: cost}}``: total, per provider, and per provider's top services."""
    from reports.costs import CostQuery, report_costs

    result = report_costs(
        organization,
        CostQuery(start=start, end=end, groupings=["provider", "service"], date_bin="day"),
    )
    by_service: dict[tuple, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for line in result.lines:
        key = (line.group["provider"], line.group["service"] or "(none)")
        by_service[key][line.accrued_at] += float(line.amount)
    series: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for (provider, _service), days in by_service.items():
        for day, value in days.items():
            series["total"][day] += value
            series[provider][day] += value
    for provider in {provider for provider, _ in by_service}:
        services = sorted(
            (key for key in by_service if key[0] == provider),
            key=lambda key: -sum(by_service[key].values()),
        )
        for key in services[:TOP_SERVICES]:
            series[f"{provider}/{key[1]}"] = by_service[key]
    return series


def as_array(days: dict[date, float], start: date, end: date) -> np.ndarray:
    count = (end - start).days + 1
    return np.array([days.get(start + timedelta(days=n), 0.0) for n in range(count)])


def backtest(name: str, series: dict[str, dict[date, float]], start: date, held_out, rounds):
    from budgets import forecasting

    errors: dict[str, list[float]] = defaultdict(list)
    total_errors: dict[str, list[float]] = defaultdict(list)
    seconds: dict[str, list[float]] = defaultdict(list)
    chosen: dict[str, int] = defaultdict(int)
    used = 0
    for _label, days in sorted(series.items()):
        for month in held_out:
            history_end = month - timedelta(days=1)
            history = as_array(days, start, history_end)
            truth = as_array(days, month, month_end(month))
            covered = np.mean(np.abs(history) > 1e-9)
            if covered < MIN_COVERAGE or np.mean(history) < MIN_DAILY_MEAN:
                continue
            used += 1
            horizon = len(truth)
            methods = {
                "costline": lambda h=history, n=horizon, e=history_end: (
                    forecasting.forecast(h, n, e).mean
                ),
                "ets": lambda h=history, n=horizon: forecasting.ets(h, n).mean,
                "naive_4w": lambda h=history, n=horizon: np.resize(h[-28:], n),
                "naive_month": lambda h=history, n=horizon, e=history_end: (
                    forecasting.same_days_last_period(h, n, e).mean
                ),
            }
            for method, run in methods.items():
                timings = []
                for _ in range(rounds):
                    started = time.perf_counter()
                    predicted = run()
                    timings.append(time.perf_counter() - started)
                seconds[method].append(statistics.median(timings))
                errors[method].append(forecasting.mape(truth, predicted))
                total_errors[method].append(
                    abs(float(np.sum(predicted)) - float(np.sum(truth)))
                    / abs(float(np.sum(truth)))
                    * 100
                )
            chosen[forecasting.forecast(history, horizon, history_end).method] += 1
    print(
        f"\n## {name}: {used} series-months ({len(series)} series, held out: "
        f"{', '.join(month.strftime('%b %Y') for month in held_out)})"
    )
    print(
        f"{'method':<12} {'mean MAPE':>10} {'median MAPE':>12} {'month total err':>16} "
        f"{'ms/forecast':>12}"
    )
    for method in METHODS:
        print(
            f"{method:<12} {statistics.mean(errors[method]):>9.2f}% "
            f"{statistics.median(errors[method]):>11.2f}% "
            f"{statistics.mean(total_errors[method]):>15.2f}% "
            f"{statistics.median(seconds[method]) * 1000:>12.1f}"
        )
    wins = {
        naive: sum(c < n for c, n in zip(errors["costline"], errors[naive], strict=True))
        for naive in ("naive_4w", "naive_month")
    }
    for naive, won in wins.items():
        ratio = statistics.mean(errors["costline"]) / statistics.mean(errors[naive])
        print(f"costline vs {naive}: MAPE ratio {ratio:.3f}, better on {won}/{used} series-months")
    print("methods the rule chose: " + ", ".join(f"{m} {n}" for m, n in sorted(chosen.items())))
    beats = all(
        statistics.mean(errors["costline"]) < statistics.mean(errors[naive])
        for naive in ("naive_4w", "naive_month")
    )
    return beats


def weekly_overlay(series: dict[str, dict[date, float]]) -> dict[str, dict[date, float]]:
    """The series with a weekday/weekend shape (weekends at 45%) and a 0.1%-a-day trend."""
    origin = FOCUS_MONTHS[0]
    shaped = {}
    for label, days in series.items():
        shaped[label] = {
            day: value * (0.45 if day.weekday() >= 5 else 1.0) * (1 + 0.001 * (day - origin).days)
            for day, value in days.items()
        }
    return shaped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=40_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="costline-bench-forecasts-") as directory:
        directory = Path(directory)
        setup(directory)
        from costs import sample_data
        from costs.services import demo_data_load, focus_import, integration_create
        from organizations.services import organization_create

        started = time.perf_counter()
        demo = organization_create("Bench demo")
        demo_data_load(demo, today=DEMO_TODAY)
        focus = organization_create("Bench focus")
        for seed, provider in enumerate(("aws", "azure", "gcp"), start=21):
            path = sample_data.write_focus_csv(
                directory / f"{provider}.csv",
                provider,
                rows=args.rows,
                seed=seed,
                months=FOCUS_MONTHS,
                focus_version="1.2" if provider != "gcp" else "1.3",
            )
            focus_import(integration_create(focus, provider, provider), path)
        print(f"data imported in {time.perf_counter() - started:.0f} s; rounds={args.rounds}")

        demo_start = date(2026, 8, 1)
        demo_series = daily_series(demo, demo_start, DEMO_TODAY - timedelta(days=1))
        focus_series = daily_series(focus, FOCUS_MONTHS[0], month_end(FOCUS_MONTHS[-1]))
        results = {
            "demo": backtest("demo", demo_series, demo_start, DEMO_HELD_OUT, args.rounds),
            "focus": backtest("focus", focus_series, FOCUS_MONTHS[0], FOCUS_HELD_OUT, args.rounds),
            "weekly (synthetic)": backtest(
                "weekly (synthetic overlay on focus)",
                weekly_overlay(focus_series),
                FOCUS_MONTHS[0],
                FOCUS_HELD_OUT,
                args.rounds,
            ),
        }
    print()
    for name, beats in results.items():
        print(f"{name}: costline {'beats' if beats else 'DOES NOT BEAT'} both naive forecasts")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
