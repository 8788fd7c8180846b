"""Budgets in a browser: create one from a monthly amount, read its page (figures, the actual vs
forecast chart with its band), add an alert, edit it; reload after each POST; phone width."""

from budgets.models import Budget, BudgetAlert
from tests.budgets import conftest as budget_fixtures

# The budgets tests' cost rows (a known weekly pattern, July to September 2026) and report.
aws_costs = budget_fixtures.aws_costs
aws_report = budget_fixtures.aws_report


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_create_read_alert_and_edit_a_budget(signed_in_page, live_server, aws_report, user):
    page = signed_in_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/budgets/")
    assert "No budgets yet" in page.inner_text("main")
    page.click("#new-budget")
    page.fill("input[name=name]", "AWS quarter")
    page.select_option("select[name=tracks]", f"report:{aws_report.token}")
    page.fill("input[name=monthly_amount]", "2500")
    page.fill("input[name=first_month]", "2026-08-01")
    page.fill("input[name=months]", "3")
    page.click("#budget-form button[type=submit]")
    page.wait_for_url(lambda url: "/budgets/bdgt_" in url)
    page.reload()  # the POST redirected: reloading shows the page again, creates nothing
    assert Budget.objects.count() == 1
    page.wait_for_selector("#budget-chart[data-rendered=true]")
    periods = page.inner_text("#period-table")
    assert "1 Aug – 31 Aug 2026" in periods and "$2,500.00" in periods
    assert "$2,820.00" in periods  # September's actual: 22 weekdays × 110 + 8 weekend days × 50
    assert "tracks the report" in page.inner_text("main")

    page.fill("#alert-form input[name=threshold]", "90")
    page.check(f"#alert-form input[name=recipients][value='{user.pk}']")
    page.click("#alert-form button[type=submit]")
    page.wait_for_selector("#alert-list")
    page.reload()
    assert "At 90%" in page.inner_text("#alert-list")
    assert user.email in page.inner_text("#alert-list")
    assert BudgetAlert.objects.count() == 1

    page.click("#budget-edit")
    page.fill("textarea[name=periods]", "2026-09-01 2026-09-30 2000")
    page.click("#budget-form button[type=submit]")
    page.wait_for_url(lambda url: url.endswith("/") and "/edit/" not in url)
    page.reload()
    periods = page.inner_text("#period-table")
    assert "$2,000.00" in periods and "Aug 2026" not in periods

    page.goto(f"{live_server.url}/budgets/")
    row = page.inner_text("#budget-table")
    assert "AWS quarter" in row and "$2,000.00" in row

    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/budgets/", f"/budgets/{Budget.objects.get().token}/", "/budgets/new/"):
        page.goto(f"{live_server.url}{path}")
        assert no_sideways_scroll(page), path
    page.goto(f"{live_server.url}/budgets/{Budget.objects.get().token}/")
    page.wait_for_selector("#budget-chart[data-rendered=true]")
    assert "$2,000.00" in page.inner_text("#period-table")


def test_budget_pages_read_cleanly(signed_in_page, live_server, organization, aws_report, user):
    """The console walk's checks (tests/browser/test_console.py) on every budgets page with
    data: no template syntax, no sideways scrolling, labelled fields, contrast, unique ids."""
    from datetime import date
    from decimal import Decimal

    from budgets import services
    from tests.browser.test_console import DUPLICATE_IDS, LOW_CONTRAST, UNLABELLED_FIELDS

    today = date.today()
    child = services.budget_create(
        organization,
        workspace=aws_report.workspace,
        name="AWS",
        cost_report=aws_report,
        periods=[
            services.PeriodInput(date(2026, 9, 1), None, Decimal(2000)),
            services.PeriodInput(today.replace(day=1), None, Decimal(100)),
        ],
    )
    parent = services.budget_create(
        organization, workspace=aws_report.workspace, name="Everything", children=[child]
    )
    services.budget_alert_create(organization, budgets=[child], threshold=80, recipients=[user])
    services.budget_alerts_evaluate(organization, today=date(2026, 9, 30))
    services.forecast_refresh(cost_report=aws_report)
    page = signed_in_page
    problems = []
    urls = ["/budgets/", "/budgets/new/", "/"]
    for budget in (child, parent):
        urls += [f"/budgets/{budget.token}/", f"/budgets/{budget.token}/edit/"]
    for url in urls:
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            assert page.goto(f"{live_server.url}{url}").status == 200, url
            where = f"{url} at {width}px"
            text = page.inner_text("body")
            problems += [f"{where}: {s!r}" for s in ("{{", "}}", "{%", "%}") if s in text]
            if page.evaluate("document.documentElement.scrollWidth") > width:
                problems.append(f"{where}: scrolls sideways")
            if page.locator(".mainnav a[aria-current=page]").count() != 1 and url != "/":
                problems.append(f"{where}: no section marked in the navigation")
            for name, check in (
                ("unlabelled", UNLABELLED_FIELDS),
                ("low contrast", LOW_CONTRAST),
                ("duplicate ids", DUPLICATE_IDS),
            ):
                found = page.evaluate(check)
                if found:
                    problems.append(f"{where}: {name}: {found[:5]}")
    assert not problems, "\n".join(problems)
    page.goto(f"{live_server.url}/")
    assert "AWS" in page.inner_text("#budgets-at-risk")
