"""Every page, as a person sees it: no template syntax in the text, money with its currency, no
sideways scrolling on a phone, a label on every field, a skip link and the section marked."""

import datetime
from decimal import Decimal
from importlib import import_module

import pytest
from django.test import TestCase
from django.urls import URLPattern, URLResolver
from playwright.sync_api import expect

from config.urls import DOMAIN_APPS
from costs.models import ImportJob
from filter_segments import services as saved_view_services
from metrics import services as metric_services
from reports import services as report_services
from segments import services as segment_services
from segments.filter_tree import parse_vql
from tests.factories import CostRowFactory, IntegrationFactory

PHONE = {"width": 390, "height": 844}

# URL names that are not pages a person opens: form targets, htmx partials, downloads.
NOT_PAGES = {
    "costs:export",
    "costs:import-progress",
    "costs:import-rerun",
    "costs:integration-sync",
    "costs:integration-test",
    "segments:status",
    "segments:filter-check",
    "metrics:archive",
    "metrics:customer-create",
    "metrics:family-create",
    "metrics:product-create",
    "organizations:token-revoke",
    "organizations:switch",
    "reports:folder-create",
    "reports:folder-delete",
    "reports:csv",
    "reports:delete",
    "business:metric-price",
    "business:focus-export-create",
    "business:focus-export-file",
    "business:statement-create",
    "business:statement-file",
    "virtual_tags:delete",
    "alerts:anomaly-action",
    "alerts:channel-create",
    "alerts:channel-action",
    "alerts:notification-create",
    "alerts:notification-delete",
    "alerts:watch-create",
    "alerts:watch-action",
    "alerts:digest-preference",
    "alerts:delivery-replay",
    "budgets:delete",
    "budgets:alert-create",
    "budgets:alert-delete",
}


def page_names() -> list[str]:
    """Every named route of the apps' page URLconfs (``<app>.urls``)."""
    names = []
    for app in DOMAIN_APPS:
        module = import_module(f"{app}.urls")
        for pattern in module.urlpatterns:
            assert isinstance(pattern, URLPattern | URLResolver)
            names.append(f"{module.app_name}:{pattern.name}")
    return names


