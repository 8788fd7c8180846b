"""/v2/virtual_tag_configs through Django's test client (the official client: tests/node)."""

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from costs.columnar.query import ROWS, select_rows
from costs.models import DimensionValue
from tests.factories import IntegrationFactory, OrganizationFactory, api_token, cost_rows
from virtual_tags.models import VirtualTagConfig

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def org():
    return OrganizationFactory()


@pytest.fixture
def client(org):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token(org)[1]}")
    return client


def create(client, **body):
    body.setdefault("overridable", False)
    body.setdefault("backfill_until", "2026-01-01")
    return client.post("/v2/virtual_tag_configs", body, format="json")


def test_create_get_list_update_delete(client, org):
    integration = IntegrationFactory(organization=org)
    cost_rows(integration, [{"service_name": "AmazonS3", "charge_period_start": date(2026, 10, 3)}])
    response = create(
        client,
        key="Cost Center",
        values=[{"filter": "costs.service = 'AmazonS3'", "name": "Storage"}],
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token"].startswith("vtag_")
    assert body["values"][0]["token"].startswith("vtag_val_")
    assert body["values"][0]["name"] == "Storage"
    assert body["backfill_until"] == "2026-01-01"
    token = body["token"]

    assert client.get(f"/v2/virtual_tag_configs/{token}").json() == body
    listed = client.get("/v2/virtual_tag_configs").json()["virtual_tag_configs"]
    assert [item["token"] for item in listed] == [token]
    # Applied (eager Celery): complete, and its values are filter values like any tag's.
    status = client.get(f"/v2/virtual_tag_configs/{token}/status")
    assert status.status_code == 200
    assert status.json() == {
        "token": token,
        "processing": False,
        "providers": [{"provider": "aws", "status": "complete"}],
    }
    assert DimensionValue.objects.filter(key="Cost Center", value="Storage").exists()
    tags = client.get("/v2/tags", {"providers": "aws"}).json()
    assert "Cost Center" in [tag["tag_key"] for tag in tags["tags"]]

    updated = client.put(
        f"/v2/virtual_tag_configs/{token}", {"key": "Cost centre"}, format="json"
    ).json()
    assert updated["key"] == "Cost centre"
    assert updated["values"] == body["values"]
    history = client.get(f"/v2/virtual_tag_configs/{token}/history").json()["history"]
    assert [change["change"] for change in history] == ["updated", "created"]
    assert history[0]["before"]["key"] == "Cost Center"
    assert history[1]["money_moved"][0]["to"] == "Storage"
    assert history[1]["money_moved"][0]["amount"] == "10.00"

    assert client.delete(f"/v2/virtual_tag_configs/{token}").status_code == 204
    assert client.get(f"/v2/virtual_tag_configs/{token}").status_code == 404


def test_values_endpoints(client, org):
    token = create(client, key="Team", values=[{"filter": "", "name": "a"}]).json()["token"]
    created = client.post(
        f"/v2/virtual_tag_configs/{token}/values",
        {"filter": "costs.provider = 'aws'", "percentages": [{"value": "x", "pct": 60}]},
        format="json",
    )
    assert created.status_code == 201, created.content
    value_token = created.json()["token"]
    got = client.get(f"/v2/virtual_tag_configs/{token}/values/{value_token}").json()
    assert got["percentages"] == [{"value": "x", "pct": 60.0}]
    patched = client.patch(
        f"/v2/virtual_tag_configs/{token}/values/{value_token}", {"name": "y"}, format="json"
    ).json()
    assert patched["name"] == "y" and patched["percentages"] == []
    deleted = client.delete(f"/v2/virtual_tag_configs/{token}/values/{value_token}")
    assert deleted.status_code == 204
    assert len(client.get(f"/v2/virtual_tag_configs/{token}").json()["values"]) == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"key": ""}, "key"),
        ({"key": "K", "values": [{"filter": "costs.nope = 'x'", "name": "a"}]}, "values[0].filter"),
        ({"key": "K", "values": [{"filter": ""}]}, "values[0]"),
        (
            {
                "key": "K",
                "values": [
                    {
                        "filter": "",
                        "percentages": [{"value": "a", "pct": 70}, {"value": "b", "pct": 40}],
                    }
                ],
            },
            "values[0].percentages",
        ),
        ({"key": "K", "backfill_until": "soon"}, "backfill_until"),
        (
            {
                "key": "K",
                "values": [
                    {
                        "filter": "",
                        "name": "a",
                        "date_ranges": [{"start_date": "2026-02-01", "end_date": "2026-01-01"}],
                    }
                ],
            },
            "values[0].date_ranges[0].end_date",
        ),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(client, body, field):
    response = create(client, **body)
    assert response.status_code == 400, response.content
    assert any(message.startswith(field) for message in response.json()["errors"]), response.json()
    assert not VirtualTagConfig.objects.exists()


