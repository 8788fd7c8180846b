"""Reports in a browser: save the explorer's question as a report, open it from the reports list
(chart, table, totals with the previous period) and download its CSV."""

import csv
from decimal import Decimal

from costs import services
from tests.costs.focus_files import generate

EXPLORER = "group_by=service&granularity=month&provider=aws&start=2026-09-01&end=2026-09-30"


def test_save_open_and_export_a_report(signed_in_page, live_server, organization, tmp_path):
    aws = services.integration_create(organization, "aws", "AWS payer")
    services.focus_import(aws, generate(tmp_path, "aws", rows=600, seed=81))
    page = signed_in_page

    page.goto(f"{live_server.url}/costs/?{EXPLORER}")
    page.click("#save-as-report")
    page.wait_for_url(lambda url: "/reports/new/" in url)
    assert page.inner_text("#report-filter") == "costs.provider = 'aws'"
    page.fill("input[name=title]", "AWS by service")
    page.click("#report-save-form button[type=submit]")
    page.wait_for_url(lambda url: "/reports/rprt_" in url)

    page.goto(f"{live_server.url}/reports/")
    page.click("text=AWS by service")
    page.wait_for_selector("#report-chart[data-rendered=true]")
    groups = page.locator("#report-table tbody tr td:first-child").all_inner_texts()
    assert len(groups) > 1
    totals = page.inner_text("#report-totals")
    assert "Previous period" in totals and "$" in totals

    assert page.locator("#report-explorer").count() == 1
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    with page.expect_download() as download_info:
        page.click("#report-csv")
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["accrued_at"] for row in rows} == {"2026-09-01"}
    assert {row["service"] for row in rows} == {group for group in groups}
    assert sum(Decimal(row["amount"]) for row in rows) > 0
