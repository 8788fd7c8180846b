"""The anomalies inbox in a browser: read it at desk and phone widths, acknowledge one, mark one
expected, give feedback, and find each change still there after a reload."""

import datetime

from alerts import anomalies
from alerts.delivery import deliver
from alerts.models import Anomaly, Channel, ChannelKind, SeriesTuning
from tests.alerts.data import all_costs_report, write_costs


def detected(organization):
    write_costs(organization)
    report = all_costs_report(organization)
    anomalies.anomalies_detect(organization, judge_from=datetime.date(2026, 9, 1), notify=False)
    return report


def test_inbox_triage_survives_a_reload(signed_in_page, live_server, organization):
    report = detected(organization)
    page = signed_in_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/alerts/")
    table = page.inner_text("#anomaly-table")
    assert "AmazonEC2 (aws) in All costs" in table
    assert "$400.00" in table
    assert "Open (3)" in page.inner_text("nav[aria-label=Status]")

    service = Anomaly.objects.get(series_key=f"report:{report.token}|service:aws/AmazonEC2")
    total = Anomaly.objects.get(series_key=f"report:{report.token}")
    page.click(f"#anomaly-{total.token} button[value=acknowledge]")
    page.wait_for_load_state()
    assert "Acknowledged:" in page.inner_text(".messages")
    page.click(f"#anomaly-{service.token} button[value=expected]")
    page.wait_for_load_state()
    page.reload()
    statuses = page.inner_text("nav[aria-label=Status]")
    assert "Open (1)" in statuses and "Acknowledged (1)" in statuses and "Archived (1)" in statuses
    assert SeriesTuning.objects.filter(series_key=service.series_key).exists()

    page.click("text=Archived (1)")
    page.wait_for_load_state()
    assert "expected" in page.inner_text(f"#anomaly-{service.token}")


def test_feedback_on_a_phone(signed_in_page, live_server, organization):
    detected(organization)
    anomaly = Anomaly.objects.order_by("series_key").first()
    page = signed_in_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/alerts/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click(f"#anomaly-{anomaly.token} a")
    page.wait_for_url(lambda url: f"/alerts/anomalies/{anomaly.token}/" in url)
    assert "$" in page.inner_text("#anomaly-amount")
    page.wait_for_selector("#anomaly-chart[data-rendered=true]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.select_option("select[name=status]", "archived")
    page.fill("textarea[name=feedback]", "Planned load test")
    page.click("button[value=feedback]")
    page.wait_for_load_state()
    page.reload()
    assert "Planned load test" in page.inner_text("main")
    assert "Archived" in page.inner_text("main")
    anomaly.refresh_from_db()
    assert (anomaly.status, anomaly.feedback) == ("archived", "Planned load test")


def test_settings_and_deliveries_fit_a_phone(signed_in_page, live_server, organization):
    page = signed_in_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/alerts/settings/")
    page.fill("#channels input[name=name]", "ops hook")
    page.select_option("#channels select[name=kind]", "webhook")
    page.fill("#channels input[name=target]", "https://hooks.example.com/costline")
    page.click("#channels button[type=submit]")
    page.wait_for_load_state()
    page.reload()
    assert "ops hook" in page.inner_text("#channels")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{live_server.url}/alerts/deliveries/")
    assert "Nothing sent yet." in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_alert_pages_read_cleanly(signed_in_page, live_server, organization, settings):
    """The console walk's checks (tests/browser/test_console.py) on every alerts page with data:
    no template syntax, no sideways scrolling, labelled fields, contrast, unique ids."""
    from tests.browser.test_console import DUPLICATE_IDS, LOW_CONTRAST, UNLABELLED_FIELDS

    detected(organization)
    anomaly = Anomaly.objects.first()
    settings.ALERTS_DELIVERY_MAX_ATTEMPTS = 1
    Channel.objects.create(
        organization=organization,
        name="unreachable",
        kind=ChannelKind.WEBHOOK,
        target="http://127.0.0.1:9/hook",
    )
    deliver(
        organization,
        event_key=f"anomaly:{anomaly.token}",
        subject="Cost spike on 2026-09-15: AmazonEC2 (aws) in All costs (+$300.00)",
        text="t",
        payload={},
        emails=["ops@example.com"],
    )
    page = signed_in_page
    problems = []
    urls = ["/alerts/", f"/alerts/anomalies/{anomaly.token}/", "/alerts/settings/"]
    urls += ["/alerts/deliveries/", "/alerts/?status=all", "/"]
    for url in urls:
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            assert page.goto(f"{live_server.url}{url}").status == 200
            where = f"{url} at {width}px"
            text = page.inner_text("body")
            problems += [f"{where}: {s!r}" for s in ("{{", "}}", "{%", "%}") if s in text]
            if page.evaluate("document.documentElement.scrollWidth") > width:
                problems.append(f"{where}: scrolls sideways")
            for name, check in (
                ("unlabelled", UNLABELLED_FIELDS),
                ("low contrast", LOW_CONTRAST),
                ("duplicate ids", DUPLICATE_IDS),
            ):
                found = page.evaluate(check)
                if found:
                    problems.append(f"{where}: {name}: {found[:5]}")
    assert not problems, "\n".join(problems)