def test_unknown_business_metric_is_404_and_duplicate_key_422(client):
    response = create(
        client, key="K", values=[{"filter": "", "business_metric_token": "bsnss_mtrc_nope"}]
    )
    assert response.status_code == 404
    assert create(client, key="K").status_code == 201
    assert create(client, key="K").status_code == 422


def test_another_organizations_tag_is_404(client):
    other = OrganizationFactory()
    config = VirtualTagConfig.objects.create(
        organization=other, key="Secret", backfill_until=date(2026, 1, 1)
    )
    assert client.get(f"/v2/virtual_tag_configs/{config.token}").status_code == 404
    assert client.delete(f"/v2/virtual_tag_configs/{config.token}").status_code == 404
    assert client.get("/v2/virtual_tag_configs").json() == {"virtual_tag_configs": []}


def test_async_update_and_preview(client, org):
    integration = IntegrationFactory(organization=org)
    cost_rows(
        integration,
        [
            {
                "service_name": "AmazonS3",
                "billed_cost": Decimal("4.00"),
                "charge_period_start": date(2026, 10, 5),
            },
            {
                "service_name": "AmazonEC2",
                "billed_cost": Decimal("6.00"),
                "charge_period_start": date(2026, 10, 6),
            },
        ],
    )
    token = create(
        client, key="Team", values=[{"filter": "costs.service = 'AmazonS3'", "name": "data"}]
    ).json()["token"]
    proposal = {
        "token": token,
        "values": [{"filter": "costs.provider = 'aws'", "name": "platform"}],
    }
    moved = client.post("/v2/virtual_tag_configs/preview", proposal, format="json").json()
    assert moved["money_moved"] == [
        {"from": "", "to": "platform", "amount": "6.00", "currency": "USD", "month": "2026-10"},
        {"from": "data", "to": "platform", "amount": "4.00", "currency": "USD", "month": "2026-10"},
    ]
    # Nothing saved by a preview.
    assert VirtualTagConfig.objects.get(token=token).values[0]["name"] == "data"

    accepted = client.put(f"/v2/virtual_tag_configs/{token}/async", proposal, format="json")
    assert accepted.status_code == 202
    request_id = accepted.json()["request_id"]
    assert accepted.json()["status_url"] == f"/v2/virtual_tag_configs/async/{request_id}"
    assert client.get(f"/v2/virtual_tag_configs/async/{request_id}").status_code == 200
    rows = select_rows(
        org.pk,
        f"SELECT ifNull(tags['Team'], '') AS v, sum(billed_cost) AS c FROM {ROWS} GROUP BY v",
    )
    assert {row["v"]: row["c"] for row in rows} == {"platform": Decimal("10.00")}
    bad = client.put(f"/v2/virtual_tag_configs/{token}/async", {"key": ""}, format="json")
    assert bad.status_code == 400
    assert client.get("/v2/virtual_tag_configs/async/nope").status_code == 404


def test_the_explorer_api_and_archera_filter_values_know_the_tag(client, org):
    integration = IntegrationFactory(organization=org)
    cost_rows(
        integration,
        [
            {
                "service_name": "AmazonS3",
                "billed_cost": Decimal("4.00"),
                "charge_period_start": date(2026, 10, 5),
            },
            {
                "service_name": "AmazonEC2",
                "billed_cost": Decimal("6.00"),
                "charge_period_start": date(2026, 10, 6),
            },
        ],
    )
    create(client, key="Team", values=[{"filter": "costs.service = 'AmazonS3'", "name": "data"}])
    window = {"start": "2026-10-01", "end": "2026-10-31", "granularity": "month"}
    grouped = client.get("/api/v1/costs", {**window, "group_by": "tag:Team"}).json()
    totals = {group["group"]: group["billed_cost"] for group in grouped["groups"]}
    assert Decimal(totals["data"]) == Decimal("4.00")
    filtered = client.get("/api/v1/costs", {**window, "group_by": "service", "tag": "Team=data"})
    assert [group["group"] for group in filtered.json()["groups"]] == ["AmazonS3"]
    values = client.get(f"/beta/v1/org/{org.pk}/segments/filters", {"provider": "aws"}).json()
    assert "data" in values["tags"]["Team"]
