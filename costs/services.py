"""Writes of the cost data: integrations, FOCUS imports, import jobs and demo data."""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from queue import Full, Queue
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.db import DatabaseError, connections, router, transaction
from django.utils import timezone

from core import background
from core.errors import ServiceError

from . import sample_data
from .columnar.store import arrow_rows, write_tables
from .focus import open_integration_files
from .models import DimensionValue, ImportJob, Integration, Provider
from .signals import focus_import_completed, integration_created

logger = logging.getLogger("costline.costs")
T = TypeVar("T")

# Enqueued by name (core.background): the tasks module imports this one.
IMPORT_TASK = "costs.run_import_job"
PROGRESS_TTL_SECONDS = 24 * 3600
DEMO_MONTHS = 4
DEMO_ROWS_PER_PROVIDER = 12_000
DEMO_SEED = 20_260_501
PROVIDER_NAMES = {Provider.AWS: "AWS", Provider.AZURE: "Azure", Provider.GCP: "Google Cloud"}


# --------------------------------------------------------------------------- integrations


def integration_create(organization, provider: str, name: str = "") -> Integration:
    """Create an integration; the segments app reacts to ``integration_created``."""
    if provider not in Provider.values:
        raise ServiceError(
            f"Unknown provider {provider!r}; expected one of {', '.join(Provider.values)}.",
            field="provider",
        )
    name = (name or "").strip() or f"{PROVIDER_NAMES[provider]} billing export"
    if len(name) > Integration._meta.get_field("name").max_length:
        raise ServiceError("Name is too long (at most 200 characters).", field="name")
    with transaction.atomic():
        integration = Integration.objects.create(
            organization=organization, provider=provider, name=name
        )
        integration_created.send(sender=Integration, integration=integration)
    return integration


# --------------------------------------------------------------------------- the importer


@dataclass
class ImportResult:
    rows_read: int = 0
    rows_written: int = 0
    rows_replaced: int = 0
    billing_periods: list[date] = field(default_factory=list)
    months: list[date] = field(default_factory=list)
    seconds: float = 0.0


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


