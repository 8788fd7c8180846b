"""Uploading a FOCUS export: the page says what happened, consistently with the table, and only
offers to run again what could succeed the second time."""

import pytest
from playwright.sync_api import expect

from costs.models import ImportJob
from tests.costs.focus_files import generate
from tests.factories import IntegrationFactory


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_an_upload_reports_its_outcome_and_reload_imports_nothing_twice(
    signed_in_page, live_server, organization, tmp_path
):
    integration = IntegrationFactory(organization=organization, provider="aws", name="AWS payer")
    good = generate(tmp_path, "aws", rows=50, seed=3)
    bad = tmp_path / "broken.csv"
    bad.write_text("BilledCost,ChargePeriodStart\nlots,yesterday\n")
    page = signed_in_page

    page.goto(f"{live_server.url}/imports/")
    page.select_option("#upload-form select[name=integration]", str(integration.pk))
    page.set_input_files("#upload-form input[name=file]", str(good))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/imports/")
    message = page.locator(".messages").inner_text()
    job = ImportJob.objects.get(filename=good.name)
    row = page.locator(f"#job-{job.pk}")
    # The embedded worker runs the import at once: the message and the row agree.
    assert job.status == ImportJob.Status.SUCCEEDED
    assert "succeeded" in message and "queued" not in message
    expect(row.locator(".badge")).to_have_text("Succeeded")

    page.reload()
    assert ImportJob.objects.count() == 1

    page.select_option("#upload-form select[name=integration]", str(integration.pk))
    page.set_input_files("#upload-form input[name=file]", str(bad))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/imports/")
    failed = ImportJob.objects.get(filename="broken.csv")
    assert failed.status == ImportJob.Status.FAILED
    assert "failed" in page.locator(".messages").inner_text()
    failed_row = page.locator(f"#job-{failed.pk}")
    expect(failed_row.locator(".badge")).to_have_text("Failed")
    # The same file would fail the same way: no "Run again".
    assert failed_row.get_by_role("button", name="Run again").count() == 0
