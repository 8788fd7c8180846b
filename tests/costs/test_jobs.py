"""Import jobs: the Celery task's lifecycle, progress, re-runs and the admin action."""

from pathlib import Path

import pytest
from django.contrib.admin.sites import site
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from costs import services, tasks
from costs.admin import ImportJobAdmin
from costs.models import ImportJob
from tests.costrows import stored


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="text/csv")


def test_job_runs_from_queued_to_succeeded_with_counts(aws_integration, aws_csv, user):
    job = services.import_job_create(aws_integration, upload=upload(aws_csv), created_by=user)
    assert job.status == ImportJob.Status.QUEUED
    kept_file = Path(job.file.path)
    assert kept_file.is_relative_to(Path(job.file.storage.location) / "imports")

    assert tasks.run_import_job(str(job.pk)) == "succeeded"

    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.rows_read == job.rows_written == stored().count() == 1500
    assert job.billing_periods == ["2026-08-01", "2026-09-01"]
    assert job.started_at <= job.finished_at
    assert job.error == ""
    assert not kept_file.exists(), "a successful upload is not kept"
    assert services.import_job_progress(job) == {
        "rows_read": 1500,
        "rows_written": 1500,
        "fraction": 1.0,
        "percent": 100,
    }


def test_failed_job_keeps_the_error_and_the_file(aws_integration, aws_csv, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(aws_csv.read_text().replace("BilledCost", "Billed", 1))
    job = services.import_job_create(aws_integration, upload=upload(bad))

    tasks.run_import_job(str(job.pk))

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.error.startswith("bad.csv: line 1 (header): missing mandatory FOCUS column")
    assert Path(job.file.path).exists()
    assert not stored().exists()


def test_enqueue_runs_the_task_after_commit(
    aws_integration, aws_csv, django_capture_on_commit_callbacks
):
    job = services.import_job_create(aws_integration, upload=upload(aws_csv))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.import_job_enqueue(job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED, "nothing runs before the commit"
    callbacks[0]()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED


def test_task_leaves_a_succeeded_job_alone(aws_integration, aws_csv):
    job = services.import_job_create(aws_integration, paths=[aws_csv])
    tasks.run_import_job(str(job.pk))
    finished_at = ImportJob.objects.get(pk=job.pk).finished_at

    assert tasks.run_import_job(str(job.pk)) == "succeeded"
    assert ImportJob.objects.get(pk=job.pk).finished_at == finished_at
    assert tasks.run_import_job("00000000-0000-0000-0000-000000000000") == "missing"


def test_progress_of_a_running_job_comes_from_the_worker(aws_integration, aws_csv):
    job = services.import_job_create(aws_integration, paths=[aws_csv])
    job.status = ImportJob.Status.RUNNING
    job.save()
    cache.set(
        services._progress_key(job.pk), {"rows_read": 10, "rows_written": 5, "fraction": 0.25}
    )
    assert services.import_job_progress(job) == {
        "rows_read": 10,
        "rows_written": 5,
        "fraction": 0.25,
        "percent": 25,
    }


def test_progress_is_reported_while_importing(aws_integration, aws_csv, monkeypatch):
    from costs import focus

    monkeypatch.setattr(focus, "CSV_BLOCK_BYTES", 64 * 1024)
    reports = []
    services.focus_import(aws_integration, aws_csv, progress=lambda *args: reports.append(args))
    assert len(reports) > 3
    assert [r[0] for r in reports] == sorted(r[0] for r in reports)
    assert reports[-1][0] == reports[-1][1] == 1500
    assert 0 < reports[0][2] < reports[-1][2] <= 1


def test_rerun_of_a_failed_job_imports_again(aws_integration, aws_csv):
    job = services.import_job_create(aws_integration, paths=[aws_csv])
    job.status = ImportJob.Status.FAILED
    job.error = "database went away"
    job.save()

    services.import_job_retry(job)
    tasks.run_import_job(str(job.pk))

    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.error == ""
    with pytest.raises(services.ServiceError):
        services.import_job_retry(job)


def test_job_whose_file_is_gone_fails_clearly(aws_integration, tmp_path):
    path = tmp_path / "gone.csv"
    path.write_text("x")
    job = services.import_job_create(aws_integration, paths=[path])
    path.unlink()

    services.import_job_run(job)

    assert job.status == ImportJob.Status.FAILED
    assert job.error == "gone.csv: the file is no longer available."


def test_admin_action_reruns_failed_jobs_only(
    aws_integration, aws_csv, user, django_capture_on_commit_callbacks
):
    failed = services.import_job_create(aws_integration, paths=[aws_csv])
    ImportJob.objects.filter(pk=failed.pk).update(status=ImportJob.Status.FAILED, error="boom")
    succeeded = services.import_job_create(aws_integration, paths=[aws_csv])
    ImportJob.objects.filter(pk=succeeded.pk).update(status=ImportJob.Status.SUCCEEDED)
    request = RequestFactory().post("/admin/costs/importjob/")
    request.user = user
    request._messages = []
    admin = ImportJobAdmin(ImportJob, site)
    admin.message_user = lambda request, message, *args, **kwargs: request._messages.append(message)

    with django_capture_on_commit_callbacks(execute=True):
        admin.rerun_failed(request, ImportJob.objects.all())

    failed.refresh_from_db()
    assert failed.status == ImportJob.Status.SUCCEEDED
    assert stored().count() == 1500
    assert request._messages == ["Queued 1 import(s) again; skipped 1."]


def test_import_jobs_are_enqueued_by_the_tasks_registered_name():
    # costs.tasks imports the services; the services find the task by its name.
    from core import background

    assert background.task(services.IMPORT_TASK) is tasks.run_import_job._get_current_object()
