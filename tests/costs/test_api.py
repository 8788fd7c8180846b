"""The cost-data API: integrations, imports, and GET /api/v1/costs."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from costs import services
from costs.models import ImportJob, Integration
from tests.costrows import stored

from .focus_files import METRICS, monthly_totals


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def loaded(aws_integration, aws_csv, organization, gcp_csv):
    """An organization with AWS and GCP costs in August and September 2026."""
    services.focus_import(aws_integration, aws_csv)
    gcp = services.integration_create(organization, "gcp", "GCP billing")
    services.focus_import(gcp, gcp_csv)
    return {"aws": aws_integration, "gcp": gcp}


def upload(path, name=None):
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="text/csv")


# --------------------------------------------------------------------------- integrations


def test_integrations_need_credentials(api_client):
    response = api_client.get("/api/v1/integrations")
    assert response.status_code == 401


def test_list_integrations_of_my_organization_only(
    token_client, aws_integration, other_org_integration
):
    response = token_client.get("/api/v1/integrations")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "id": str(aws_integration.pk),
            "provider": "aws",
            "name": "AWS payer",
            "created_at": body["results"][0]["created_at"],
            "source": None,
            "sync_every_minutes": None,
            "sync": None,
        }
    ]


def test_list_integrations_filters_by_provider(token_client, organization, aws_integration):
    services.integration_create(organization, "azure", "Azure EA")
    response = token_client.get("/api/v1/integrations?provider=azure")
    assert [item["name"] for item in response.json()["results"]] == ["Azure EA"]
    assert token_client.get("/api/v1/integrations?provider=oracle").status_code == 400


def test_create_integration(token_client, organization):
    response = token_client.post("/api/v1/integrations", {"provider": "gcp", "name": "GCP main"})
    assert response.status_code == 201
    integration = Integration.objects.get(pk=response.json()["id"])
    assert integration.organization == organization
    assert (integration.provider, integration.name) == ("gcp", "GCP main")


def test_create_integration_validates(token_client):
    response = token_client.post("/api/v1/integrations", {"provider": "oracle"}, format="json")
    assert response.status_code == 400
    assert "provider" in response.json()
    response = token_client.post("/api/v1/integrations", {"name": "x" * 300, "provider": "aws"})
    assert response.status_code == 400
    assert "name" in response.json()


def test_read_token_cannot_create(read_client):
    response = read_client.post("/api/v1/integrations", {"provider": "aws"})
    assert response.status_code == 403
    assert not Integration.objects.exists()


def test_integration_detail_and_cross_organization_404(
    token_client, aws_integration, other_org_integration
):
    response = token_client.get(f"/api/v1/integrations/{aws_integration.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == str(aws_integration.pk)
    assert token_client.get(f"/api/v1/integrations/{other_org_integration.pk}").status_code == 404
    assert token_client.get(f"/api/v1/integrations/{uuid.uuid4()}").status_code == 404
    assert token_client.get("/api/v1/integrations/not-a-uuid").status_code == 404


# --------------------------------------------------------------------------- imports


def test_upload_answers_202_with_the_job(
    token_client, aws_integration, aws_csv, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client.post(
            f"/api/v1/integrations/{aws_integration.pk}/imports",
            {"file": upload(aws_csv)},
            format="multipart",
        )
    assert response.status_code == 202
    queued = response.json()
    assert queued["status"] == "queued"
    assert queued["integration_id"] == str(aws_integration.pk)

    detail = token_client.get(f"/api/v1/integrations/{aws_integration.pk}/imports/{queued['id']}")
    assert detail.status_code == 200
    body = detail.json()
    assert body["status"] == "succeeded"
    assert body["rows_read"] == body["rows_written"] == 1500
    assert body["billing_periods"] == ["2026-08-01", "2026-09-01"]
    assert body["filename"] == aws_csv.name
    assert body["error"] == ""
    assert body["started_at"] and body["finished_at"]
    assert body["progress"] == 1.0
    assert stored().count() == 1500
    listing = token_client.get(f"/api/v1/integrations/{aws_integration.pk}/imports")
    assert [job["id"] for job in listing.json()["results"]] == [body["id"]]


def test_upload_of_a_bad_file_gives_a_failed_job_with_the_error(
    token_client, aws_integration, aws_csv, django_capture_on_commit_callbacks
):
    bad = aws_csv.read_bytes().replace(b"BilledCost", b"Cost", 1)
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client.post(
            f"/api/v1/integrations/{aws_integration.pk}/imports",
            {"file": SimpleUploadedFile("broken.csv", bad)},
            format="multipart",
        )
    assert response.status_code == 202
    body = token_client.get(
        f"/api/v1/integrations/{aws_integration.pk}/imports/{response.json()['id']}"
    ).json()
    assert body["status"] == "failed"
    assert body["error"].startswith("broken.csv: line 1 (header): missing mandatory FOCUS column")
    assert not stored().exists()


def test_upload_without_file_is_a_400(token_client, aws_integration):
    response = token_client.post(
        f"/api/v1/integrations/{aws_integration.pk}/imports", {}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json()
    assert not ImportJob.objects.exists()


def test_upload_with_read_token_is_a_403(read_client, aws_integration, aws_csv):
    response = read_client.post(
        f"/api/v1/integrations/{aws_integration.pk}/imports",
        {"file": upload(aws_csv)},
        format="multipart",
    )
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_imports_of_another_organization_are_404(
    token_client, other_token_client, aws_integration, aws_csv, other_org_integration
):
    response = token_client.post(
        f"/api/v1/integrations/{other_org_integration.pk}/imports",
        {"file": upload(aws_csv)},
        format="multipart",
    )
    assert response.status_code == 404
    job = services.import_job_create(aws_integration, paths=[aws_csv])
    assert (
        other_token_client.get(
            f"/api/v1/integrations/{aws_integration.pk}/imports/{job.pk}"
        ).status_code
        == 404
    )
    missing = token_client.get(f"/api/v1/integrations/{aws_integration.pk}/imports/{uuid.uuid4()}")
    assert missing.status_code == 404
    # In the API's words, not the model's class name ("ImportJob").
    assert missing.json() == {"detail": "Import job not found."}
    assert (
        token_client.get(f"/api/v1/integrations/{other_org_integration.pk}/imports").status_code
        == 404
    )


# --------------------------------------------------------------------------- costs


def test_costs_by_provider_per_month_match_duckdb(token_client, loaded, aws_csv, gcp_csv):
    response = token_client.get(
        "/api/v1/costs?group_by=provider&granularity=month&start=2026-08-01&end=2026-09-30"
        "&metric=billed_cost"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["periods"] == ["2026-08-01", "2026-09-01"]
    assert body["currencies"] == ["USD"]
    by_key = {(row["period"], row["group"]): row for row in body["rows"]}
    for provider, path in (("aws", aws_csv), ("gcp", gcp_csv)):
        for month, sums in monthly_totals(path).items():
            row = by_key[(month.isoformat(), provider)]
            for name in METRICS:
                assert Decimal(str(row[name])) == pytest.approx(sums[name], abs=Decimal("0.001"))
    series = {item["group"]: item for item in body["series"]}
    assert set(series) == {"aws", "gcp"}
    expected_aws = sum(sums["billed_cost"] for sums in monthly_totals(aws_csv).values())
    assert Decimal(str(series["aws"]["total"])) == pytest.approx(expected_aws, abs=Decimal("0.001"))


def test_costs_money_is_rounded_to_six_decimals(token_client, loaded, aws_csv, gcp_csv):
    body = token_client.get(
        "/api/v1/costs?group_by=provider&granularity=month&start=2026-08-01&end=2026-09-30"
    ).json()
    by_key = {(row["period"], row["group"]): row for row in body["rows"]}
    for provider, path in (("aws", aws_csv), ("gcp", gcp_csv)):
        for month, sums in monthly_totals(path).items():
            row = by_key[(month.isoformat(), provider)]
            for name in METRICS:
                # Exactly the independent sum, rounded half-even to 6 decimals.
                assert row[name] == float(round(sums[name], 6)), (provider, month, name)


def test_costs_filters_restrict_the_rows(token_client, loaded):
    everything = token_client.get("/api/v1/costs?group_by=service&start=2026-08-01&end=2026-09-30")
    ec2 = token_client.get(
        "/api/v1/costs?group_by=service&start=2026-08-01&end=2026-09-30"
        "&provider=aws&service=AmazonEC2&service=AmazonS3"
    )
    assert {item["group"] for item in ec2.json()["groups"]} == {"AmazonEC2", "AmazonS3"}
    assert len(everything.json()["groups"]) > 2
    tagged = token_client.get(
        "/api/v1/costs?group_by=tag:Environment&start=2026-08-01&end=2026-09-30"
        "&tag=Environment=prod&provider=aws"
    )
    assert [item["group"] for item in tagged.json()["groups"]] == ["prod"]


def test_costs_daily_axis_covers_every_day(token_client, loaded):
    body = token_client.get("/api/v1/costs?granularity=day&start=2026-08-30&end=2026-09-02").json()
    assert body["periods"] == ["2026-08-30", "2026-08-31", "2026-09-01", "2026-09-02"]
    assert all(len(item["values"]) == 4 for item in body["series"])


def test_costs_of_another_organization_are_not_visible(other_token_client, loaded):
    body = other_token_client.get("/api/v1/costs?start=2026-08-01&end=2026-09-30").json()
    assert body["rows"] == []
    assert body["totals"]["billed_cost"] == 0


def test_costs_default_window_ends_today(token_client, loaded):
    body = token_client.get("/api/v1/costs").json()
    assert body["end"] == date.today().isoformat()
    assert body["group_by"] == "service"
    assert body["granularity"] == "day"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("group_by=resource_shoe_size", "group_by"),
        ("group_by=tag:", "group_by"),
        ("granularity=week", "granularity"),
        ("metric=profit", "metric"),
        ("limit=0", "limit"),
        ("start=2026-02-30", "start"),
        ("end=yesterday", "end"),
        ("start=2026-09-10&end=2026-09-01", "end"),
        ("start=2020-01-01&end=2026-01-01&granularity=day", "start"),
    ],
)
def test_costs_bad_parameters_are_clear_400s(token_client, query, field):
    response = token_client.get(f"/api/v1/costs?{query}")
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_costs_query_count_is_constant(token_client, loaded, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = token_client.get(
            "/api/v1/costs?group_by=integration&granularity=day&start=2026-08-01&end=2026-09-30"
        )
    assert {item["group"] for item in response.json()["groups"]} == {
        "AWS payer (aws)",
        "GCP billing (gcp)",
    }
