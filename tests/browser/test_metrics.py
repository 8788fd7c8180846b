"""A person creates a billable metric in the page, events arrive through the API, and the metric
page charts the usage per dimension."""

from metrics import services
from metrics.models import BillableMetric


def test_create_metric_ingest_events_and_see_the_usage_chart(
    signed_in_page, live_server, organization, write_token
):
    family = services.product_family_create(organization, name="Compute")
    services.customer_create(organization, name="Initech", external_id="initech")
    page = signed_in_page

    page.goto(f"{live_server.url}/metrics/")
    page.click("#new-metric")
    form = page.locator("#metric-form")
    form.locator("input[name=name]").fill("API requests")
    form.locator("input[name=code]").fill("requests")
    form.locator("select[name=product_family_id]").select_option(family.pk)
    form.locator("select[name=aggregation_type]").select_option("SUM")
    form.locator("input[name=aggregation_key]").fill("n")
    form.locator("textarea[name=segmentation_matrix]").fill(
        '{"key": "region", "values": ["eu", "us"]}'
    )
    form.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "/metrics/bm_" in url)
    metric = BillableMetric.objects.get(code="requests")

    raw = [
        ("2026-03-01", "eu", 3),
        ("2026-03-01", "us", 1),
        ("2026-03-02", "eu", 4),
        ("2026-03-03", "mars", 2),
    ]
    events = [
        {
            "id": f"e{i}",
            "code": "requests",
            "customer_id": "initech",
            "timestamp": f"{day}T10:00:00Z",
            "properties": {"region": region, "n": n},
        }
        for i, (day, region, n) in enumerate(raw)
    ]
    response = page.request.post(
        f"{live_server.url}/api/v1/events/ingest",
        data={"events": events},
        headers={"Authorization": f"Bearer {write_token[1]}"},
    )
    assert response.status == 200
    assert response.json() == {"accepted": 4, "duplicates": 0, "rejected": []}

    page.goto(f"{live_server.url}/metrics/{metric.pk}/?window=day&start=2026-03-01&end=2026-03-03")
    page.wait_for_selector("#usage-chart[data-drawn=true]")
    series = page.evaluate(
        "() => Object.fromEntries(Chart.getChart('usage-chart').data.datasets"
        ".map(d => [d.label, d.data]))"
    )
    days = ["2026-03-01", "2026-03-02", "2026-03-03"]
    expected = {
        region: [sum(n for d, r, n in raw if (d, r) == (day, region)) for day in days]
        for region in ("eu", "us")
    }
    expected["other"] = [
        sum(n for d, r, n in raw if d == day and r not in ("eu", "us")) for day in days
    ]
    assert series == expected
    assert page.locator("#usage-chart").is_visible()
