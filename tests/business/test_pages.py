"""The cost-to-serve pages: customers table, customer page, statements; and the admin."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest

from business import services
from business.cost_to_serve import cost_to_serve, month_range, segment_source
from business.models import Statement

from ..segments.conftest import committed, vql_segment
from .test_cost_to_serve import generated_usage

pytestmark = pytest.mark.django_db

AUGUST = "2026-08"


@pytest.fixture
def setup(organization, imported, api_calls):
    generated_usage(organization, customers=8, events=200, seed=7)
    with committed():
        metric = services.business_metric_create(
            organization,
            title="API calls",
            billable_metric=api_calls,
            label_dimension="customer",
            price_per_unit="0.01",
        )
    segment = vql_segment(organization, "AWS", "costs.provider = 'aws'")
    return segment, metric


def query(segment, metric, **extra):
    return {"source": f"segment:{segment.token}", "metric": metric.token, "month": AUGUST, **extra}


def test_customers_table_sorts_by_cost_to_serve(session_client, setup):
    segment, metric = setup
    split = cost_to_serve(segment_source(segment), metric, *month_range(segment_month()))
    page = session_client.get("/cost-to-serve/", query(segment, metric, sort="cost"))
    assert page.status_code == 200
    html = page.content.decode()
    ascending = sorted(split.customers, key=lambda line: line.cost)
    positions = [html.index(f">{line.name}</a>") for line in ascending]
    assert positions == sorted(positions)
    assert "Idle (no metered usage)" in html and "Gross margin" in html
    descending = session_client.get("/cost-to-serve/", query(segment, metric)).content.decode()
    first = re.search(r"customers/(c\d+)/", descending).group(1)
    assert first == max(split.customers, key=lambda line: line.cost).key


def segment_month():
    return datetime.date(2026, 8, 1)


def test_customer_page_shows_usage_cost_unit_cost_and_margin(session_client, setup):
    segment, metric = setup
    split = cost_to_serve(segment_source(segment), metric, *month_range(segment_month()))
    line = split.customers[0]
    page = session_client.get(f"/cost-to-serve/customers/{line.key}/", query(segment, metric))
    assert page.status_code == 200
    html = page.content.decode()
    assert f"${line.cost:,.2f}" in html
    assert "Gross margin" in html and "Trend" in html
    assert session_client.get("/cost-to-serve/customers/nobody/").status_code == 404


def test_preparing_a_statement_queues_it_and_its_files_download(client, user, setup):
    segment, metric = setup
    client.force_login(user)
    session_client = client
    with committed():
        response = session_client.post(
            "/cost-to-serve/statements/?"
            + "&".join(f"{k}={v}" for k, v in query(segment, metric).items()),
            {"kind": "chargeback"},
        )
    assert response.status_code == 302
    statement = Statement.objects.get()
    assert statement.status == Statement.Status.COMPLETED
    page = session_client.get(response["Location"]).content.decode()
    assert "statement.pdf" in page
    pdf = session_client.get(f"/cost-to-serve/statements/{statement.token}/statement.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")


def test_another_organizations_statement_is_a_404(session_client, other_organization, setup):
    segment, metric = setup
    statement = Statement.objects.create(
        organization=other_organization,
        month=segment_month(),
        source_kind="segment",
        source_token="x",
        files=["statement.csv"],
    )
    response = session_client.get(f"/cost-to-serve/statements/{statement.token}/statement.csv")
    assert response.status_code == 404


def test_admin_lists_every_model(admin_client, setup):
    for path in (
        "businessmetric",
        "businessmetricvalue",
        "businessmetricforecastedvalue",
        "costreportattachment",
        "statement",
        "statementschedule",
    ):
        assert admin_client.get(f"/admin/business/{path}/").status_code == 200, path


def test_a_focus_export_from_the_page_downloads(client, user, setup):
    segment, metric = setup
    client.force_login(user)
    params = "&".join(f"{k}={v}" for k, v in query(segment, metric).items())
    with committed():
        response = client.post(f"/cost-to-serve/focus-exports/?{params}")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    link = re.search(r'href="(/cost-to-serve/focus-exports/[^"]+\.parquet)"', page).group(1)
    download = client.get(link)
    assert b"".join(download.streaming_content)[:4] == b"PAR1"


def test_admin_creates_a_metric_through_the_services_rules(admin_client, organization):
    from business.models import BusinessMetric

    response = admin_client.post(
        "/admin/business/businessmetric/add/",
        {
            "organization": organization.pk,
            "title": "Seats",
            "label_dimension": "",
            "price_per_unit": "-1",
            "currency": "USD",
            "cost_report_attachments-TOTAL_FORMS": "0",
            "cost_report_attachments-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200  # the form again, with the service's message
    assert "must not be negative" in response.content.decode()
    assert not BusinessMetric.objects.exists()
    response = admin_client.post(
        "/admin/business/businessmetric/add/",
        {
            "organization": organization.pk,
            "title": "Seats",
            "label_dimension": "",
            "price_per_unit": "12",
            "currency": "eur",
            "cost_report_attachments-TOTAL_FORMS": "0",
            "cost_report_attachments-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    metric = BusinessMetric.objects.get()
    assert metric.token.startswith("bsnss_mtrc_") and metric.currency == "EUR"


def test_a_viewer_reads_the_pages_but_cannot_prepare_statements(client, organization, setup):
    from organizations.models import Role
    from tests.factories import MembershipFactory, UserFactory

    segment, metric = setup
    viewer = UserFactory(username="vic")
    MembershipFactory(user=viewer, organization=organization, role=Role.VIEWER)
    client.force_login(viewer)
    page = client.get("/cost-to-serve/", query(segment, metric))
    assert page.status_code == 200
    assert 'id="statement-form"' not in page.content.decode()
    params = "&".join(f"{k}={v}" for k, v in query(segment, metric).items())
    assert client.post(f"/cost-to-serve/statements/?{params}").status_code == 403
    assert client.post(f"/cost-to-serve/focus-exports/?{params}").status_code == 403
    assert not Statement.objects.exists()


def test_setting_the_price_on_the_page_shows_revenue_and_margin(client, user, setup):
    segment, metric = setup
    client.force_login(user)
    params = "&".join(f"{k}={v}" for k, v in query(segment, metric).items())
    response = client.post(
        f"/cost-to-serve/price/?{params}", {"price_per_unit": "", "currency": "USD"}
    )
    assert response.status_code == 302
    metric.refresh_from_db()
    assert metric.price_per_unit is None
    assert "Gross margin" not in client.get(response["Location"]).content.decode()
    refused = client.post(f"/cost-to-serve/price/?{params}", {"price_per_unit": "-2"}, follow=True)
    assert "must not be negative" in refused.content.decode()
    client.post(f"/cost-to-serve/price/?{params}", {"price_per_unit": "0.5", "currency": "usd"})
    metric.refresh_from_db()
    assert metric.price_per_unit == Decimal("0.5") and metric.currency == "USD"
    assert "Gross margin" in client.get(f"/cost-to-serve/?{params}").content.decode()
