"""Build a segment with the row builder, see live VQL errors, and view its charts."""

import datetime
from decimal import Decimal

import pytest

from costs.models import DimensionValue
from segments.models import Segment
from tests.factories import CostRowFactory, IntegrationFactory


@pytest.fixture
def aws_costs(organization):
    integration = IntegrationFactory(organization=organization, provider="aws")
    for day, service, cost in [(3, "AmazonEC2", 10), (4, "AmazonS3", 4), (5, "AmazonEC2", 6)]:
        CostRowFactory(
            integration=integration,
            service_name=service,
            charge_period_start=datetime.date.today() - datetime.timedelta(days=day),
            billed_cost=Decimal(cost),
            effective_cost=Decimal(cost),
        )
    for service in ("AmazonEC2", "AmazonS3"):
        DimensionValue.objects.create(
            organization=organization,
            provider="aws",
            integration=integration,
            billing_period_start=datetime.date.today().replace(day=1),
            field="service",
            value=service,
        )
    return integration


def test_row_builder_live_validation_and_charts(signed_in_page, live_server, aws_costs):
    page = signed_in_page
    page.goto(f"{live_server.url}/segments/new/")
    page.fill("input[name=name]", "Compute")
    page.select_option("select[name=provider]", "aws")
    page.click("[data-add-row]")
    row = page.locator("[data-row]").first
    row.locator(".row-field").select_option("service")
    row.locator(".row-op").select_option("=")
    row.locator(".row-value").fill("AmazonEC2")
    page.wait_for_function(
        "document.querySelector('#id_filter').value.includes(\"costs.service = 'AmazonEC2'\")"
    )
    page.wait_for_selector("#filter-status.ok")
    assert "2 cost rows" in page.inner_text("#filter-status")

    vql = page.locator("#id_filter")
    valid = vql.input_value()
    vql.fill("costs.provider = 'aws' AND costs.service =")
    page.wait_for_selector("#filter-status.error")
    assert "column" in page.inner_text("#filter-status").lower()
    vql.fill(valid)
    page.wait_for_selector("#filter-status.ok")

    page.click("#segment-form button[type=submit]")
    page.wait_for_url("**/segments/*/")
    segment = Segment.objects.get(name="Compute")
    assert segment.provider == "aws"
    page.wait_for_selector("#segment-status.completed", timeout=20_000)
    page.wait_for_function("document.getElementById('monthly-chart').dataset.drawn === 'true'")
    assert "costs.service = 'AmazonEC2'" in page.inner_text("#filter-vql")