def _in_background(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Yield ``items`` while a thread produces the next ones (Arrow and psycopg release the
    GIL, so parsing the file and writing to the database overlap on two cores)."""
    buffer: Queue = Queue(maxsize=depth)
    stopped = threading.Event()
    finished = object()

    def put(item) -> bool:
        while not stopped.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(finished)
        except BaseException as error:  # handed to the consumer, which raises it
            put(_Failed(error))

    thread = threading.Thread(target=produce, name="focus-import-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is finished:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stopped.set()
        thread.join()


def focus_import(
    integration: Integration,
    sources,
    *,
    filenames: list[str] | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> ImportResult:
    """Import FOCUS files (CSV, gzip CSV or Parquet; paths or seekable binary files).

    ``sources`` is one file or a list of them (an export split in parts). Rows stream, batch
    by batch, into the columnar store's Parquet files (``costs.columnar.store``); the import
    then replaces the integration's rows of every billing period the files contain in one
    transaction (the store's manifest and the periods' dimension values switch together):
    importing the same files twice leaves the same totals, and a file that fails (the error
    names file, line and column) leaves the previous data untouched. The
    ``focus_import_completed`` signal goes out after commit.
    """
    started = time.monotonic()
    readers = open_integration_files(integration, sources, filenames)
    result = ImportResult()
    dimension_values: set[tuple[date, str, str, str]] = set()

    def tables():
        # Parsing and the Arrow conversion run a batch or two ahead in a thread while the
        # Parquet writer compresses (both release the GIL).
        prepared = _in_background(
            (position, reader, batch, arrow_rows(batch))
            for position, reader in enumerate(readers)
            for batch in reader.batches()
        )
        for position, reader, batch, table in prepared:
            result.rows_read += batch.num_rows
            dimension_values.update(batch.dimension_values)
            yield table
            result.rows_written += batch.num_rows
            if progress:
                fraction = (position + reader.progress()) / len(readers)
                progress(result.rows_read, result.rows_written, fraction)

    def replace_dimension_values(written) -> None:
        DimensionValue.objects.filter(
            integration=integration, billing_period_start__in=written.billing_periods
        ).delete()
        DimensionValue.objects.bulk_create(
            [
                DimensionValue(
                    organization_id=integration.organization_id,
                    provider=integration.provider,
                    integration=integration,
                    billing_period_start=period,
                    field=field_name,
                    key=key,
                    value=value,
                )
                for period, field_name, key, value in sorted(dimension_values)
            ],
            batch_size=1000,
        )
        transaction.on_commit(
            lambda: focus_import_completed.send(
                sender=Integration,
                organization_id=integration.organization_id,
                provider=integration.provider,
                integration_id=integration.pk,
                months=sorted({*written.months, *written.replaced_months}),
            )
        )

    written = write_tables(integration, tables(), on_switch=replace_dimension_values)
    result.rows_replaced = written.rows_replaced
    result.billing_periods = written.billing_periods
    result.months = sorted({*written.months, *written.replaced_months})
    result.seconds = time.monotonic() - started
    logger.info(
        "focus import integration=%s organization=%s files=%s rows=%s replaced=%s periods=%s "
        "seconds=%.2f",
        integration.pk,
        integration.organization_id,
        len(readers),
        result.rows_written,
        result.rows_replaced,
        [period.isoformat() for period in result.billing_periods],
        result.seconds,
    )
    return result


# --------------------------------------------------------------------------- import jobs


def _progress_key(job_id) -> str:
    return f"costs:import-progress:{job_id}"


def import_job_create(
    integration: Integration,
    *,
    upload=None,
    paths: list[str | Path] | None = None,
    source: str = ImportJob.Source.UPLOAD,
    created_by=None,
) -> ImportJob:
    """Record an import of an ``upload`` (kept under MEDIA_ROOT/imports/) or of local ``paths``."""
    if (upload is None) == (not paths):
        raise ServiceError("Give either an uploaded file or local paths.", field="file")
    job = ImportJob(
        organization_id=integration.organization_id,
        integration=integration,
        source=source,
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    if upload is not None:
        job.filename = Path(upload.name or "upload.csv").name[:255]
        job.file.save(
            job.filename, upload if hasattr(upload, "chunks") else File(upload), save=False
        )
    else:
        names = [Path(path).name for path in paths]
        job.filename = (names[0] + (f" (+{len(names) - 1} more)" if len(names) > 1 else ""))[:255]
        job.source_paths = [str(Path(path).resolve()) for path in paths]
    job.heartbeat_at = timezone.now()
    job.save()
    return job


def import_job_retry(job: ImportJob) -> ImportJob:
    """Queue a failed job again (e.g. after the database came back)."""
    if job.status != ImportJob.Status.FAILED:
        raise ServiceError("Only a failed import can be run again.", field="status")
    job.status = ImportJob.Status.QUEUED
    job.error = ""
    job.started_at = job.finished_at = None
    job.heartbeat_at = timezone.now()
    job.attempts = 0
    job.save(
        update_fields=["status", "error", "started_at", "finished_at", "heartbeat_at", "attempts"]
    )
    return job


def import_job_enqueue(job: ImportJob) -> None:
    """Run the job in the worker once the surrounding transaction has committed."""
    transaction.on_commit(lambda: background.task(IMPORT_TASK).delay(str(job.pk)))


def _finish(job: ImportJob, **fields) -> ImportJob:
    for name, value in fields.items():
        setattr(job, name, value)
    job.finished_at = timezone.now()
    job.save()
    cache.delete(_progress_key(job.pk))
    return job


def _stale_before():
    """Work with no sign of life since this moment is taken for abandoned by its worker."""
    return timezone.now() - timedelta(seconds=settings.WORK_STALE_SECONDS)


def _claim(job: ImportJob) -> bool:
    """Mark the job running for this worker (``job`` is refreshed); ``False`` when it must not
    run here: it succeeded, or another live worker is running it (its heartbeat is fresh and it
    holds its integration's import lock; e.g. a message delivered a second time after the
    broker's visibility timeout while a long import was still going)."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().filter(pk=job.pk).first()
        running_elsewhere = (
            locked is not None
            and locked.status == ImportJob.Status.RUNNING
            and locked.heartbeat_at is not None
            and locked.heartbeat_at >= _stale_before()
            and _integration_busy(locked.integration_id)
        )
        if locked is None or locked.status == ImportJob.Status.SUCCEEDED or running_elsewhere:
            claimed = False
        else:
            now = timezone.now()
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.RUNNING,
                started_at=now,
                heartbeat_at=now,
                finished_at=None,
                error="",
                rows_read=0,
                rows_written=0,
                rows_replaced=0,
                attempts=locked.attempts + 1,
            )
            claimed = True
    if locked is not None:
        job.refresh_from_db()
    return claimed


class _Heartbeat:
    """Writes a running job's ``heartbeat_at`` at most every few seconds, from a connection of
    its own: the import runs in one transaction, whose writes nobody sees before it commits.

    PostgreSQL only (a second SQLite connection would wait on the import's write lock), and
    only when the job is not inside a caller's transaction (which may hold the job's row).
    """

    def __init__(self, job: ImportJob):
        self.job_id = job.pk
        base = connections[router.db_for_write(ImportJob)]
        self.enabled = base.vendor == "postgresql" and not base.in_atomic_block
        self.base = base
        self.every = max(0.5, min(5.0, settings.WORK_STALE_SECONDS / 4))
        self.last = time.monotonic()
        self.connection = None

    def beat(self) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < self.every:
            return
        self.last = now
        try:
            if self.connection is None:
                self.connection = self.base.copy()
                with self.connection.cursor() as cursor:
                    cursor.execute("SET lock_timeout = '2s'")
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET heartbeat_at = %s WHERE id = %s",
                    [timezone.now(), self.job_id],
                )
        except DatabaseError:
            # A missed heartbeat only makes the job look older; the import itself goes on.
            logger.warning("import job heartbeat failed: %s", self.job_id, exc_info=True)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def import_job_run(job: ImportJob) -> ImportJob:
    """Run (or re-run) an import job; a job that already succeeded is left alone, and so is one
    another live worker is running. A job left ``running`` by a dead worker runs again from the
    start (its import transaction rolled back, so nothing of it was kept)."""
    if not _claim(job):
        return job
    heartbeat = _Heartbeat(job)
    delay = settings.COSTS_IMPORT_PROGRESS_DELAY_SECONDS

    def report(rows_read: int, rows_written: int, fraction: float) -> None:
        cache.set(
            _progress_key(job.pk),
            {"rows_read": rows_read, "rows_written": rows_written, "fraction": fraction},
            PROGRESS_TTL_SECONDS,
        )
        heartbeat.beat()
        if delay:  # test-only: lets a test kill the worker mid-import
            time.sleep(delay)

    try:
        return _import_job_execute(job, report)
    finally:
        heartbeat.close()


