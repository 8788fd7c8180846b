"""Pages: the cost explorer (and its CSV), integrations, and imports with live progress."""

import csv
import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from costs import services
from costs.models import ImportJob, Integration
from organizations.models import Role
from tests.costrows import stored
from tests.factories import MembershipFactory, UserFactory

WINDOW = "start=2026-08-01&end=2026-09-30"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def viewer_client(client, organization):
    viewer = UserFactory(username="victor")
    MembershipFactory(user=viewer, organization=organization, role=Role.VIEWER)
    client.force_login(viewer)
    return client


@pytest.fixture
def loaded(aws_integration, aws_csv, organization, azure_csv):
    services.focus_import(aws_integration, aws_csv)
    azure = services.integration_create(organization, "azure", "Azure EA")
    services.focus_import(azure, azure_csv)
    return aws_integration


def table_groups(html: str) -> list[str]:
    body = re.search(r'<table class="table" id="cost-table">.*?<tbody>(.*?)</tbody>', html, re.S)
    return re.findall(r"<tr><td>([^<]*)</td>", body.group(1))


def chart_data(html: str) -> dict:
    raw = re.search(r'<script id="cost-chart-data" type="application/json">(.*?)</script>', html)
    return json.loads(raw.group(1))


def test_explorer_requires_sign_in(client):
    response = client.get("/costs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_explorer_groups_and_charts_costs(signed_in, loaded):
    response = signed_in.get(f"/costs/?group_by=provider&granularity=month&{WINDOW}")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<canvas id="cost-chart"' in html
    assert set(table_groups(html)) == {"aws", "azure"}
    chart = chart_data(html)
    assert chart["labels"] == ["Aug 2026", "Sep 2026"]
    assert {dataset["label"] for dataset in chart["datasets"]} == {"aws", "azure"}


def test_explorer_filter_changes_the_table(signed_in, loaded):
    everything = table_groups(signed_in.get(f"/costs/?group_by=service&{WINDOW}").content.decode())
    only_aws = table_groups(
        signed_in.get(f"/costs/?group_by=service&provider=aws&{WINDOW}").content.decode()
    )
    assert set(only_aws) < set(everything)
    assert "AmazonEC2" in only_aws and "Virtual Machines" not in only_aws
    response = signed_in.get(f"/costs/?group_by=service&provider=aws&{WINDOW}")
    chips = re.findall(r'<span class="chip" data-type="([^"]+)"', response.content.decode())
    assert chips == ["start", "end", "provider"]


def test_explorer_filter_choices_come_from_dimension_values(signed_in, loaded):
    html = signed_in.get("/costs/").content.decode()
    service_select = re.search(r'<select name="service".*?</select>', html, re.S).group(0)
    assert "AmazonEC2" in service_select and "Virtual Machines" in service_select
    assert 'value="tag:Environment"' in html


def test_explorer_shows_bad_parameters_instead_of_failing(signed_in, loaded):
    response = signed_in.get("/costs/?group_by=nope&start=2026-99-01")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="query-errors"' in html
    assert "Unknown grouping" in html
    assert 'id="cost-chart-data"' not in html


def test_csv_export_is_the_same_query(signed_in, loaded):
    page = signed_in.get(f"/costs/?group_by=region&granularity=month&provider=aws&{WINDOW}")
    link = re.search(r'id="download-csv" href="([^"]+)"', page.content.decode()).group(1)
    response = signed_in.get(link.replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {row["region"] for row in rows} == set(
        stored().filter(provider="aws").values_list("region_id", flat=True)
    ) - {""} | ({"(none)"} if stored().filter(provider="aws", region_id="").exists() else set())
    assert {row["period"] for row in rows} == {"2026-08-01", "2026-09-01"}
    assert signed_in.get("/costs/export.csv?granularity=hour").status_code == 400


def test_integrations_page_lists_and_creates(signed_in, loaded, organization):
    html = signed_in.get("/integrations/").content.decode()
    assert "AWS payer" in html and "Azure EA" in html
    response = signed_in.post("/integrations/", {"provider": "gcp", "name": "GCP org"})
    assert response.status_code == 302
    assert Integration.objects.filter(organization=organization, provider="gcp").exists()
    filtered = signed_in.get("/integrations/?provider=azure").content.decode()
    assert "Azure EA" in filtered and "AWS payer" not in filtered


def test_viewer_cannot_create_or_upload(viewer_client, aws_integration, aws_csv):
    assert viewer_client.post("/integrations/", {"provider": "gcp"}).status_code == 403
    response = viewer_client.post(
        "/imports/",
        {"integration": aws_integration.pk, "file": SimpleUploadedFile("a.csv", b"x")},
    )
    assert response.status_code == 403
    assert "Upload an export" not in viewer_client.get("/imports/").content.decode()


def test_upload_page_queues_and_runs_an_import(
    signed_in, aws_integration, aws_csv, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            "/imports/",
            {
                "integration": aws_integration.pk,
                "file": SimpleUploadedFile(aws_csv.name, aws_csv.read_bytes()),
            },
        )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.source == ImportJob.Source.UPLOAD
    html = signed_in.get("/imports/").content.decode()
    assert f'id="job-{job.pk}"' in html
    assert "1,500" in html


def test_upload_form_rejects_a_foreign_integration(
    signed_in, aws_integration, other_org_integration
):
    response = signed_in.post(
        "/imports/",
        {"integration": other_org_integration.pk, "file": SimpleUploadedFile("a.csv", b"x")},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_progress_row_polls_while_running_and_stops_when_done(signed_in, aws_integration, aws_csv):
    job = services.import_job_create(aws_integration, paths=[aws_csv])
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    running = signed_in.get(f"/imports/{job.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in running
    assert 'role="progressbar"' in running

    services.import_job_run(ImportJob.objects.get(pk=job.pk))
    done = signed_in.get(f"/imports/{job.pk}/progress/").content.decode()
    assert "hx-trigger" not in done
    assert 'aria-valuenow="100"' in done


def test_progress_of_another_organization_is_404(signed_in, other_org_integration, aws_csv):
    job = services.import_job_create(other_org_integration, paths=[aws_csv])
    assert signed_in.get(f"/imports/{job.pk}/progress/").status_code == 404


def test_rerun_button_queues_a_failed_job(
    signed_in, aws_integration, aws_csv, django_capture_on_commit_callbacks
):
    job = services.import_job_create(aws_integration, paths=[aws_csv])
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, error=f"{job.filename}: the import failed unexpectedly."
    )
    assert "Run again" in signed_in.get("/imports/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(f"/imports/{job.pk}/rerun/")

    assert response.status_code == 302
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.SUCCEEDED


def test_a_file_rejected_by_the_importer_is_not_offered_to_run_again(
    signed_in, aws_integration, aws_csv
):
    job = services.import_job_create(aws_integration, paths=[aws_csv])
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, error="aws.csv line 3: BilledCost is not a number."
    )
    assert "Run again" not in signed_in.get("/imports/").content.decode()
    response = signed_in.post(f"/imports/{job.pk}/rerun/", follow=True)
    assert "upload it again" in response.content.decode()
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.FAILED
