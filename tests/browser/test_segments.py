"""Build a segment with the row builder, see live VQL errors, and view its charts."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from costs.models import DimensionValue
from segments.models import Segment
from tests.factories import CostRowFactory, IntegrationFactory
from tests.segments.conftest import vql_segment


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
    expect(page.locator("#id_filter")).to_have_value(
        "costs.provider = 'aws' AND costs.service = 'AmazonEC2'"
    )
    expect(page.locator("#filter-status")).to_contain_text("2 cost rows")
    expect(page.locator("#filter-status")).to_contain_text("$16.00")

    vql = page.locator("#id_filter")
    valid = vql.input_value()
    vql.fill("costs.provider = 'aws' AND costs.service =")
    expect(page.locator("#filter-status.error")).to_contain_text("column")
    vql.fill(valid)
    expect(page.locator("#filter-status.ok")).to_be_visible()

    page.click("#segment-form button[type=submit]")
    page.wait_for_url("**/segments/*/")
    segment = Segment.objects.get(name="Compute")
    assert segment.provider == "aws"
    page.wait_for_selector("#segment-status.completed", timeout=20_000)
    page.wait_for_selector("#monthly-chart[data-drawn=true]")
    assert "costs.service = 'AmazonEC2'" in page.inner_text("#filter-vql")


def test_editing_a_segment_shows_the_provider_as_its_first_condition(
    signed_in_page, live_server, organization, aws_costs
):
    segment = vql_segment(
        organization, "EC2", "costs.provider = 'aws' AND costs.service = 'AmazonEC2'"
    )
    page = signed_in_page
    page.goto(f"{live_server.url}/segments/{segment.pk}/edit/")
    expect(page.locator("#filter-status.ok")).to_be_visible()
    assert page.locator("select[name=provider]").input_value() == "aws"
    rows = page.locator("[data-row]")
    expect(rows).to_have_count(1)  # no "Integration is aws" row
    assert rows.first.locator(".row-field").input_value() == "service"
    assert rows.first.locator(".row-value").input_value() == "AmazonEC2"

    rows.first.locator(".row-value").fill("AmazonS3")
    expect(page.locator("#id_filter")).to_have_value(
        "costs.provider = 'aws' AND costs.service = 'AmazonS3'"
    )
    expect(page.locator("#filter-status.ok")).to_be_visible()
    page.click("#segment-form button[type=submit]")
    page.wait_for_url(f"**/segments/{segment.pk}/")
    segment.refresh_from_db()
    assert "AmazonS3" in str(segment.filter_tree)


def test_what_the_live_check_accepts_saving_accepts(
    signed_in_page, live_server, organization, aws_costs
):
    parent = vql_segment(organization, "AWS", "costs.provider = 'aws'")
    page = signed_in_page
    page.goto(f"{live_server.url}/segments/new/?parent={parent.pk}")
    page.fill("input[name=name]", "East")
    # A child's provider comes from its parent: shown, fixed.
    provider = page.locator("select[name=provider]")
    expect(provider).to_be_disabled()
    assert provider.input_value() == "aws"
    # So are its report settings: they are the top-level segment's.
    expect(page.locator("input[name=include_tax]")).to_be_disabled()
    expect(page.locator("[data-report-note]")).to_be_visible()
    # LIKE on a region: Vantage's VQL refuses it, saving a segment here accepts it.
    page.fill("#id_filter", "costs.region LIKE 'us-%'")
    expect(page.locator("#filter-status.ok")).to_be_visible()
    page.click("#segment-form button[type=submit]")
    page.wait_for_url("**/segments/*/")
    child = Segment.objects.get(name="East")
    assert (child.parent_id, child.provider) == (parent.pk, "aws")


def test_a_filter_with_or_groups_is_edited_as_vql(signed_in_page, live_server, aws_costs):
    page = signed_in_page
    page.goto(f"{live_server.url}/segments/new/")
    page.fill(
        "#id_filter",
        "costs.provider = 'aws' AND (costs.service = 'AmazonEC2' OR costs.region = 'eu-west-1')",
    )
    expect(page.locator("#filter-status.ok")).to_be_visible()
    expect(page.locator("[data-rows-note]")).to_be_visible()
    assert page.locator("select[name=provider]").input_value() == "aws"
    assert page.locator("[data-add-row]").is_disabled()


def test_previewing_a_priority_change_shows_the_money_it_moves(
    signed_in_page, live_server, organization
):
    integration = IntegrationFactory(organization=organization, provider="aws")
    first_of_month = datetime.date.today().replace(day=1)
    last_month = (first_of_month - datetime.timedelta(days=1)).replace(day=5)
    for service, cost in [("AmazonEC2", 10), ("AmazonS3", 4)]:
        CostRowFactory(
            integration=integration,
            service_name=service,
            charge_period_start=last_month,
            billed_cost=Decimal(cost),
        )
    top = vql_segment(organization, "AWS", "costs.provider = 'aws'")
    vql_segment(
        organization,
        "Compute",
        "costs.provider = 'aws' AND costs.service = 'AmazonEC2'",
        parent=top,
        priority=1,
    )
    everything = vql_segment(
        organization, "Everything", "costs.provider = 'aws'", parent=top, priority=2
    )
    page = signed_in_page
    page.goto(f"{live_server.url}/segments/{everything.pk}/edit/")
    expect(page.locator("#filter-status.ok")).to_be_visible()
    page.fill("input[name=priority]", "0")
    page.click("button[value=preview]")
    moved = page.locator("#money-moved")
    expect(moved).to_contain_text("Compute")
    text = moved.inner_text()
    assert "Everything" in text and "$10.00" in text and "Nothing is saved yet" in text
    everything.refresh_from_db()
    assert everything.priority == 2
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click("button[value=save]")
    page.wait_for_url(f"**/segments/{everything.pk}/")
    everything.refresh_from_db()
    assert everything.priority == 0
    assert everything.money_moved[0]["amount"] == "10.00"
