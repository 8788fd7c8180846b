"""Daily cost forecasts: the statistics, on plain arrays (no database, no dates).

The model is statsmodels' ETS (``ETSModel``: additive error, damped additive trend, additive
weekly seasonality), whose analytic prediction intervals come with it. Every series is also
forecast by the naive baseline, the same weekdays of the last four weeks repeated
(``same_days_last_period``); ``forecast`` backtests both on the series' own last four weeks and
keeps the ETS forecast only where it beats the baseline there (docs/budgets.md, and the
benchmark ``bench/forecasts.py`` measures the whole rule on held-out months).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

WEEK = 7
# The naive baseline repeats this many days: four whole weeks keep the weekdays aligned.
NAIVE_SEASON = 28
# Shorter histories than these get simpler models (ETS needs two seasons to start its states).
MIN_SEASONAL = 4 * WEEK
MIN_TREND = 2 * WEEK
# The self-backtest needs a season to fit on besides the days it holds out.
BACKTEST_DAYS = NAIVE_SEASON
MIN_BACKTEST = MIN_SEASONAL + BACKTEST_DAYS
LEVEL = 0.95

ETS = "ets_weekly"
HOLT = "holt_damped"
NAIVE = "same_days_last_period"
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


def same_days_last_period(history: np.ndarray, horizon: int, level: float = LEVEL) -> Forecast:
    """The last ``NAIVE_SEASON`` days repeated (the same weekdays of the last period), with an
    interval from the spread of the same forecast's errors over the history, widening with
    the number of periods ahead."""
    history = np.asarray(history, float)
    season = min(NAIVE_SEASON, len(history))
    if season == 0:
        zeros = np.zeros(horizon)
        return Forecast(NOTHING, zeros, zeros, zeros)
    last = history[-season:]
    mean = np.resize(last, horizon)
    errors = history[season:] - history[:-season] if len(history) > season else last - last.mean()
    spread = float(np.std(errors)) if len(errors) > 1 else float(np.std(last))
    periods_ahead = np.arange(horizon) // season + 1
    half = _z(level) * spread * np.sqrt(periods_ahead)
    return Forecast(NAIVE, mean, mean - half, mean + half)


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
    lower = frame["pi_lower"].to_numpy()
    upper = frame["pi_upper"].to_numpy()
    if not np.all(np.isfinite(mean)):
        raise ValueError("the model diverged")
    return Forecast(ETS if seasonal else HOLT, mean, lower, upper)


def _non_negative(forecast: Forecast, history: np.ndarray) -> Forecast:
    """Costs that were never negative are not forecast below zero."""
    if len(history) and np.min(history) >= 0:
        forecast.mean = np.maximum(forecast.mean, 0)
        forecast.lower = np.maximum(forecast.lower, 0)
        forecast.upper = np.maximum(forecast.upper, 0)
    return forecast


def forecast(history, horizon: int, level: float = LEVEL) -> Forecast:
    """The next ``horizon`` days of a daily cost series.

    Long enough histories are backtested on their own last four weeks: the ETS forecast is kept
    only if its error there is below the naive baseline's (else the baseline answers). Short
    histories get what they can support: a damped trend, then a flat mean."""
    history = np.asarray(history, float)
    if horizon <= 0:
        empty = np.zeros(0)
        return Forecast(NOTHING, empty, empty, empty)
    if len(history) == 0:
        return same_days_last_period(history, horizon, level)
    if len(history) < MIN_TREND:
        return _non_negative(_mean_forecast(history, horizon, level), history)
    if len(history) < MIN_SEASONAL:
        try:
            return _non_negative(ets(history, horizon, level, seasonal=False), history)
        except (ValueError, np.linalg.LinAlgError):
            return _non_negative(_mean_forecast(history, horizon, level), history)
    if len(history) >= MIN_BACKTEST and not ets_beats_naive(history):
        return _non_negative(same_days_last_period(history, horizon, level), history)
    try:
        return _non_negative(ets(history, horizon, level), history)
    except (ValueError, np.linalg.LinAlgError):
        return _non_negative(same_days_last_period(history, horizon, level), history)


def ets_beats_naive(history: np.ndarray) -> bool:
    """Whether ETS forecast the series' last ``BACKTEST_DAYS`` better than the baseline did."""
    train, held_out = history[:-BACKTEST_DAYS], history[-BACKTEST_DAYS:]
    try:
        model_error = mape(held_out, ets(train, BACKTEST_DAYS).mean)
    except (ValueError, np.linalg.LinAlgError):
        return False
    naive_error = mape(held_out, same_days_last_period(train, BACKTEST_DAYS).mean)
    if model_error is None or naive_error is None:
        return naive_error is None and model_error is not None
    return model_error < naive_error
