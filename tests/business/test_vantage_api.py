"""The Vantage business-metric and unit-cost surface, through Django's test client."""

from __future__ import annotations

import datetime
from decimal import Decimal

import duckdb
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from business.models import BusinessMetric, BusinessMetricValue

pytestmark = pytest.mark.django_db

URL = "/v2/business_metrics"


def create(client, **body):
    response = client.post(URL, {"title": "Requests", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_with_values_reads_them_back_newest_first(token_client):
    metric = create(
        token_client,
        values=[
            {"date": "2026-08-01T00:00:00Z", "amount": 100, "label": "acme"},
            {"date": "2026-08-02", "amount": 250.5, "label": "acme"},
            {"date": "2026-08-02", "amount": 7},
        ],
    )
    assert metric["token"].startswith("bsnss_mtrc_")
    assert metric["import_type"] is None
    assert metric["cost_report_tokens_with_metadata"] == []
    body = token_client.get(f"{URL}/{metric['token']}/values").json()
    assert body["values"] == [
        {"date": "2026-08-02T00:00:00Z", "amount": "7.0", "label": None},
        {"date": "2026-08-02T00:00:00Z", "amount": "250.5", "label": "acme"},
        {"date": "2026-08-01T00:00:00Z", "amount": "100.0", "label": "acme"},
    ]
    labels = token_client.get(f"{URL}/{metric['token']}/labels").json()
    assert labels["labels"] == [{"value": "acme"}]
    monthly = token_client.get(
        f"{URL}/{metric['token']}/values", {"date_bin": "month", "label_values": "acme"}
    ).json()
    assert monthly["values"] == [
        {"date": "2026-08-01T00:00:00Z", "amount": "350.5", "label": "acme"}
    ]


def test_a_day_given_twice_keeps_the_last_amount(token_client):
    metric = create(
        token_client,
        values=[{"date": "2026-08-01", "amount": 1}, {"date": "2026-08-01T00:00:00Z", "amount": 2}],
    )
    stored = BusinessMetricValue.objects.get(metric__token=metric["token"])
    assert stored.amount == 2


def test_update_upserts_values_and_keeps_the_others(token_client):
    metric = create(token_client, values=[{"date": "2026-08-01", "amount": 1}])
    response = token_client.put(
        f"{URL}/{metric['token']}",
        {
            "title": "Renamed",
            "values": [{"date": "2026-08-01", "amount": 5}, {"date": "2026-08-03", "amount": 2}],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Renamed"
    stored = BusinessMetricValue.objects.filter(metric__token=metric["token"]).order_by("date")
    assert [(v.date.day, v.amount) for v in stored] == [(1, Decimal(5)), (3, Decimal(2))]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"values": [{"date": "yesterday", "amount": 1}]}, "values[0].date"),
        ({"values": [{"date": "2026-08-01", "amount": "ten"}]}, "values[0].amount"),
        ({"values": [{"date": "2026-08-01", "amount": "10"}]}, "values[0].amount"),
        ({"values": [{"date": "2026-08-01", "amount": 1e30}]}, "values[0].amount"),
        ({"values": [{"amount": 1}]}, "values[0].date"),
        ({"values": [{"date": "2026-08-01", "amount": 1, "label": "x" * 256}]}, "values[0].label"),
        (
            {"label_dimension": "region", "billable_metric_token": "bm_nope"},
            "billable_metric_token",
        ),
        ({"cost_report_tokens_with_metadata": [{"cost_report_token": "rprt_nope"}]}, None),
        ({"billable_metric_token": "bm_nope"}, "billable_metric_token"),
        ({"price_per_unit": -1}, "price_per_unit"),
        ({"price_per_unit": True}, "price_per_unit"),
        ({"price_per_unit": "1e3"}, "price_per_unit"),
        ({"price_per_unit": " 2"}, "price_per_unit"),
        ({"currency": "dollars"}, "currency"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(token_client, body, field):
    response = token_client.post(URL, {"title": "Requests", **body}, format="json")
    assert response.status_code in (400, 404, 422), response.content
    errors = response.json()["errors"]
    if field:
        assert errors[0].startswith(f"{field}:"), errors
    assert not BusinessMetric.objects.exists()


def test_csv_upload_replaces_days_and_reports_bad_lines(token_client):
    metric = create(token_client, values=[{"date": "2026-08-01", "amount": 1}])
    url = f"{URL}/{metric['token']}/values.csv"
    good = b"date,amount,label\n2026-08-01,10,\n2026-08-02,20,acme\n"
    response = token_client.put(
        url, {"csv": SimpleUploadedFile("v.csv", good, "text/csv")}, format="multipart"
    )
    assert response.status_code == 200, response.content
    assert response.json()["import_type"] == "csv"
    values = token_client.get(f"{URL}/{metric['token']}/values").json()["values"]
    assert {(v["date"][:10], v["amount"], v["label"]) for v in values} == {
        ("2026-08-01", "10.0", None),
        ("2026-08-02", "20.0", "acme"),
    }
    bad = b"date,amount\n2026-08-03,5\n2026-08-04,abc\n"
    response = token_client.put(
        url, {"csv": SimpleUploadedFile("v.csv", bad, "text/csv")}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("csv: line 3:")
    assert not BusinessMetricValue.objects.filter(date=datetime.date(2026, 8, 3)).exists()


def test_delete_values_by_range_and_label(token_client):
    metric = create(
        token_client,
        values=[
            {"date": "2026-08-01", "amount": 1, "label": "a"},
            {"date": "2026-08-02", "amount": 1, "label": "a"},
            {"date": "2026-08-02", "amount": 1, "label": "b"},
            {"date": "2026-08-02", "amount": 1},
        ],
    )
    url = f"{URL}/{metric['token']}/values"
    response = token_client.delete(
        url, {"start_date": "2026-08-02", "end_date": "2026-08-02", "label": "a"}, format="json"
    )
    assert response.json() == {"deleted_count": 1}
    assert token_client.delete(url + "?label=").json() == {"deleted_count": 1}
    assert token_client.delete(url).json() == {"deleted_count": 2}


def test_forecasted_must_be_a_boolean_and_nothing_is_deleted_otherwise(token_client):
    metric = create(
        token_client,
        values=[{"date": "2026-08-01", "amount": 1}],
        forecasted_values=[{"date": "2026-09-01", "amount": 2}],
    )
    url = f"{URL}/{metric['token']}/values"
    for bad in ("-58800", "yes", "maybe"):
        response = token_client.delete(f"{url}?forecasted={bad}")
        assert response.status_code == 400, (bad, response.content)
        assert response.json()["errors"][0].startswith("forecasted:"), response.json()
    response = token_client.delete(url, {"forecasted": 7}, format="json")
    assert response.status_code == 400
    assert token_client.get(url).json()["values"] != []
    assert token_client.get(f"{URL}/{metric['token']}/forecasted_values").json()["values"]
    assert token_client.delete(url, {"forecasted": True}, format="json").json() == {
        "deleted_count": 1
    }
    assert token_client.delete(f"{url}?forecasted=FALSE").json() == {"deleted_count": 1}


def test_csv_upload_refuses_a_file_that_is_not_csv_text_or_a_bad_flag(token_client):
    metric = create(token_client, values=[{"date": "2026-08-01", "amount": 1}])
    url = f"{URL}/{metric['token']}/values.csv"
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
    response = token_client.put(
        url, {"csv": SimpleUploadedFile("v.png", png, "image/png")}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == ["csv: the file is not UTF-8 text."]
    good = b"date,amount\n2026-08-02,3\n"
    response = token_client.put(
        url,
        {"csv": SimpleUploadedFile("v.csv", good, "text/csv"), "forecasted": "-1"},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("forecasted:")
    assert not BusinessMetricValue.objects.filter(date=datetime.date(2026, 8, 2)).exists()


def test_labels_are_a_page_of_label_objects(token_client):
    metric = create(
        token_client,
        values=[
            {"date": "2026-08-01", "amount": 1, "label": "b"},
            {"date": "2026-08-01", "amount": 1, "label": "a"},
        ],
    )
    body = token_client.get(f"{URL}/{metric['token']}/labels?limit=1").json()
    assert set(body) == {"links", "labels"}
    assert len(body["labels"]) == 1 and set(body["labels"][0]) == {"value"}
    assert body["links"]["next"] is not None


def test_forecast_extends_a_linear_series_exactly(token_client):
    values = [{"date": f"2026-08-{day:02d}", "amount": 10 + 2 * day} for day in range(1, 31)]
    metric = create(token_client, values=values)
    forecast = token_client.get(f"{URL}/{metric['token']}/forecasted_values").json()["values"]
    assert len(forecast) == 30
    assert forecast[0] == {"date": "2026-08-31T00:00:00Z", "amount": "72.0", "label": None}
    assert Decimal(forecast[-1]["amount"]) == 10 + 2 * 60


def test_forecasted_values_sent_are_returned_as_they_are(token_client):
    metric = create(
        token_client,
        values=[{"date": "2026-08-01", "amount": 1}],
        forecasted_values=[{"date": "2026-09-01", "amount": 42}],
    )
    forecast = token_client.get(f"{URL}/{metric['token']}/forecasted_values").json()["values"]
    assert forecast == [{"date": "2026-09-01T00:00:00Z", "amount": "42.0", "label": None}]


def test_another_organizations_metric_is_a_404(token_client, other_token_client):
    metric = create(token_client)
    for method, suffix in (
        ("get", ""),
        ("put", ""),
        ("delete", ""),
        ("get", "/values"),
        ("get", "/labels"),
    ):
        response = getattr(other_token_client, method)(
            f"{URL}/{metric['token']}{suffix}", {}, format="json"
        )
        assert response.status_code == 404, (method, suffix)
    assert BusinessMetric.objects.filter(token=metric["token"]).exists()


def test_read_token_cannot_write(read_client):
    response = read_client.post(URL, {"title": "x"}, format="json")
    assert response.status_code == 403


def test_unit_costs_divide_the_report_cost_by_the_metric_per_day(
    token_client, imported, report, organization
):
    days = [datetime.date(2026, 8, 1) + datetime.timedelta(days=n) for n in range(61)]
    values = [
        {"date": d.isoformat(), "amount": 1000 + n, "label": "acme"} for n, d in enumerate(days)
    ]
    values += [{"date": d.isoformat(), "amount": 5, "label": "other"} for d in days]
    metric = create(
        token_client,
        values=values,
        cost_report_tokens_with_metadata=[
            {
                "cost_report_token": report.token,
                "unit_scale": "per_thousand",
                "label_filter": ["acme"],
            }
        ],
    )
    assert metric["cost_report_tokens_with_metadata"][0]["unit_scale"] == "per_thousand"
    body = token_client.get(
        "/v2/unit_costs",
        {"cost_report_token": report.token, "date_bin": "month", "order": "asc"},
    ).json()
    rows = body["unit_costs"]
    assert [row["date"] for row in rows] == ["2026-08-01", "2026-09-01"]
    # Independent: the month's EffectiveCost of every row the report counts (all but
    # credits and corrections, by its default settings), summed by DuckDB over the file.
    costs = dict(
        duckdb.sql(
            f"""
            SELECT substr(ChargePeriodStart, 1, 7),
                   sum(CAST(EffectiveCost AS DECIMAL(38, 10)))
            FROM read_csv('{imported}', all_varchar=true, header=true)
            WHERE coalesce(ChargeClass, '') <> 'Correction' AND ChargeCategory <> 'Credit'
            GROUP BY 1
            """
        ).fetchall()
    )
    august_amount = sum(1000 + n for n in range(31))
    assert Decimal(rows[0]["business_metric_amount"]) == august_amount
    assert rows[0]["scale"] == 1000
    assert Decimal(rows[0]["cost"]) == costs["2026-08"]
    expected = costs["2026-08"] / august_amount * 1000
    assert abs(Decimal(rows[0]["unit_cost_amount"]) - expected) < Decimal("1e-9")


def test_a_live_metric_through_the_api_answers_usage_per_customer(
    token_client, organization, api_calls
):
    from metrics import services as metric_services

    from .conftest import ingest

    metric_services.customer_create(organization, name="Acme", external_id="acme")
    response = token_client.post(
        URL,
        {
            "title": "API calls",
            "billable_metric_token": api_calls.pk,
            "label_dimension": "customer",
            "price_per_unit": "0.002",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    metric = response.json()
    assert metric["import_type"] == "billable_metric"
    assert metric["billable_metric_token"] == api_calls.pk
    assert metric["label_dimension"] == "customer"
    assert metric["price_per_unit"] == "0.002"
    ingest(
        organization,
        [
            {
                "id": "e1",
                "code": "api_calls",
                "customer_id": "acme",
                "timestamp": "2026-11-02T08:00:00Z",
                "properties": {"calls": 12, "region": "eu"},
            }
        ],
    )
    values = token_client.get(f"{URL}/{metric['token']}/values").json()["values"]
    assert values == [{"date": "2026-11-02T00:00:00Z", "amount": "12.0", "label": "acme"}]
    refused = token_client.put(
        f"{URL}/{metric['token']}",
        {"values": [{"date": "2026-11-03", "amount": 1}]},
        format="json",
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0].startswith("values:")


def test_gross_margin_and_raw_calculation_types(token_client, imported, report):
    days = [datetime.date(2026, 8, 1) + datetime.timedelta(days=n) for n in range(31)]
    revenue = [{"date": d.isoformat(), "amount": 5000} for d in days]
    margin = create(
        token_client,
        title="Revenue",
        values=revenue,
        cost_report_tokens_with_metadata=[
            {"cost_report_token": report.token, "calculation_type": "gross_margin"}
        ],
    )
    raw = create(
        token_client,
        title="Raw",
        values=revenue,
        cost_report_tokens_with_metadata=[
            {"cost_report_token": report.token, "calculation_type": "raw_business_metric"}
        ],
    )
    rows = token_client.get(
        "/v2/unit_costs",
        {
            "cost_report_token": report.token,
            "date_bin": "month",
            "start_date": "2026-08-01",
            "end_date": "2026-08-31",
        },
    ).json()["unit_costs"]
    by_token = {row["business_metric_token"]: row for row in rows}
    cost = Decimal(by_token[margin["token"]]["cost"])
    expected = (Decimal(155000) - cost) / Decimal(155000) * 100
    assert abs(Decimal(by_token[margin["token"]]["unit_cost_amount"]) - expected) < Decimal("1e-9")
    assert by_token[margin["token"]]["calculation_type"] == "gross_margin"
    assert by_token[raw["token"]]["unit_cost_amount"] == "155000.0"
