"""Cost to serve in a browser: the customers table (sorted by cost to serve), a customer's page,
preparing a statement; at 1280 px and at a phone's 390 px."""

from __future__ import annotations

import re
from decimal import Decimal

from business import services as business_services
from costs import services
from metrics import services as metric_services
from segments.filter_tree import parse_vql
from segments.services import segment_create
from tests.costs.focus_files import generate

MONEY = re.compile(r"−?\$[\d,]+\.\d\d")


def amount(text: str) -> Decimal:
    return Decimal(MONEY.search(text).group(0).replace("$", "").replace(",", "").replace("−", "-"))


def setup_data(organization, tmp_path):
    aws = services.integration_create(organization, "aws", "AWS payer")
    services.focus_import(aws, generate(tmp_path, "aws", rows=400, seed=31))
    family = metric_services.product_family_create(organization, name="Platform")
    calls = metric_services.metric_create(
        organization,
        name="API calls",
        code="api_calls",
        aggregation_type="SUM",
        aggregation_key="calls",
        product_family_id=family.pk,
    )
    for number, name in enumerate(["Acme", "Globex", "Initech", "Umbrella"]):
        metric_services.customer_create(organization, name=name, external_id=name.lower())
        metric_services.events_ingest(
            organization,
            [
                {
                    "id": f"{name}-{day}",
                    "code": "api_calls",
                    "customer_id": name.lower(),
                    "timestamp": f"2026-08-{day:02d}T10:00:00Z",
                    "properties": {"calls": (number + 1) * 100 + day},
                }
                for day in range(1, 29)
            ],
        )
    metric_services.usage_materialize_pending(organization_id=organization.pk)
    metric = business_services.business_metric_create(
        organization,
        title="API calls",
        billable_metric=calls,
        label_dimension="customer",
        price_per_unit="0.05",
    )
    business_services.live_metric_refresh_all(metric.pk)
    segment = segment_create(
        organization, name="AWS", filter_tree=parse_vql("costs.provider = 'aws'")
    )
    return segment, metric


def test_customers_table_and_customer_page(signed_in_page, live_server, organization, tmp_path):
    segment, metric = setup_data(organization, tmp_path)
    page = signed_in_page
    page.set_viewport_size({"width": 1280, "height": 900})
    query = f"source=segment:{segment.token}&metric={metric.token}&month=2026-08"
    page.goto(f"{live_server.url}/cost-to-serve/?{query}")

    rows = page.locator("#customers-table tbody tr")
    names = page.locator("#customers-table tbody tr td:first-child a").all_inner_texts()
    assert names == ["Umbrella", "Initech", "Globex", "Acme"]  # most usage, most cost first
    costs = [
        amount(text)
        for text in page.locator("#customers-table tbody tr td:nth-child(3)").all_inner_texts()
    ]
    assert rows.count() == 6  # four customers, unattributed, idle
    total = amount(page.inner_text("#customers-table tfoot"))
    assert sum(costs) == total  # every cent is on a line
    assert "Gross margin" in page.inner_text("#customers-table thead")

    page.click("#sort-cost")  # ascending
    page.wait_for_url(lambda url: "sort=cost" in url)
    ascending = page.locator("#customers-table tbody tr td:first-child a").all_inner_texts()
    assert ascending == ["Acme", "Globex", "Initech", "Umbrella"]

    page.click("text=Umbrella")
    page.wait_for_url(lambda url: "/cost-to-serve/customers/umbrella/" in url)
    figures = page.inner_text("#customer-figures")
    assert amount(page.inner_text("#customer-cost")) == max(costs[:4])
    assert "Unit cost" in figures and "Revenue" in figures and "Gross margin" in figures
    assert page.locator("#trend-table tbody tr").count() == 6

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert "Umbrella" in page.inner_text("h1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{live_server.url}/cost-to-serve/?{query}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert "Umbrella" in page.inner_text("#customers-table")


def test_prepare_a_statement_and_set_a_price_after_reload(
    signed_in_page, live_server, organization, tmp_path
):
    segment, metric = setup_data(organization, tmp_path)
    page = signed_in_page
    query = f"source=segment:{segment.token}&metric={metric.token}&month=2026-08"
    page.goto(f"{live_server.url}/cost-to-serve/?{query}")
    page.select_option("#statement-form select[name=kind]", "chargeback")
    page.click("#statement-form button[type=submit]")
    page.wait_for_selector(".message.success")
    page.reload()
    table = page.inner_text("#statements-table")
    assert "Chargeback" in table and "completed" in table
    assert amount(table) == amount(page.inner_text("#customers-table tfoot"))
    with page.expect_download() as download_info:
        page.click("#statements-table >> text=statement.pdf")
    with open(download_info.value.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"

    page.set_viewport_size({"width": 390, "height": 844})
    page.fill("#price-form input[name=price_per_unit]", "")
    page.click("#price-form button[type=submit]")
    page.wait_for_selector(".message.success")
    page.reload()
    assert "Gross margin" not in page.inner_text("#customers-table thead")
    page.fill("#price-form input[name=price_per_unit]", "1")
    page.click("#price-form button[type=submit]")
    page.wait_for_selector(".message.success")
    page.reload()
    assert "Gross margin" in page.inner_text("#customers-table")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
