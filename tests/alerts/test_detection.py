"""Detection on data with known answers: the detector alone, then over stored cost rows."""

import datetime
from decimal import Decimal

import numpy as np
import pytest

from alerts import anomalies
from alerts.detection import day_over_day, detect
from alerts.models import Anomaly, AnomalyStatus, SeriesKind, SeriesTuning

from .data import (
    PENNY_DAY,
    SPIKE_DAY,
    all_costs_report,
    ec2_cost,
    s3_cost,
    same_weekday_median,
    write_costs,
)


def weekly_series(days=140, seed=3):
    rng = np.random.default_rng(seed)
    rhythm = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.6, 0.5])
    return 1000 * rhythm[np.arange(days) % 7] * (1 + rng.normal(0, 0.03, days))


def test_spike_drop_and_level_shift_are_found_once_each():
    values = weekly_series()
    values[70] *= 3  # spike
    values[90] *= 0.2  # drop
    values[110:] *= 2  # level shift: one anomaly, not one a day

    found = detect(values, min_impact=50)

    assert list(np.nonzero(found.onset[:, 0])[0]) == [70, 90, 110]
    assert found.flagged[111:118, 0].all()
    assert found.score[70, 0] > 10 and found.score[90, 0] < -10


def test_weekends_are_not_anomalies_but_day_over_day_thinks_so():
    values = weekly_series()
    assert not detect(values, min_impact=50).onset.any()
    assert day_over_day(values, min_impact=50).sum() >= 30


def test_minimum_impact_keeps_pennies_quiet():
    values = np.full(70, 2.0)
    values[65] = 20.0  # ten times the usual, but 18 of impact
    assert not detect(values, min_impact=25).onset.any()
    assert detect(values, min_impact=10).onset[65, 0]


def test_series_without_enough_history_are_not_judged():
    values = np.full(20, 100.0)
    values[19] = 1000
    assert not detect(values, min_impact=1).flagged.any()


def test_stored_costs_give_the_spike_with_figures_computed_independently(organization):
    write_costs(organization)
    report = all_costs_report(organization)

    found = anomalies.anomalies_detect(organization, judge_from=datetime.date(2026, 8, 26))

    by_key = {a.series_key: a for a in found}
    assert set(by_key) == {
        f"report:{report.token}",
        f"report:{report.token}|service:aws/AmazonEC2",
        f"report:{report.token}|account:200000000001",
    }
    assert {a.day for a in found} == {SPIKE_DAY}
    service = by_key[f"report:{report.token}|service:aws/AmazonEC2"]
    assert service.amount == Decimal("400")
    assert service.expected_amount == same_weekday_median(ec2_cost, SPIKE_DAY)
    assert service.previous_amount == ec2_cost(SPIKE_DAY - datetime.timedelta(days=1))
    assert service.direction == "spike" and service.series_kind == SeriesKind.SERVICE
    assert (service.provider, service.service, service.category) == ("aws", "AmazonEC2", "Compute")
    total = by_key[f"report:{report.token}"]

    def both(day):
        return ec2_cost(day) + s3_cost(day)

    assert total.amount == both(SPIKE_DAY)
    assert total.expected_amount == same_weekday_median(both, SPIKE_DAY)
    assert not Anomaly.objects.filter(day=PENNY_DAY).exists()


def test_running_twice_records_each_anomaly_once(organization):
    write_costs(organization)
    all_costs_report(organization)
    first = anomalies.anomalies_detect(organization, judge_from=datetime.date(2026, 9, 1))
    second = anomalies.anomalies_detect(organization, judge_from=datetime.date(2026, 9, 1))
    assert len(first) == 3 and second == []
    assert Anomaly.objects.count() == 3


def test_without_cost_data_nothing_is_judged(organization):
    all_costs_report(organization)
    assert anomalies.anomalies_detect(organization) == []


def test_marking_expected_raises_the_series_threshold_past_that_anomaly(organization, settings):
    write_costs(organization)
    report = all_costs_report(organization)
    anomalies.anomalies_detect(organization, judge_from=datetime.date(2026, 9, 1))
    service = Anomaly.objects.get(series_key=f"report:{report.token}|service:aws/AmazonEC2")

    updated = anomalies.anomaly_update(service, expected=True, feedback="Load test")

    assert updated.status == AnomalyStatus.ARCHIVED and updated.marked_expected
    tuning = SeriesTuning.objects.get(series_key=service.series_key)
    assert tuning.z_threshold == pytest.approx(settings.ALERTS_ANOMALY_Z * 1.25)
    impact = Decimal(400) - service.expected_amount
    assert tuning.min_impact == (impact * Decimal("1.1")).quantize(Decimal("0.01"))
    assert tuning.expected_marks == 1
    # The same deviation judged again is no longer an anomaly for that series only.
    Anomaly.objects.all().delete()
    again = anomalies.anomalies_detect(organization, judge_from=datetime.date(2026, 9, 1))
    assert service.series_key not in {a.series_key for a in again}
    assert f"report:{report.token}" in {a.series_key for a in again}


def test_a_status_that_does_not_exist_is_refused(organization):
    write_costs(organization)
    all_costs_report(organization)
    [anomaly, *_] = anomalies.anomalies_detect(organization, judge_from=datetime.date(2026, 9, 1))
    with pytest.raises(anomalies.ServiceError) as error:
        anomalies.anomaly_update(anomaly, status="snoozed")
    assert error.value.field == "status"


def test_an_import_schedules_detection_through_the_costs_signal(
    organization, django_capture_on_commit_callbacks
):
    from costs.signals import focus_import_completed

    integration = write_costs(organization)
    report = all_costs_report(organization)
    with django_capture_on_commit_callbacks(execute=True):
        # What costs.services.focus_import sends once an import of September has committed.
        focus_import_completed.send(
            sender=None,
            organization_id=organization.pk,
            provider="aws",
            integration_id=integration.pk,
            months=[datetime.date(2026, 9, 1)],
        )

    assert set(Anomaly.objects.values_list("series_key", "day")) >= {
        (f"report:{report.token}", SPIKE_DAY)
    }


def test_an_unreadable_report_skips_itself_only(organization):
    from reports.models import CostReport

    write_costs(organization)
    good = all_costs_report(organization)
    broken = all_costs_report(organization, title="Broken")
    # A stored filter that no longer means anything (written around the services on purpose).
    CostReport.objects.filter(pk=broken.pk).update(filter_tree={"bogus": 1})

    found = anomalies.anomalies_detect(organization, judge_from=datetime.date(2026, 9, 1))

    assert {a.cost_report_id for a in found} == {good.pk}