@pytest.fixture
def console(organization, user):
    """A small organization with something on every page."""
    today = datetime.date.today()
    this_month = today.replace(day=1)
    last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
    aws = IntegrationFactory(organization=organization, provider="aws", name="AWS payer")
    for day, service, cost in [
        (last_month, "AmazonEC2", "1234.5"),
        (last_month + datetime.timedelta(days=3), "AmazonS3", "80.25"),
        (this_month, "AmazonEC2", "1500"),
        (this_month, "AmazonS3", "99.99"),
    ]:
        CostRowFactory(
            integration=aws,
            service_name=service,
            charge_period_start=day,
            billed_cost=Decimal(cost),
            effective_cost=Decimal(cost),
            list_cost=Decimal(cost) * 2,
            contracted_cost=Decimal(cost),
        )
    succeeded = ImportJob.objects.create(
        organization=organization, integration=aws, filename="aug.csv", rows_written=4
    )
    ImportJob.objects.filter(pk=succeeded.pk).update(status=ImportJob.Status.SUCCEEDED)
    ImportJob.objects.create(
        organization=organization,
        integration=aws,
        filename="broken.csv",
        status=ImportJob.Status.FAILED,
        error="broken.csv line 2: BilledCost is not a number.",
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        top = segment_services.segment_create(
            organization, name="Cloud", filter_tree=parse_vql("costs.provider = 'aws'")
        )
        segment_services.segment_create(
            organization,
            name="Compute",
            parent=top,
            filter_tree=parse_vql("costs.provider = 'aws' AND costs.service = 'AmazonEC2'"),
        )
    family = metric_services.product_family_create(organization, name="Platform")
    metric_services.product_create(organization, name="API", product_family_id=family.pk)
    metric = metric_services.metric_create(
        organization,
        name="API requests",
        code="requests",
        aggregation_type="COUNT",
        product_family_id=family.pk,
        segmentation_matrix={"key": "region", "values": ["eu", "us"]},
        unit_conversion={"factor": 1000},
    )
    customer = metric_services.customer_create(organization, name="Initech", external_id="initech")
    metric_services.events_ingest(
        organization,
        [
            {
                "id": f"e{i}",
                "code": "requests",
                "customer_id": customer.external_id,
                "timestamp": f"{this_month.isoformat()}T10:00:00Z",
                "properties": {"region": "eu", "path": "/v1/items"},
            }
            for i in range(3)
        ],
    )
    saved_view_services.filter_segment_create(
        organization,
        user,
        module="segments",
        name="Cloud only",
        filters=[{"type": "name", "id": "Cloud", "label": "Name: Cloud"}],
    )
    folder = report_services.folder_create(
        organization, workspace=organization.default_workspace, title="Platform"
    )
    report = report_services.cost_report_create(
        organization,
        workspace=organization.default_workspace,
        title="Compute by service",
        folder=folder,
        filter_tree=parse_vql("costs.provider = 'aws'"),
        groupings=["service"],
        date_bin="month",
        date_interval="last_3_months",
    )
    return {
        "top": top,
        "metric": metric,
        "reports:detail": {"token": report.token},
        "reports:edit": {"token": report.token},
        "segments:detail": {"pk": top.pk},
        "segments:edit": {"pk": top.pk},
        "segments:delete": {"pk": top.pk},
        "metrics:detail": {"pk": metric.pk},
    }


@pytest.fixture
def every_page(console, organization, user):
    """The console's organization plus something on the pages of cost to serve, virtual tags,
    alerts and budgets (kept apart from ``console``: the anomaly needs months of history that
    the other tests' figures do not expect)."""
    from alerts import anomalies
    from alerts import services as alert_services
    from budgets import services as budget_services
    from business import services as business_services
    from tests.alerts.data import END as ALERT_DATA_END
    from tests.alerts.data import write_costs
    from virtual_tags import services as virtual_tag_services

    metric_services.usage_materialize_pending(organization_id=organization.pk)
    requests = business_services.business_metric_create(
        organization,
        title="API requests",
        billable_metric=console["metric"],
        label_dimension="customer",
        price_per_unit="0.05",
    )
    business_services.live_metric_refresh_all(requests.pk)
    with TestCase.captureOnCommitCallbacks(execute=True):
        tag = virtual_tag_services.config_create(
            organization,
            user=user,
            key="Team",
            values=[{"filter": "costs.service = 'AmazonEC2'", "name": "Compute"}],
        )
    write_costs(organization)  # a weekly rhythm with one spike: an anomaly to open
    found = anomalies.anomalies_detect(
        organization, judge_from=datetime.date(2026, 9, 1), end=ALERT_DATA_END, notify=False
    )
    assert found, "the spike in tests.alerts.data is an anomaly"
    alert_services.channel_create(
        organization, name="ops hook", kind="webhook", target="https://hooks.example.com/c"
    )
    this_month = datetime.date.today().replace(day=1)
    budget = budget_services.budget_create(
        organization,
        workspace=organization.default_workspace,
        name="Cloud",
        segment=console["top"],
        periods=[budget_services.PeriodInput(this_month, None, Decimal(2000))],
    )
    budget_services.budget_alert_create(
        organization, budgets=[budget], threshold=80, recipients=[user]
    )
    return {
        **console,
        "business:customer": {"external_id": "initech"},
        "virtual_tags:detail": {"token": tag.token},
        "virtual_tags:edit": {"token": tag.token},
        "alerts:anomaly": {"token": found[0].token},
        "budgets:detail": {"token": budget.token},
        "budgets:edit": {"token": budget.token},
    }


def page_urls(console) -> list[str]:
    from django.urls import reverse

    urls = ["/", "/accounts/password_change/"]
    for name in page_names():
        if name in NOT_PAGES:
            continue
        urls.append(reverse(name, kwargs=console.get(name) or {}))
    return urls


def test_every_page_reads_cleanly_on_a_phone_and_is_labelled(
    signed_in_page, live_server, every_page
):
    page = signed_in_page
    problems = []
    for url in page_urls(every_page):
        for viewport in (PHONE, {"width": 1280, "height": 900}):
            page.set_viewport_size(viewport)
            response = page.goto(f"{live_server.url}{url}")
            where = f"{url} at {viewport['width']}px"
            if response.status != 200:
                problems.append(f"{where}: HTTP {response.status}")
                continue
            page.wait_for_load_state("load")
            text = page.inner_text("body")
            for syntax in ("{#", "#}", "{%", "%}", "{{", "}}"):
                if syntax in text:
                    problems.append(f"{where}: template syntax {syntax!r} in the text")
            if "{'" in text or "': " in text or "['" in text:
                problems.append(f"{where}: a Python dict shown as text")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > viewport["width"]:
                problems.append(f"{where}: {width}px wide, scrolls sideways")
            unlabelled = page.evaluate(UNLABELLED_FIELDS)
            if unlabelled:
                problems.append(f"{where}: fields without a label: {unlabelled}")
            low = page.evaluate(LOW_CONTRAST)
            if low:
                problems.append(f"{where}: text below 4.5:1 contrast: {low[:5]}")
            duplicated = page.evaluate(DUPLICATE_IDS)
            if duplicated:
                problems.append(f"{where}: ids used more than once: {duplicated[:5]}")
            if page.locator("a.skip-link[href='#main']").count() != 1:
                problems.append(f"{where}: no skip link")
            if url != "/" and page.locator(".mainnav a[aria-current=page]").count() != 1:
                problems.append(f"{where}: no section marked in the navigation")
    assert not problems, "\n".join(problems)


# Visible text whose colour against its (first opaque) background is below WCAG AA's 4.5:1.
LOW_CONTRAST = """() => {
  const parse = (c) => { const m = c.match(/[\\d.]+/g) || [0, 0, 0, 0];
    return [+m[0], +m[1], +m[2], m.length > 3 ? +m[3] : 1]; };
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = (el) => { let layers = [];
    for (let node = el; node; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let base = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse())
      base = [r * a + base[0] * (1 - a), g * a + base[1] * (1 - a), b * a + base[2] * (1 - a)];
    return base; };
  const found = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.offsetParent && getComputedStyle(el).position !== 'fixed') continue;
    const text = [...el.childNodes].filter((n) => n.nodeType === 3)
      .map((n) => n.textContent.trim()).join('');
    if (!text) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || +style.opacity === 0) continue;
    const fg = parse(style.color), bg = background(el);
    const blended = [0, 1, 2].map((i) => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
    const [a, b] = [lum(blended), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const name = `${el.tagName.toLowerCase()}.${el.className}`;
    if (ratio < 4.5) found.push(`${name} "${text.slice(0, 20)}" ${ratio.toFixed(2)}`);
  }
  return [...new Set(found)];
}"""


DUPLICATE_IDS = """() => { const seen = {}; document.querySelectorAll('[id]')
  .forEach((el) => { seen[el.id] = (seen[el.id] || 0) + 1; });
  return Object.keys(seen).filter((id) => seen[id] > 1); }"""


# Every visible input, select and textarea has a <label>, aria-label or aria-labelledby.
UNLABELLED_FIELDS = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter((el) => el.type !== 'hidden' && el.offsetParent !== null)
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !el.getAttribute('aria-labelledby'))
  .map((el) => el.name || el.id || el.outerHTML.slice(0, 60))"""


def test_the_navigation_collapses_into_a_menu_on_a_phone(signed_in_page, live_server, console):
    page = signed_in_page
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/segments/")
    assert not page.locator(".mainnav").is_visible()
    page.click(".nav-toggle")
    assert page.locator(".nav-toggle").get_attribute("aria-expanded") == "true"
    page.locator(".mainnav").get_by_role("link", name="Costs").click()
    page.wait_for_url("**/costs/")
    # The filters fold behind one button on a phone.
    assert not page.locator("#filter-form").is_visible()
    page.locator(".filter-toggle > summary").click()
    expect(page.locator("#filter-form")).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.locator(".mainnav").is_visible()
    assert not page.locator(".nav-toggle").is_visible()
    current = page.locator(".mainnav a[aria-current=page]")
    assert current.inner_text() == "Costs"


def test_skip_link_moves_focus_to_the_content(signed_in_page, live_server, console):
    page = signed_in_page
    page.goto(f"{live_server.url}/segments/")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    assert skip.is_visible()
    assert skip.inner_text() == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_favicon_and_error_pages(signed_in_page, live_server):
    page = signed_in_page
    response = page.goto(f"{live_server.url}/favicon.ico")
    assert response.status == 200
    assert response.headers["content-type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    response = page.goto(f"{live_server.url}/no-such-page/")
    assert response.status == 404
    assert "Page not found" in page.inner_text("main")
    assert page.locator(".mainnav").get_by_role("link", name="Segments").count() == 1


def test_segment_page_reads_money_basis_and_unit_costs(signed_in_page, live_server, console):
    page = signed_in_page
    top, metric = console["top"], console["metric"]
    page.goto(f"{live_server.url}/segments/{top.pk}/?metric={metric.pk}")
    basis = page.locator("#cost-basis")
    expect(basis).to_contain_text("Effective cost (amortized)")
    expect(basis).to_contain_text("includes")
    expect(basis).to_contain_text("discounts")
    expect(basis).to_contain_text("excludes")
    cells = page.locator("#monthly-table tbody td.num").all_inner_texts()
    assert "$1,314.75" in cells and "$1,599.99" in cells
    expect(page.locator("#unit-cost-caption")).to_contain_text("USD per 1,000 requests")
    expect(page.locator("#unit-cost-table thead")).to_contain_text("Cost per 1,000 requests")

    page.goto(f"{live_server.url}/segments/")
    tree = page.locator("#segment-tree")
    expect(tree).to_contain_text("$1,599.99")
    expect(tree.locator("thead")).to_contain_text("Change vs")


def test_a_single_period_is_not_drawn_as_a_line(signed_in_page, live_server, organization):
    gcp = IntegrationFactory(organization=organization, provider="gcp", name="GCP")
    CostRowFactory(
        integration=gcp,
        service_name="Compute Engine",
        charge_period_start=datetime.date.today().replace(day=1),
        billed_cost=Decimal("42"),
        effective_cost=Decimal("42"),
        billing_currency="EUR",
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        segment = segment_services.segment_create(
            organization, name="GCP", filter_tree=parse_vql("costs.provider = 'gcp'")
        )
    page = signed_in_page
    page.goto(f"{live_server.url}/segments/{segment.pk}/")
    page.wait_for_selector("#daily-chart[data-drawn=true]")
    assert page.locator("#daily-chart").get_attribute("data-drawn-as") == "bar"
    assert "€42.00" in page.locator("#monthly-table").inner_text()


def test_explorer_shows_its_cost_basis_and_currency(signed_in_page, live_server, console):
    page = signed_in_page
    page.goto(f"{live_server.url}/costs/?metric=billed_cost&charge_category=Usage")
    basis = page.locator("#cost-basis")
    expect(basis).to_contain_text("Billed cost")
    expect(basis).to_contain_text("Usage")
    expect(basis).to_contain_text("Tax")  # excluded by the filter, and said so
    expect(page.locator("#cost-total")).to_contain_text("$")
    assert all("$" in text for text in page.locator("#cost-table tfoot th.num").all_inner_texts())


def test_structured_values_read_as_chips_and_lists(signed_in_page, live_server, console):
    page = signed_in_page
    page.goto(f"{live_server.url}/events/")
    properties = page.locator("#event-table td.properties").first
    expect(properties).to_contain_text("region: eu")
    expect(properties).to_contain_text("path: /v1/items")
    page.goto(f"{live_server.url}/metrics/{console['metric'].pk}/")
    segmentation = page.locator("#segmentation")
    expect(segmentation).to_contain_text("key: region")
    assert "{" not in segmentation.inner_text()


def test_overview_compares_month_to_date_and_lists_what_needs_attention(
    signed_in_page, live_server, console
):
    from console.overview import same_days_last_month

    today = datetime.date.today()
    start, end = same_days_last_month(today)
    last_month = [
        (start, Decimal("1234.5")),
        (start + datetime.timedelta(days=3), Decimal("80.25")),
    ]
    previous = sum(cost for day, cost in last_month if day <= end)
    page = signed_in_page
    page.goto(f"{live_server.url}/")
    expect(page.locator(".mainnav a[aria-current=page]")).to_have_text("Overview")
    figures = page.locator("#month-to-date .figure").all_inner_texts()
    assert figures[0] == "$1,599.99"
    assert figures[1] == f"${previous:,.2f}"
    assert "%" in figures[2]
    attention = page.locator("#attention")
    expect(attention).to_contain_text("broken.csv")
    expect(attention).to_contain_text("BilledCost is not a number")
    expect(page.locator("#freshness")).to_contain_text("AWS payer")

    page.click("#explore-month")
    expect(page.locator("[data-preset=month_to_date]")).to_have_attribute("aria-current", "true")


def test_explorer_date_presets(signed_in_page, live_server, console):
    page = signed_in_page
    page.goto(f"{live_server.url}/costs/?group_by=service")
    page.click("[data-preset=last_month]")
    expect(page.locator("[data-preset=last_month]")).to_have_attribute("aria-current", "true")
    assert "group_by=service" in page.url
    expect(page.locator("#cost-total")).to_contain_text("$1,314.75")
    for preset in ("month_to_date", "last_30_days", "last_90_days", "year_to_date"):
        page.click(f"[data-preset={preset}]")
        expect(page.locator(f"[data-preset={preset}]")).to_have_attribute("aria-current", "true")
        expect(page.locator("#cost-total")).to_contain_text("$")


def test_integrations_show_their_billing_currency(signed_in_page, live_server, console):
    page = signed_in_page
    page.goto(f"{live_server.url}/integrations/")
    row = page.locator("#integration-table tr", has_text="AWS payer")
    expect(row).to_contain_text("USD")
    expect(row.locator(".badge")).to_have_text("Failed")


def test_explorer_totals_each_currency_apart(signed_in_page, live_server, console, organization):
    azure = IntegrationFactory(organization=organization, provider="azure", name="Azure EU")
    CostRowFactory(
        integration=azure,
        service_name="Virtual Machines",
        charge_period_start=datetime.date.today(),
        billed_cost=Decimal("500"),
        effective_cost=Decimal("500"),
        billing_currency="EUR",
    )
    page = signed_in_page
    page.goto(f"{live_server.url}/costs/")
    totals = page.locator("#currency-totals")
    expect(totals.locator("tr", has_text="EUR")).to_contain_text("€500.00")
    expect(totals.locator("tr", has_text="USD")).to_contain_text("$")
    expect(page.locator("#cost-total")).to_contain_text("EUR+USD")


def test_sign_in_page_on_a_phone(page, live_server, db):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate(UNLABELLED_FIELDS) == []
    assert page.evaluate(LOW_CONTRAST) == []
    assert page.locator("a.skip-link").count() == 1