def _import_job_execute(job: ImportJob, report) -> ImportJob:
    if job.source == ImportJob.Source.SYNC:
        # A delivery pulled from a cloud's bucket: its files stream from the object store.
        from .connectors.sync import delivery_sources

        try:
            paths, filenames = delivery_sources(job)
        except ServiceError as error:
            return _finish(job, status=ImportJob.Status.FAILED, error=error.message)
    else:
        paths = job.paths
        missing = [path for path in paths if not Path(path).exists()]
        if not paths or missing:
            gone = Path(missing[0]).name if missing else job.filename
            return _finish(
                job,
                status=ImportJob.Status.FAILED,
                error=f"{gone}: the file is no longer available.",
            )
        filenames = [job.filename] if job.file else None
    try:
        result = focus_import(job.integration, paths, filenames=filenames, progress=report)
    except ServiceError as error:  # a file's error, or its source's (e.g. access revoked)
        return _finish(job, status=ImportJob.Status.FAILED, error=error.message)
    except Exception:
        _finish(
            job,
            status=ImportJob.Status.FAILED,
            error=f"{job.filename}: the import failed unexpectedly.",
        )
        raise
    if job.file:
        # The rows are in; only a failed upload is kept, so it can be run again.
        job.file.delete(save=False)
    return _finish(
        job,
        status=ImportJob.Status.SUCCEEDED,
        rows_read=result.rows_read,
        rows_written=result.rows_written,
        rows_replaced=result.rows_replaced,
        billing_periods=[period.isoformat() for period in result.billing_periods],
        months=[month.isoformat() for month in result.months],
    )


