"""Services of the sources: save one, test it, sync it (new or changed deliveries become import
jobs), sync the ones that are due, and open a sync job's files for the importer."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlparse

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from core.errors import ServiceError

from ..models import ImportJob, Integration, IntegrationSource, SourceDelivery
from . import discovery, secrets
from .stores import SourceError, store_for  # noqa: F401 - SourceError is part of this API

logger = logging.getLogger("costline.costs")

# What each type of source keeps in ``settings`` (shown again) and in ``secrets`` (never).
FIELDS = {
    IntegrationSource.Type.S3: (
        ["bucket", "prefix", "region", "endpoint_url", "access_key_id", "role_arn"],
        ["secret_access_key"],
    ),
    IntegrationSource.Type.AZURE_BLOB: (
        ["account_url", "container", "prefix"],
        ["connection_string", "account_key", "sas_token"],
    ),
    IntegrationSource.Type.GCS: (["bucket", "prefix", "endpoint_url"], ["service_account_json"]),
}
REQUIRED = {
    IntegrationSource.Type.S3: ["bucket"],
    IntegrationSource.Type.GCS: ["bucket"],
    IntegrationSource.Type.AZURE_BLOB: ["container"],
}
MAX_EVERY_MINUTES = 7 * 24 * 60
# A delivery whose import failed is tried again by the next syncs, this many times in all.
DELIVERY_ATTEMPTS = 3


def source_save(
    integration: Integration, data: dict | None, *, sync_every_minutes: int | None = None
) -> IntegrationSource | None:
    """Set (or, with ``data`` None, remove) the integration's source.

    Secrets left out of ``data`` keep their saved value, so a PATCH of the prefix does not need
    the secret again; a secret given as '' is removed."""
    if data is None:
        IntegrationSource.objects.filter(integration=integration).delete()
        return None
    source_type = data.get("type")
    if source_type not in FIELDS:
        supported = ", ".join(FIELDS)
        raise ServiceError(
            f"Unknown source type {source_type!r}; expected {supported}.", field="source"
        )
    plain, secret = FIELDS[source_type]
    unknown = sorted(set(data) - {"type", *plain, *secret})
    if unknown:
        raise ServiceError(
            f"Unknown field(s) for a {source_type} source: {', '.join(unknown)}.", field="source"
        )
    existing = IntegrationSource.objects.filter(integration=integration).first()
    same_type = existing is not None and existing.type == source_type
    settings = {name: str(data.get(name) or "").strip() for name in plain}
    missing = [name for name in REQUIRED[source_type] if not settings[name]]
    if missing:
        raise ServiceError(f"A {source_type} source needs {', '.join(missing)}.", field="source")
    kept = secrets.decrypt(existing.secrets) if same_type else {}
    values = {name: data[name] if name in data else kept.get(name, "") for name in secret}
    custom_endpoint = settings.get("endpoint_url") or (
        source_type == IntegrationSource.Type.AZURE_BLOB
        and settings["account_url"]
        and not _azure_host(settings["account_url"])
    )
    if custom_endpoint and not django_settings.COSTS_SOURCE_CUSTOM_ENDPOINTS:
        raise ServiceError(
            "Custom endpoints are turned off here (COSTS_SOURCE_CUSTOM_ENDPOINTS); use the "
            "cloud's own endpoint.",
            field="source",
        )
    if settings.get("endpoint_url") and not settings["endpoint_url"].startswith(
        ("http://", "https://")
    ):
        raise ServiceError("endpoint_url must start with http:// or https://.", field="source")
    if source_type == IntegrationSource.Type.S3 and bool(settings["access_key_id"]) != bool(
        values["secret_access_key"]
    ):
        raise ServiceError(
            "Give both access_key_id and secret_access_key, or neither (default chain).",
            field="source",
        )
    if source_type == IntegrationSource.Type.AZURE_BLOB:
        given = [name for name in secret if values[name]]
        if len(given) > 1:
            raise ServiceError(
                "Give one of connection_string, account_key or sas_token.", field="source"
            )
        if not values["connection_string"] and not settings["account_url"]:
            raise ServiceError(
                "An azure_blob source needs account_url (or a connection_string).", field="source"
            )
    source = existing or IntegrationSource(integration=integration)
    if not same_type:
        source.last_imported_delivery = source.last_error = ""
    source.type = source_type
    source.settings = settings
    source.secrets = secrets.encrypt(values)
    if sync_every_minutes is not None:
        source.sync_every_minutes = sync_every_minutes
    if not 1 <= source.sync_every_minutes <= MAX_EVERY_MINUTES:
        raise ServiceError(
            f"sync_every_minutes must be between 1 and {MAX_EVERY_MINUTES}.",
            field="sync_every_minutes",
        )
    source.next_run_at = timezone.now()
    source.save()
    return source


def _azure_host(url: str) -> bool:
    host = urlparse(url).hostname or ""
    return host.endswith(".blob.core.windows.net")


def _store(source: IntegrationSource):
    return store_for(source.type, source.settings, secrets.decrypt(source.secrets))


def deliveries_discover(source: IntegrationSource) -> list[discovery.Delivery]:
    """Every delivery the source holds now (raises ``SourceError`` when it cannot be read)."""
    store = _store(source)
    if source.type == IntegrationSource.Type.S3:
        return discovery.aws_deliveries(store, source.settings.get("prefix", ""))
    if source.type == IntegrationSource.Type.AZURE_BLOB:
        return discovery.azure_deliveries(store, source.settings.get("prefix", ""))
    if source.type == IntegrationSource.Type.GCS:
        return discovery.dated_folder_deliveries(store, source.settings.get("prefix", ""))
    raise SourceError(f"Sources of type {source.type!r} are not supported yet.")


def _imported(source: IntegrationSource, delivery: discovery.Delivery) -> bool:
    """Taken already: a job of it is queued, running or done, or it failed too often."""
    taken = source.deliveries.filter(key=delivery.key, fingerprint=delivery.fingerprint)
    failed = taken.filter(job__status=ImportJob.Status.FAILED).count()
    return failed >= DELIVERY_ATTEMPTS or taken.count() > failed


def source_test(integration: Integration) -> dict:
    """What a sync would import now, and what it would skip (already imported or incomplete)."""
    source = _source_of(integration)
    found = deliveries_discover(source)
    plan = {"new": [], "unchanged": [], "incomplete": []}
    for delivery in found:
        entry = delivery.as_dict()
        if delivery.problems or not delivery.files:
            entry["problems"] = delivery.problems or ["the manifest lists no data files"]
            plan["incomplete"].append(entry)
        elif _imported(source, delivery):
            plan["unchanged"].append(entry)
        else:
            plan["new"].append(entry)
    return plan


def _source_of(integration: Integration) -> IntegrationSource:
    source = IntegrationSource.objects.filter(integration=integration).first()
    if source is None:
        raise ServiceError("This integration has no source to pull exports from.", field="source")
    return source


def source_sync(integration: Integration, *, enqueue: bool = True) -> list[ImportJob]:
    """Queue one import job per new or changed delivery; record the check (or its error).

    A delivery already taken (same period, same fingerprint) is skipped; one whose job failed is
    queued again by the next syncs, ``DELIVERY_ATTEMPTS`` times in all."""
    from .. import services

    source = _source_of(integration)
    now = timezone.now()
    try:
        found = deliveries_discover(source)
    except ServiceError as error:  # the source cannot be read, or its secrets
        IntegrationSource.objects.filter(pk=source.pk).update(
            last_checked_at=now,
            last_error=error.message,
            next_run_at=now + timedelta(minutes=source.sync_every_minutes),
        )
        logger.warning("source sync failed integration=%s: %s", integration.pk, error.message)
        raise
    jobs = []
    with transaction.atomic():
        source = IntegrationSource.objects.select_for_update().get(pk=source.pk)
        problems = []
        for delivery in found:
            if delivery.problems or not delivery.files:
                problems.append(
                    f"{delivery.describe()}: " + "; ".join(delivery.problems or ["no data files"])
                )
                continue
            if _imported(source, delivery):
                continue
            job = ImportJob.objects.create(
                organization_id=integration.organization_id,
                integration=integration,
                source=ImportJob.Source.SYNC,
                filename=f"{delivery.describe()}"[:255],
                source_paths=[
                    f"{source.type}://{_container(source)}/{f.key}" for f in delivery.files
                ],
                heartbeat_at=now,
            )
            SourceDelivery.objects.create(
                source=source,
                key=delivery.key,
                fingerprint=delivery.fingerprint,
                objects_list=delivery.as_dict()["files"],
                job=job,
            )
            source.last_imported_delivery = delivery.describe()[:500]
            jobs.append(job)
            if enqueue:
                services.import_job_enqueue(job)
        source.last_checked_at = now
        source.last_error = "\n".join(problems)
        source.next_run_at = now + timedelta(minutes=source.sync_every_minutes)
        source.save()
    logger.info("source sync integration=%s jobs=%s", integration.pk, len(jobs))
    return jobs


def _container(source: IntegrationSource) -> str:
    return source.settings.get("bucket") or source.settings.get("container", "")


def sources_due(now=None) -> list:
    """Integrations whose source is due a sync."""
    now = now or timezone.now()
    due = IntegrationSource.objects.filter(next_run_at__lte=now) | IntegrationSource.objects.filter(
        next_run_at=None
    )
    return list(due.values_list("integration_id", flat=True))


def delivery_sources(job: ImportJob) -> tuple[list, list[str]]:
    """The files of a sync job's delivery, opened for streaming, with their names."""
    delivery = SourceDelivery.objects.select_related("source").filter(job=job).first()
    if delivery is None:
        raise SourceError(f"{job.filename}: its delivery is no longer known (source removed?).")
    newer = SourceDelivery.objects.filter(
        source=delivery.source, key=delivery.key, created_at__gt=delivery.created_at
    ).exists()
    if newer:
        # Queued jobs may run out of order: an older delivery must not overwrite a newer one.
        raise SourceError(
            f"{job.filename}: superseded by a newer delivery of {delivery.key}; not imported."
        )
    store = _store(delivery.source)
    items = [
        discovery.StoredObject(item["key"], item["etag"], item["size"], timezone.now())
        for item in delivery.objects_list
    ]
    return [store.open(item) for item in items], [item.key for item in items]
