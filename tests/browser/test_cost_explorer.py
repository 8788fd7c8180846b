"""The cost explorer in a browser: the chart renders, a filter changes the table, CSV downloads."""

import csv

from costs import services
from tests.costs.focus_files import generate

WINDOW = "start=2026-08-01&end=2026-09-30"


def table_groups(page) -> list[str]:
    return [
        text.strip()
        for text in page.locator("#cost-table tbody tr td:first-child").all_inner_texts()
    ]


def test_explorer_chart_filter_and_csv(signed_in_page, live_server, organization, tmp_path):
    aws = services.integration_create(organization, "aws", "AWS payer")
    services.focus_import(aws, generate(tmp_path, "aws", rows=800, seed=71))
    azure = services.integration_create(organization, "azure", "Azure EA")
    services.focus_import(azure, generate(tmp_path, "azure", rows=600, seed=72))
    page = signed_in_page

    page.goto(f"{live_server.url}/costs/?group_by=provider&granularity=month&{WINDOW}")

    page.wait_for_selector("#cost-chart[data-rendered=true]")
    datasets = page.evaluate(
        "Chart.getChart(document.getElementById('cost-chart')).data.datasets.map(d => d.label)"
    )
    assert sorted(datasets) == ["aws", "azure"]
    assert page.locator("#cost-chart").bounding_box()["height"] > 100
    assert sorted(table_groups(page)) == ["aws", "azure"]

    page.select_option("#filter-form select[name=provider]", "aws")
    page.click("#filter-form button[type=submit]")
    page.wait_for_url(lambda url: "provider=aws" in url)
    page.wait_for_selector("#cost-chart[data-rendered=true]")
    assert table_groups(page) == ["aws"]
    assert page.locator("#active-filters .chip[data-type=provider]").count() == 1

    with page.expect_download() as download_info:
        page.click("#download-csv")
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["provider"] for row in rows} == {"aws"}
    assert {row["period"] for row in rows} == {"2026-08-01", "2026-09-01"}