def import_jobs_recover() -> dict[str, list[str]]:
    """Queue again the jobs whose worker is gone (no heartbeat for ``WORK_STALE_SECONDS``), or
    fail them with the reason once they were started ``IMPORT_JOB_MAX_ATTEMPTS`` times. A queued
    job as old as that (its message was lost, e.g. the broker was down) is enqueued again."""
    from .selectors import import_jobs_stuck

    outcome: dict[str, list[str]] = {"requeued": [], "failed": []}
    for job_id in import_jobs_stuck().values_list("pk", flat=True):
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
            stale = _stale_before()
            last_sign = job and (job.heartbeat_at or job.started_at or job.created_at)
            if job is None or job.is_finished or last_sign >= stale:
                continue
            if job.status == ImportJob.Status.RUNNING and _integration_busy(job.integration_id):
                continue  # an import of this integration is alive (it holds the lock)
            if job.status == ImportJob.Status.RUNNING:
                reason = (
                    f"{job.filename}: its worker stopped answering (no progress since "
                    f"{last_sign:%Y-%m-%d %H:%M:%S} UTC, run {job.attempts})."
                )
                if job.attempts >= settings.IMPORT_JOB_MAX_ATTEMPTS:
                    _finish(job, status=ImportJob.Status.FAILED, error=reason)
                    outcome["failed"].append(str(job.pk))
                    logger.warning("import job failed, worker lost: %s %s", job.pk, reason)
                    continue
                logger.warning("import job queued again, worker lost: %s %s", job.pk, reason)
                job.status = ImportJob.Status.QUEUED
                job.started_at = None
                cache.delete(_progress_key(job.pk))
            job.heartbeat_at = timezone.now()
            job.save(update_fields=["status", "started_at", "heartbeat_at"])
            import_job_enqueue(job)
            outcome["requeued"].append(str(job.pk))
    return outcome


def _integration_busy(integration_id) -> bool:
    """Whether an import of the integration holds its row lock (PostgreSQL; else ``False``).
    A dead worker's connection is closed by the server, which releases its locks."""
    if connections[router.db_for_write(Integration)].vendor != "postgresql":
        return False
    free = Integration.objects.select_for_update(skip_locked=True).filter(pk=integration_id)
    return not free.exists()


def import_job_progress(job: ImportJob) -> dict:
    """Counts of a job, live while it runs (the worker reports them through the cache)."""
    live = cache.get(_progress_key(job.pk)) if job.status == ImportJob.Status.RUNNING else None
    if live:
        return {**live, "percent": round(100 * live["fraction"])}
    done = job.status == ImportJob.Status.SUCCEEDED
    return {
        "rows_read": job.rows_read,
        "rows_written": job.rows_written,
        "fraction": 1.0 if done else 0.0,
        "percent": 100 if done else 0,
    }


# --------------------------------------------------------------------------- demo data


def demo_data_load(organization, *, today: date | None = None) -> list[Integration]:
    """Generate realistic FOCUS exports for AWS, Azure and GCP and import them.

    ``DEMO_MONTHS`` months ending today, ``DEMO_ROWS_PER_PROVIDER`` rows each, fixed seeds: the
    same rows every time (only their dates follow the calendar).
    """
    today = today or timezone.now().date()
    months = sample_data.recent_months(DEMO_MONTHS, today)
    integrations = []
    with tempfile.TemporaryDirectory(prefix="costline-demo-") as directory:
        for offset, provider in enumerate(Provider.values):
            integration = integration_create(
                organization, provider, f"{PROVIDER_NAMES[provider]} (demo)"
            )
            path = sample_data.write_focus_csv(
                Path(directory) / f"focus_{provider}.csv",
                provider,
                rows=DEMO_ROWS_PER_PROVIDER,
                seed=DEMO_SEED + offset,
                months=months,
                focus_version="1.2" if provider != "gcp" else "1.3",
                until=today,
            )
            job = import_job_run(
                import_job_create(integration, paths=[path], source=ImportJob.Source.DEMO)
            )
            if job.status != ImportJob.Status.SUCCEEDED:
                raise ServiceError(job.error)
            integrations.append(integration)
    return integrations
