"""Daily cost forecasts: the statistics, on plain arrays of daily costs ending on a known day.

Candidates, each a plain function of the history:

- ``same_days_last_months`` (the default): each day's value on the same day of the month in the
  last three months, averaged: monthly rhythms (fees on the 1st, month-end jobs), less noisy
  than one month;
- ``ets``: statsmodels' ETS (``ETSModel``: additive error, damped additive trend, additive
  weekly season), with its analytic prediction interval: weekly rhythms and trends;
- ``blend``: the mean of the two;
- ``same_days_last_period``: the naive baseline, the same day of last month.

``forecast`` backtests every candidate on the series' own last four weeks (each fitted on the
days before them) and keeps the default unless another one's error (MAPE) there is at most
half of the default's: a series with a clean weekly pattern gets ETS, one on which the naive
baseline is clearly better gets the naive forecast. Histories too short to backtest get what
they can support. ``bench/forecasts.py`` measures the whole rule on held-out months against
the naive baseline (docs/benchmarks.md, docs/budgets.md).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from scipy import stats

WEEK = 7
MONTHS_AVERAGED = 3
# Shorter histories than these get simpler models (ETS needs two seasons to start its states).
MIN_SEASONAL = 4 * WEEK
MIN_TREND = 2 * WEEK
# The self-backtest holds out this many days and needs a month before them for the calendar
# candidates.
BACKTEST_DAYS = 28
MIN_BACKTEST = BACKTEST_DAYS + 31
LEVEL = 0.95
# Another candidate replaces the default only when its backtest error is at most half of it
# (bench/forecasts.py: smaller margins chase the noise of one four-week backtest).
SWITCH_MARGIN = 0.5

ETS = "ets_weekly"
PROFILE = "same_days_last_months"
BLEND = "ets_and_same_days"
NAIVE = "same_days_last_period"
HOLT = "holt_damped"
MEAN = "mean"
NOTHING = "no_history"


@dataclass
class Forecast:
    method: str
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def mape(actual: np.ndarray, predicted: np.ndarray) -> float | None:
    """Mean absolute percentage error over the days with a cost (a zero day has no percentage)."""
    actual, predicted = np.asarray(actual, float), np.asarray(predicted, float)
    kept = np.abs(actual) > 1e-9
    if not kept.any():
        return None
    return float(np.mean(np.abs(actual[kept] - predicted[kept]) / np.abs(actual[kept])) * 100)


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def months_back(day: date, months: int) -> date:
    """The same day ``months`` months earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = index // 12, index % 12 + 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (following - timedelta(days=1)).day))


def same_days_of_months(history: np.ndarray, last_day: date, horizon: int, months: int):
    """For each of the ``horizon`` days after ``last_day``: the mean of its value on the same day
    of the month in the ``months`` latest months the history holds (a day beyond them reads
    the months before it)."""
    first_day = last_day - timedelta(days=len(history) - 1)
    values = np.empty(horizon)
    for offset in range(horizon):
        day = last_day + timedelta(days=offset + 1)
        found, back = [], 1
        while len(found) < months:
            source = months_back(day, back)
            if source < first_day:
                break
            if source <= last_day:
                found.append(history[(source - first_day).days])
            back += 1
        values[offset] = np.mean(found) if found else history[-1]
    return values


def _empirical_interval(method: str, mean: np.ndarray, spread: float, level: float) -> Forecast:
    """An interval from the spread of the method's own backtest errors, widening with the
    number of four-week periods ahead."""
    periods_ahead = np.arange(len(mean)) // BACKTEST_DAYS + 1
    half = _z(level) * spread * np.sqrt(periods_ahead)
    return Forecast(method, mean, mean - half, mean + half)


def _mean_forecast(history: np.ndarray, horizon: int, level: float) -> Forecast:
    mean = np.full(horizon, float(np.mean(history)))
    spread = float(np.std(history)) if len(history) > 1 else abs(float(history[0]))
    half = _z(level) * spread * np.sqrt(1 + 1 / len(history))
    return Forecast(MEAN, mean, mean - half, mean + half)


def ets(history: np.ndarray, horizon: int, level: float = LEVEL, seasonal: bool = True):
    """ETS(A, Ad, A) with a weekly season (or ETS(A, Ad, N) when ``seasonal`` is false)."""
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    history = np.asarray(history, float)
    model = ETSModel(
        # A dated index: the prediction API labels its rows with it.
        pd.Series(history, index=pd.date_range("2000-01-01", periods=len(history), freq="D")),
        error="add",
        trend="add",
        damped_trend=True,
        seasonal="add" if seasonal else None,
        seasonal_periods=WEEK if seasonal else None,
    )
    with warnings.catch_warnings():
        # Convergence chatter on short or flat series; the backtest judges the result.
        warnings.simplefilter("ignore")
        fitted = model.fit(disp=False, maxiter=200)
        frame = fitted.get_prediction(
            start=len(history), end=len(history) + horizon - 1
        ).summary_frame(alpha=1 - level)
    mean = frame["mean"].to_numpy()
    if not np.all(np.isfinite(mean)):
        raise ValueError("the model diverged")
    return Forecast(
        ETS if seasonal else HOLT, mean, frame["pi_lower"].to_numpy(), frame["pi_upper"].to_numpy()
    )


