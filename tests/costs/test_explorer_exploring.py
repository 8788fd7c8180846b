"""The explorer's exploring aids: several values per filter, accounts by name, the previous
period compared, month labels and periods not complete flagged. Figures are checked against
DuckDB over the imported files or plain SQL over the cost rows, never the explorer's code."""

import datetime
import re
from decimal import Decimal

import duckdb
import pytest
from django.utils import timezone

from costs import services
from costs.views import period_label, previous_period
from tests.costrows import stored
from tests.costs.focus_files import generate

WINDOW = "start=2026-08-01&end=2026-09-30"


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def loaded(aws_integration, aws_csv):
    services.focus_import(aws_integration, aws_csv)
    return aws_integration


def table_rows(html: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table class="table" id="{table_id}">.*?<tbody>(.*?)</tbody>', html, re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


def money(amount: Decimal) -> str:
    sign = "−" if amount < 0 else ""
    return f"{sign}${abs(amount).quantize(Decimal('0.01')):,}"


def test_previous_period_is_month_for_month_or_the_same_days_before():
    d = datetime.date
    assert previous_period(d(2026, 11, 1), d(2026, 11, 30)) == (d(2026, 10, 1), d(2026, 10, 31))
    assert previous_period(d(2026, 11, 1), d(2026, 11, 15)) == (d(2026, 10, 1), d(2026, 10, 15))
    assert previous_period(d(2026, 3, 1), d(2026, 3, 31)) == (d(2026, 2, 1), d(2026, 2, 28))
    assert previous_period(d(2026, 3, 1), d(2026, 3, 30)) == (d(2026, 2, 1), d(2026, 2, 28))
    assert previous_period(d(2026, 8, 1), d(2026, 9, 30)) == (d(2026, 6, 1), d(2026, 7, 31))
    assert previous_period(d(2026, 11, 1), d(2026, 11, 30)) == (d(2026, 10, 1), d(2026, 10, 31))
    assert previous_period(d(2026, 11, 10), d(2026, 11, 19)) == (d(2026, 10, 31), d(2026, 11, 9))


def test_period_labels_read_as_months_and_flag_what_is_not_complete():
    d = datetime.date
    today = d(2026, 11, 18)
    assert period_label(d(2026, 10, 1), "month", d(2026, 10, 1), today, today) == "Oct 2026"
    assert (
        period_label(d(2026, 11, 1), "month", d(2026, 10, 1), today, today)
        == "Nov 2026 (month to date)"
    )
    assert (
        period_label(d(2026, 9, 1), "month", d(2026, 9, 15), d(2026, 10, 31), today)
        == "Sep 2026 (partial)"
    )
    assert period_label(today, "day", d(2026, 11, 1), today, today) == "2026-11-18 (partial)"
    assert period_label(d(2026, 11, 17), "day", d(2026, 11, 1), today, today) == "2026-11-17"


def test_current_month_is_flagged_month_to_date(signed_in, loaded):
    today = timezone.now().date()
    html = signed_in.get("/costs/?granularity=month").content.decode()
    flag = re.search(r'<p[^>]*id="partial-periods">(.*?)</p>', html, re.S).group(1)
    assert f"{today.strftime('%b %Y')} (month to date)" in flag


def test_several_services_at_once_through_the_page_and_the_api(signed_in, loaded, aws_csv):
    chosen = ["AmazonEC2", "AmazonS3"]
    query = f"group_by=service&service={chosen[0]}&service={chosen[1]}&{WINDOW}"
    html = signed_in.get(f"/costs/?{query}").content.decode()
    rows = {row[0]: row[2] for row in table_rows(html, "cost-table")}
    expected = {
        service: Decimal(str(total))
        for service, total in duckdb.sql(
            "SELECT ServiceName, sum(CAST(EffectiveCost AS DECIMAL(38, 10))) "
            f"FROM read_csv('{aws_csv}', all_varchar=true, header=true) "
            f"WHERE ServiceName IN ('{chosen[0]}', '{chosen[1]}') GROUP BY 1"
        ).fetchall()
    }
    assert {service: money(total) for service, total in expected.items()} == rows
    # The select lets a person pick several; both chips are shown.
    assert re.search(r'<select name="service"[^>]*multiple', html)
    chips = re.findall(r'<span class="chip" data-type="service" data-id="([^"]+)"', html)
    assert chips == chosen
    api = signed_in.get(f"/api/v1/costs?{query}")
    assert api.status_code == 200, api.content
    assert set(
        re.findall(r'"(AmazonEC2|AmazonS3|AWSLambda|AmazonRDS)"', api.content.decode())
    ) <= set(chosen)


def test_accounts_shown_by_name_and_id(signed_in, loaded, aws_csv):
    names = dict(
        duckdb.sql(
            "SELECT DISTINCT SubAccountId, SubAccountName "
            f"FROM read_csv('{aws_csv}', all_varchar=true, header=true)"
        ).fetchall()
    )
    html = signed_in.get(f"/costs/?group_by=account&{WINDOW}").content.decode()
    shown = {row[0] for row in table_rows(html, "cost-table")}
    assert shown == {f"{name} ({account})" for account, name in names.items()}
    # The filter's choices read the same way.
    account, name = sorted(names.items())[0]
    assert f'<option value="{account}">{name} ({account})</option>' in html
    # The API keeps the ids: the values its account filter takes.
    api = signed_in.get(f"/api/v1/costs?group_by=account&{WINDOW}").content.decode()
    assert account in api and f"{name} ({account})" not in api


def test_comparison_with_the_previous_period(signed_in, aws_integration, tmp_path):
    path = generate(
        tmp_path,
        "aws",
        rows=600,
        seed=81,
        months=[datetime.date(2026, 7, 1), datetime.date(2026, 8, 1)],
    )
    services.focus_import(aws_integration, path)
    html = signed_in.get(
        "/costs/?group_by=service&start=2026-08-01&end=2026-08-31&compare=previous"
    ).content.decode()
    assert "1 Aug 2026 – 31 Aug 2026 against 1 Jul 2026 – 31 Jul 2026" in html

    def sums(first: str, last: str) -> dict[str, Decimal]:
        return {
            service: Decimal(str(total))
            for service, total in duckdb.sql(
                "SELECT ServiceName, sum(CAST(EffectiveCost AS DECIMAL(38, 10))) "
                f"FROM read_csv('{path}', all_varchar=true, header=true) "
                f"WHERE substr(ChargePeriodStart, 1, 10) BETWEEN '{first}' AND '{last}' GROUP BY 1"
            ).fetchall()
        }

    now, before = sums("2026-08-01", "2026-08-31"), sums("2026-07-01", "2026-07-31")
    rows = table_rows(html, "comparison-table")
    assert {row[0] for row in rows} == set(now) | set(before)
    for service, current, previous, change, percent in rows:
        a, b = now.get(service, Decimal(0)), before.get(service, Decimal(0))
        assert (current, previous, change) == (money(a), money(b), money(a - b))
        expected = f"{(a - b) / b * 100:+.1f}%".replace("-", "−") if b else "new"
        assert percent == expected
    headers = re.search(r'id="comparison-table">\s*<thead>(.*?)</thead>', html, re.S).group(1)
    assert "Change (USD)" in headers and "Change (%)" in headers


def test_names_of_data_imported_before_are_backfilled(loaded, aws_csv):
    from importlib import import_module

    from django.apps import apps

    from costs.models import DimensionValue

    names = DimensionValue.objects.filter(field="account_name")
    names.delete()  # as before the importer kept them
    stored()  # and the rows in the row store, where they were then
    import_module("costs.migrations.0008_backfill_account_names").backfill(apps, None)
    expected = set(
        duckdb.sql(
            "SELECT DISTINCT SubAccountId, SubAccountName "
            f"FROM read_csv('{aws_csv}', all_varchar=true, header=true)"
        ).fetchall()
    )
    assert set(names.values_list("key", "value")) == expected
    count = names.count()
    import_module("costs.migrations.0008_backfill_account_names").backfill(apps, None)
    assert names.count() == count  # running it again adds nothing
