"""Forecasts on series with known answers: the statistics alone, then stored by the service and
refreshed by an import."""

from datetime import date, timedelta

import numpy as np
import pytest

from budgets import forecasting, services
from budgets.models import CostForecast
from costs.sample_data import write_focus_csv
from costs.services import focus_import, integration_create
from reports.services import cost_report_create
from segments.filter_tree import parse_vql

from ..segments.conftest import committed

WEEKLY = np.array([100.0, 104, 98, 102, 101, 40, 38])
# The histories below end on this day (a Sunday; calendar methods read the dates).
LAST_DAY = date(2026, 9, 27)


def weekly_series(days: int, noise: float, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.resize(WEEKLY, days) + rng.normal(0, noise, days)


def test_a_clean_weekly_pattern_is_forecast_within_three_percent():
    series = weekly_series(120 + 35, noise=2.0)
    history, truth = series[:120], series[120:]
    result = forecasting.forecast(history, 35, LAST_DAY)
    assert result.method == forecasting.ETS
    assert forecasting.mape(truth, result.mean) < 3.0
    # The 95% interval holds the truth on at least 90% of the days, and is not absurdly wide.
    inside = np.mean((truth >= result.lower) & (truth <= result.upper))
    assert inside >= 0.9
    assert np.max(result.upper - result.lower) < 40


def test_the_weekly_forecast_beats_the_naive_baseline_on_a_trend():
    days = np.arange(180 + 28)
    series = (
        np.resize(WEEKLY, len(days)) + days * 0.5 + np.random.default_rng(5).normal(0, 2, len(days))
    )
    history, truth = series[:180], series[180:]
    model = forecasting.forecast(history, 28, LAST_DAY)
    naive = forecasting.same_days_last_period(history, 28, LAST_DAY)
    assert model.method in (forecasting.ETS, forecasting.BLEND)
    assert forecasting.mape(truth, model.mean) < forecasting.mape(truth, naive.mean)


def test_a_monthly_charge_is_forecast_by_the_same_days_of_the_last_months():
    # 20 a day and a 900 fee on the 1st of every month: no weekly pattern, and the same days
    # of the last months are exactly right (the models lose to them).
    start, end = date(2026, 3, 1), date(2026, 8, 31)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    history = np.array([900.0 if day.day == 1 else 20.0 for day in days])
    result = forecasting.forecast(history, 30, end)
    assert result.method == forecasting.PROFILE
    assert result.mean[0] == 900 and np.allclose(result.mean[1:], 20)


def test_where_the_naive_forecast_is_clearly_better_the_rule_falls_back_to_it():
    # Costs that doubled two months ago and stay there: last month's days are right, the three
    # months' average is not.
    start, end = date(2026, 3, 1), date(2026, 8, 31)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    history = np.array([(200.0 if day >= date(2026, 7, 1) else 100.0) + day.day for day in days])
    result = forecasting.forecast(history, 30, end)
    assert result.method == forecasting.NAIVE
    assert np.allclose(result.mean, [200.0 + n for n in range(1, 31)])


@pytest.mark.parametrize(
    ("days", "method"),
    [
        (0, forecasting.NOTHING),
        (10, forecasting.MEAN),
        (20, forecasting.HOLT),
        (40, forecasting.ETS),
    ],
)
def test_short_histories_get_simpler_models(days, method):
    history = weekly_series(days, noise=1.0)
    result = forecasting.forecast(history, 14, LAST_DAY)
    assert result.method == method
    assert len(result.mean) == 14
    assert np.all(result.lower <= result.mean) and np.all(result.mean <= result.upper)


def test_costs_that_never_went_negative_are_not_forecast_below_zero():
    falling = np.linspace(100, 1, 60)
    result = forecasting.forecast(falling, 60, LAST_DAY)
    assert np.all(result.mean >= 0) and np.all(result.lower >= 0)


def test_the_service_stores_a_daily_forecast_from_the_day_after_the_last_cost(aws_report):
    forecast = services.forecast_refresh(cost_report=aws_report, today=date(2026, 10, 10))
    assert forecast.history_start == date(2026, 7, 1)
    assert forecast.history_end == date(2026, 9, 30)
    days = [date.fromisoformat(point[0]) for point in forecast.points]
    assert days[0] == date(2026, 10, 1)
    # Through the end of October and two more months.
    assert days[-1] == date(2026, 12, 31)
    assert days == [days[0] + timedelta(days=n) for n in range(len(days))]
    # A weekly pattern: the calendar months' days miss it, ETS does not.
    assert forecast.method == forecasting.ETS
    for day_text, amount, low, high in forecast.points[:14]:
        day = date.fromisoformat(day_text)
        truth = (40 if day.weekday() >= 5 else 100) + 10
        assert abs(float(amount) - truth) <= 0.02 * truth
        assert float(low) <= truth <= float(high)
    again = services.forecast_refresh(cost_report=aws_report, today=date(2026, 10, 10))
    assert again.pk == forecast.pk and CostForecast.objects.count() == 1


def test_an_import_refreshes_the_stored_forecasts_of_the_organization(organization, tmp_path):
    workspace = organization.default_workspace
    report = cost_report_create(
        organization,
        workspace=workspace,
        title="AWS",
        filter_tree=parse_vql("costs.provider = 'aws'"),
    )
    assert not CostForecast.objects.filter(cost_report=report).exists()
    path = write_focus_csv(
        tmp_path / "aws.csv", "aws", rows=300, seed=4, months=[date(2026, 8, 1), date(2026, 9, 1)]
    )
    with committed():
        integration = integration_create(organization, "aws", "AWS")
    with committed():
        focus_import(integration, path)
    stored = CostForecast.objects.get(cost_report=report)
    assert stored.history_end is not None and stored.history_end <= date(2026, 9, 30)
    assert date.fromisoformat(stored.points[0][0]) == stored.history_end + timedelta(days=1)
