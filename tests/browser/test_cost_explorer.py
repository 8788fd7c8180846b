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


def test_explorer_several_services_compared_with_the_previous_period(
    signed_in_page, live_server, organization, tmp_path
):
    import datetime

    import duckdb

    aws = services.integration_create(organization, "aws", "AWS payer")
    path = generate(
        tmp_path,
        "aws",
        rows=700,
        seed=91,
        months=[datetime.date(2026, 7, 1), datetime.date(2026, 8, 1)],
    )
    services.focus_import(aws, path)
    page = signed_in_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/costs/?group_by=service&start=2026-08-01&end=2026-08-31")

    # On a phone the filters fold behind "Filters"; a person opens them, picks two services in
    # the multi-select and asks for the comparison.
    page.click(".filter-toggle > summary")
    page.select_option("#filter-form select[name=service]", ["AmazonEC2", "AmazonS3"])
    page.check("#id_compare")
    page.click("#filter-form button[type=submit]")
    page.wait_for_url(lambda url: "compare=previous" in url)
    assert page.locator("#active-filters .chip[data-type=service]").count() == 2
    assert sorted(table_groups(page)) == ["AmazonEC2", "AmazonS3"]

    def sums(first, last):
        return dict(
            duckdb.sql(
                "SELECT ServiceName, sum(CAST(EffectiveCost AS DECIMAL(38, 10))) "
                f"FROM read_csv('{path}', all_varchar=true, header=true) "
                f"WHERE ServiceName IN ('AmazonEC2', 'AmazonS3') "
                f"AND substr(ChargePeriodStart, 1, 10) BETWEEN '{first}' AND '{last}' GROUP BY 1"
            ).fetchall()
        )

    now, before = sums("2026-08-01", "2026-08-31"), sums("2026-07-01", "2026-07-31")
    comparison = page.locator("#comparison")
    assert "against 1 Jul 2026 – 31 Jul 2026" in comparison.inner_text()
    for service in ("AmazonEC2", "AmazonS3"):
        cells = comparison.locator("tbody tr", has_text=service).locator("td").all_inner_texts()
        change = now[service] - before[service]
        sign = "−" if change < 0 else ""
        assert cells[1] == f"${now[service]:,.2f}"
        assert cells[2] == f"${before[service]:,.2f}"
        assert cells[3] == f"{sign}${abs(change):,.2f}"
        assert cells[4].endswith("%") and cells[4][0] in "+−"
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0

    page.reload()  # a GET: reloading shows the same comparison
    assert page.locator("#comparison-table tbody tr").count() == 2
