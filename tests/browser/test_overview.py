"""The overview's biggest movers as a person reads them, on a phone: money with its currency,
figures worked out here from the rows the test writes."""

import datetime
from decimal import Decimal

from tests.factories import CostRowFactory, IntegrationFactory


def test_biggest_movers_by_service_read_with_currency(signed_in_page, live_server, organization):
    today = datetime.date.today()
    this_month = today.replace(day=1)
    last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
    azure = IntegrationFactory(organization=organization, provider="azure", name="Azure EA")
    rows = {"Virtual Machines": ("1200.40", "1000"), "Storage": ("5", "45.5")}
    for service, (now, before) in rows.items():
        for day, amount in ((this_month, now), (last_month, before)):
            CostRowFactory(
                integration=azure,
                service_name=service,
                charge_period_start=day,
                effective_cost=Decimal(amount),
                billing_currency="EUR",
            )
    page = signed_in_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/")
    up = page.locator("#movers-service-up-EUR")
    down = page.locator("#movers-service-down-EUR")
    assert "Rising most (EUR)" in up.inner_text()
    cells = up.locator("tbody tr").first.locator("td").all_inner_texts()
    assert cells == ["Virtual Machines", "€1,200.40", "€1,000.00", "€200.40", "+20.0%"]
    cells = down.locator("tbody tr").first.locator("td").all_inner_texts()
    assert cells == ["Storage", "€5.00", "€45.50", "−€40.50", "−89.0%"]
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
