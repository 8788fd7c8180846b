"""Budget alerts fire once per crossing, say why, and reach a real SMTP server once."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from alerts.models import Delivery
from budgets import services
from budgets.models import BudgetAlertEvent
from organizations.models import Workspace

from .conftest import expected_total

SEPTEMBER = services.PeriodInput(date(2026, 9, 1), None, Decimal(3000))
# 22 weekdays × 110 + 8 weekend days × 50: 2,820 of 3,000, i.e. 94%.
SEPTEMBER_ACTUAL = expected_total(date(2026, 9, 1), date(2026, 9, 30))
LAST_DAY = date(2026, 9, 30)


@pytest.fixture
def budget(organization, aws_report):
    return services.budget_create(
        organization,
        workspace=aws_report.workspace,
        name="AWS platform",
        cost_report=aws_report,
        periods=[SEPTEMBER],
    )


def alert_on(organization, budget, threshold, **fields):
    return services.budget_alert_create(
        organization, budgets=[budget], threshold=threshold, **fields
    )


def test_the_fixture_is_what_the_tests_think():
    assert Decimal(2820) == SEPTEMBER_ACTUAL


def test_a_crossing_fires_once_across_reruns(organization, budget):
    alert = alert_on(organization, budget, 90)
    fired = services.budget_alerts_evaluate(organization, today=LAST_DAY)
    assert len(fired) == 1
    event = fired[0]
    assert (event.alert, event.budget, event.period_start, event.threshold) == (
        alert,
        budget,
        date(2026, 9, 1),
        90,
    )
    assert event.actual == SEPTEMBER_ACTUAL
    assert services.budget_alerts_evaluate(organization, today=LAST_DAY) == []
    assert services.budget_alerts_evaluate(organization, today=date(2026, 10, 3)) == []
    assert BudgetAlertEvent.objects.count() == 1


def test_below_the_threshold_nothing_fires(organization, budget):
    alert_on(organization, budget, 95)
    assert services.budget_alerts_evaluate(organization, today=LAST_DAY) == []
    # Halfway through the month the actual is about half: a 50% alert has not crossed yet.
    alert_on(organization, budget, 50)
    assert services.budget_alerts_evaluate(organization, today=date(2026, 9, 10)) == []


def test_the_message_says_why(organization, budget, aws_report):
    services.forecast_refresh(cost_report=aws_report, today=date(2026, 9, 29))
    alert_on(organization, budget, 90)
    (event,) = services.budget_alerts_evaluate(organization, today=date(2026, 9, 29))
    actual = expected_total(date(2026, 9, 1), date(2026, 9, 29))
    assert "AWS platform" in event.subject and "Sep 2026" in event.subject
    text = event.message
    assert "Period: 2026-09-01 to 2026-09-30" in text
    assert "Budget: 3,000.00 USD" in text
    assert f"Actual: {actual:,.2f} USD" in text
    assert "Threshold: 90% = 2,700.00 USD" in text
    # The forecast: the actual through the 29th plus the 30th (a Wednesday: 110).
    assert event.forecast is not None
    assert abs(event.forecast - (actual + 110)) < Decimal("3")
    assert f"Forecast for the period: {event.forecast.quantize(Decimal('0.01')):,} USD" in text


def test_a_forecast_alert_speaks_first_once(organization, budget, aws_report):
    # On 20 September the actual is 1,880 of 3,000 (63%); the forecast of the month, 2,820 (94%).
    today = date(2026, 9, 20)
    services.forecast_refresh(cost_report=aws_report, today=today)
    alert_on(organization, budget, 90, basis="forecast")
    alert_on(organization, budget, 90)  # on the actual: not yet
    (event,) = services.budget_alerts_evaluate(organization, today=today)
    assert event.basis == "forecast" and event.alert.basis == "forecast"
    assert event.actual == expected_total(date(2026, 9, 1), today)
    assert abs(event.forecast - SEPTEMBER_ACTUAL) < Decimal("5")
    assert "is forecast to reach 94%" in event.subject
    assert "forecast of the budget" in event.message
    assert event.event_key.endswith(":forecast")
    assert services.budget_alerts_evaluate(organization, today=today) == []
    # When the actual gets there too, the actual alert fires, once.
    (later,) = services.budget_alerts_evaluate(organization, today=LAST_DAY)
    assert later.basis == "actual"


def test_two_evaluations_racing_for_one_crossing_record_it_once(organization, budget):
    alert = alert_on(organization, budget, 90)
    from budgets import selectors

    (period,) = selectors.budget_figures(budget, LAST_DAY)
    # Both computed the same figures; the unique constraint lets only the first one write.
    first = services._record_crossing(alert, budget, period)
    second = services._record_crossing(alert, budget, period)
    assert first is not None and second is None
    assert BudgetAlertEvent.objects.count() == 1


def test_a_new_threshold_is_a_new_crossing(organization, budget):
    alert = alert_on(organization, budget, 90)
    assert len(services.budget_alerts_evaluate(organization, today=LAST_DAY)) == 1
    services.budget_alert_update(alert, threshold=80)
    assert len(services.budget_alerts_evaluate(organization, today=LAST_DAY)) == 1
    assert services.budget_alerts_evaluate(organization, today=LAST_DAY) == []


@pytest.mark.parametrize(
    ("period_to_track", "fires_on_the_30th"),
    [("start_of_the_month", False), ("end_of_the_month", True)],
)
def test_duration_in_days_limits_when_an_alert_may_fire(
    organization, budget, period_to_track, fires_on_the_30th
):
    alert_on(organization, budget, 90, duration_in_days=5, period_to_track=period_to_track)
    fired = services.budget_alerts_evaluate(organization, today=LAST_DAY)
    assert bool(fired) is fires_on_the_30th


def test_a_crossing_is_delivered_once_to_a_real_smtp_server(
    organization, budget, user, smtp_server, django_capture_on_commit_callbacks
):
    alert_on(organization, budget, 90, recipients=[user])
    with django_capture_on_commit_callbacks(execute=True):
        (event,) = services.budget_alerts_evaluate(organization, today=LAST_DAY)
    event.refresh_from_db()
    assert event.delivered_at is not None
    deliveries = Delivery.objects.filter(event_key=event.event_key)
    assert [d.email for d in deliveries] == [user.email]
    assert deliveries[0].status == "sent"
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == user.email
    assert "AWS platform" in message["Subject"]
    body = message.get_payload(decode=True).decode()
    assert "Actual: 2,820.00 USD" in body and "Threshold: 90%" in body
    # Evaluating again, and delivering the same event again, send nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.budget_alerts_evaluate(organization, today=LAST_DAY) == []
        services.budget_alert_event_deliver(event.pk)
    assert len(smtp_server.messages) == 1
    assert Delivery.objects.filter(event_key=event.event_key).count() == 1


def test_a_hierarchical_budget_fires_on_its_childrens_sum(organization, aws_report):
    workspace = Workspace.objects.get(organization=organization, is_default=True)
    children = [
        services.budget_create(
            organization,
            workspace=workspace,
            name=f"Half {n}",
            cost_report=aws_report,
            periods=[services.PeriodInput(date(2026, 9, 1), None, Decimal(1500))],
        )
        for n in (1, 2)
    ]
    parent = services.budget_create(
        organization, workspace=workspace, name="Both", children=children
    )
    alert_on(organization, parent, 100)
    # Each child counts the whole report (2,820), so the parent's actual is twice that.
    (event,) = services.budget_alerts_evaluate(organization, today=LAST_DAY)
    assert event.budget == parent
    assert event.amount == Decimal(3000)
    assert event.actual == 2 * SEPTEMBER_ACTUAL


@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_record_and_send_one_crossing(organization, aws_report):
    """Four workers evaluating at the same moment (threads with their own connections, on
    PostgreSQL, as CI runs it): the unique constraint lets one of them fire."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (in-memory SQLite serializes them)")
    budget = services.budget_create(
        organization,
        workspace=aws_report.workspace,
        name="AWS platform",
        cost_report=aws_report,
        periods=[SEPTEMBER],
    )
    alert_on(organization, budget, 90)
    barrier = threading.Barrier(4)
    fired, failures = [], []

    def evaluate():
        try:
            barrier.wait(timeout=30)
            fired.append(len(services.budget_alerts_evaluate(organization, today=LAST_DAY)))
        except Exception as error:  # reported below, with the thread's own traceback lost
            failures.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=evaluate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert sorted(fired) == [0, 0, 0, 1]
    assert BudgetAlertEvent.objects.count() == 1
