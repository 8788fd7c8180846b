"""An import job sent through Redis to a real Celery worker (needs Redis and PostgreSQL)."""

import time

import pytest

from costs import services
from costs.models import ImportJob
from tests.costrows import stored


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_import_job_runs_in_a_real_worker(celery_worker_process, organization, aws_csv):
    integration = services.integration_create(organization, "aws")
    job = services.import_job_create(integration, paths=[aws_csv])

    services.import_job_enqueue(job)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.2)
    assert job.status == ImportJob.Status.SUCCEEDED, job.error
    assert job.rows_written == stored().filter(integration=integration).count() == 1500