def _ets_mean(history, last_day, horizon):
    try:
        return ets(history, horizon).mean
    except (ValueError, np.linalg.LinAlgError):
        return None


CANDIDATES = {
    ETS: _ets_mean,
    PROFILE: lambda history, last_day, horizon: same_days_of_months(
        history, last_day, horizon, MONTHS_AVERAGED
    ),
    NAIVE: lambda history, last_day, horizon: same_days_of_months(history, last_day, horizon, 1),
}


def _means(history, last_day, horizon) -> dict[str, np.ndarray]:
    means = {name: make(history, last_day, horizon) for name, make in CANDIDATES.items()}
    means = {name: mean for name, mean in means.items() if mean is not None}
    if ETS in means:
        means[BLEND] = (means[ETS] + means[PROFILE]) / 2
    return means


def backtest_errors(history: np.ndarray, last_day: date) -> dict[str, tuple[float, float]]:
    """Each candidate fitted on all but the last ``BACKTEST_DAYS`` days and scored on them:
    ``{method: (MAPE, spread of its errors)}`` (no MAPE: the days held out cost nothing)."""
    train, held_out = history[:-BACKTEST_DAYS], history[-BACKTEST_DAYS:]
    train_end = last_day - timedelta(days=BACKTEST_DAYS)
    scores = {}
    for method, mean in _means(train, train_end, BACKTEST_DAYS).items():
        mean = _clipped(mean, train)
        error = mape(held_out, mean)
        scores[method] = (float("inf") if error is None else error, float(np.std(held_out - mean)))
    return scores


def _clipped(values: np.ndarray, history: np.ndarray) -> np.ndarray:
    return np.maximum(values, 0) if len(history) and np.min(history) >= 0 else values


def _non_negative(forecast: Forecast, history: np.ndarray) -> Forecast:
    """Costs that were never negative are not forecast below zero."""
    forecast.mean = _clipped(forecast.mean, history)
    forecast.lower = _clipped(forecast.lower, history)
    forecast.upper = _clipped(forecast.upper, history)
    return forecast


def choose(scores: dict[str, tuple[float, float]]) -> str:
    """The same days of the last months, unless another candidate's backtest error is clearly
    lower (by ``SWITCH_MARGIN``): one four-week backtest of a noisy series is itself noisy, and
    switching on small differences chases that noise (bench/forecasts.py measured both)."""
    best = PROFILE
    for method in (NAIVE, ETS, BLEND):
        if method in scores and scores[method][0] < scores[best][0] * (1 - SWITCH_MARGIN):
            best = method
    return best


def forecast(history, horizon: int, last_day: date, level: float = LEVEL) -> Forecast:
    """The ``horizon`` days after ``last_day`` of a daily cost series ending on ``last_day``.

    Long enough histories: the candidate with the lowest error on the series' own last four
    weeks (the naive baseline among them). Shorter ones: the same days of last month once a
    month is there, else a damped trend, else a flat mean."""
    history = np.asarray(history, float)
    if horizon <= 0:
        empty = np.zeros(0)
        return Forecast(NOTHING, empty, empty, empty)
    if len(history) == 0:
        zeros = np.zeros(horizon)
        return Forecast(NOTHING, zeros, zeros, zeros)
    if len(history) < MIN_TREND:
        return _non_negative(_mean_forecast(history, horizon, level), history)
    if len(history) < MIN_SEASONAL:
        try:
            return _non_negative(ets(history, horizon, level, seasonal=False), history)
        except (ValueError, np.linalg.LinAlgError):
            return _non_negative(_mean_forecast(history, horizon, level), history)
    if len(history) < MIN_BACKTEST:
        try:
            return _non_negative(ets(history, horizon, level), history)
        except (ValueError, np.linalg.LinAlgError):
            return _non_negative(_mean_forecast(history, horizon, level), history)
    scores = backtest_errors(history, last_day)
    best = choose(scores)
    if best == ETS:
        try:
            return _non_negative(ets(history, horizon, level), history)
        except (ValueError, np.linalg.LinAlgError):
            best = NAIVE
    mean = _means(history, last_day, horizon)[best]
    return _non_negative(_empirical_interval(best, mean, scores[best][1], level), history)


def same_days_last_period(history, horizon: int, last_day: date, level: float = LEVEL):
    """The naive baseline alone, with an interval from the spread of its errors over the
    history (the benchmark compares every method with it)."""
    history = np.asarray(history, float)
    first_day = last_day - timedelta(days=len(history) - 1)
    differences = []
    for index, value in enumerate(history):
        source = months_back(first_day + timedelta(days=index), 1)
        if source >= first_day:
            differences.append(value - history[(source - first_day).days])
    spread = float(np.std(differences)) if len(differences) > 1 else float(np.std(history))
    mean = same_days_of_months(history, last_day, horizon, 1)
    return _empirical_interval(NAIVE, mean, spread, level)
