"""The budget pages: list, create (periods typed or a monthly amount), a budget's page with its
chart and prediction band, edit, alert settings, and the tenancy of every page."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from budgets import services
from budgets.models import Budget, BudgetAlert
from organizations.models import Role

from ..factories import MembershipFactory, OrganizationFactory, UserFactory


@pytest.fixture
def browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def budget(organization, aws_report):
    return services.budget_create(
        organization,
        workspace=aws_report.workspace,
        name="AWS platform",
        cost_report=aws_report,
        periods=[services.PeriodInput(date(2026, 9, 1), None, Decimal(3000))],
    )


def test_create_a_budget_from_a_monthly_amount(browser, aws_report):
    page = browser.get("/budgets/new/")
    assert page.status_code == 200 and b"All AWS" in page.content
    response = browser.post(
        "/budgets/new/",
        {
            "name": "Quarter",
            "tracks": f"report:{aws_report.token}",
            "monthly_amount": "2500",
            "first_month": "2026-08-15",
            "months": "3",
        },
    )
    budget = Budget.objects.get(name="Quarter")
    assert response.status_code == 302 and response["Location"] == f"/budgets/{budget.token}/"
    assert [(p.start_date, p.end_date, p.amount) for p in budget.periods.all()] == [
        (date(2026, 8, 1), date(2026, 8, 31), Decimal(2500)),
        (date(2026, 9, 1), date(2026, 9, 30), Decimal(2500)),
        (date(2026, 10, 1), date(2026, 10, 31), Decimal(2500)),
    ]
    assert budget.cost_report == aws_report


def test_typed_periods_that_overlap_are_refused_on_the_field(browser, aws_report):
    response = browser.post(
        "/budgets/new/",
        {
            "name": "Bad",
            "tracks": f"report:{aws_report.token}",
            "periods": "2026-08-01 2026-08-31 100\n2026-08-20 50",
        },
    )
    assert response.status_code == 200
    assert "periods overlap" in response.content.decode()
    assert not Budget.objects.exists()


def test_the_list_shows_the_current_period_with_its_currency(browser, budget):
    page = browser.get("/budgets/").content.decode()
    assert "AWS platform" in page
    assert "$3,000.00" in page


def test_a_budget_page_has_figures_chart_and_band(browser, budget, aws_report):
    page = browser.get(f"/budgets/{budget.token}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "$3,000.00" in text and "$2,820.00" in text  # budget and September's actual
    chart = page.context["chart"]
    labels = [dataset["label"] for dataset in chart["datasets"]]
    assert labels == [
        "Actual (cumulative)",
        "Forecast",
        "Prediction interval (upper)",
        "Prediction interval (lower)",
        "Budget",
    ]
    assert chart["currency"] == "USD"
    actual = chart["datasets"][0]["data"]
    assert actual[-1] == pytest.approx(2820.0)
    assert chart["datasets"][2]["fill"] == "+1"
    assert 'id="budget-chart-data"' in text and '"2026-09-30"' in text


def test_edit_budget_and_alert_settings(browser, budget, user, aws_report):
    edit = browser.get(f"/budgets/{budget.token}/edit/")
    assert "2026-09-01 2026-09-30 3000" in edit.content.decode()
    saved = browser.post(
        f"/budgets/{budget.token}/edit/",
        {
            "name": "AWS total",
            "tracks": f"report:{aws_report.token}",
            "periods": "2026-09-01 2026-09-30 3100",
        },
    )
    assert saved.status_code == 302
    budget.refresh_from_db()
    assert budget.name == "AWS total"
    assert budget.periods.get().amount == Decimal(3100)
    added = browser.post(
        f"/budgets/{budget.token}/alerts/",
        {
            "threshold": "80",
            "basis": "forecast",
            "recipients": [str(user.pk)],
            "period_to_track": "start_of_the_month",
        },
    )
    assert added.status_code == 302
    alert = BudgetAlert.objects.get()
    assert alert.threshold == 80 and list(alert.recipients.all()) == [user]
    assert alert.basis == "forecast"
    page = browser.get(f"/budgets/{budget.token}/").content.decode()
    assert "At <strong>80%</strong> of the forecast" in page and user.email in page
    refused = browser.post(f"/budgets/{budget.token}/alerts/", {"threshold": "0"}, follow=True)
    assert "The alert was not saved" in refused.content.decode()
    browser.post(f"/budgets/{budget.token}/alerts/{alert.token}/delete/")
    assert not BudgetAlert.objects.exists()


def test_viewers_read_and_other_organizations_get_404(budget, organization):
    viewer = UserFactory(username="victor")
    MembershipFactory(user=viewer, organization=organization, role=Role.VIEWER)
    client = Client()
    client.force_login(viewer)
    assert client.get(f"/budgets/{budget.token}/").status_code == 200
    assert client.get("/budgets/new/").status_code == 403
    assert client.post(f"/budgets/{budget.token}/delete/").status_code == 403
    stranger = UserFactory(username="sam")
    MembershipFactory(
        user=stranger, organization=OrganizationFactory(name="Other"), role=Role.ADMIN
    )
    other = Client()
    other.force_login(stranger)
    assert other.get(f"/budgets/{budget.token}/").status_code == 404
    assert other.post(f"/budgets/{budget.token}/delete/").status_code == 404
    assert Budget.objects.filter(pk=budget.pk).exists()
