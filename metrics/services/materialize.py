"""Materialization of daily usage: the dirty-day marks writes leave, and the recomputation of
those days into ``UsageDaily`` / ``UsageDailyDistinct`` (by workers, and by readers first)."""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models.functions import TruncDate
from django.utils import timezone

from core import background
from organizations.models import Organization

from ..aggregation import MetricSpec, daily_partials
from ..models import (
    BillableMetric,
    Customer,
    UsageDaily,
    UsageDailyDistinct,
    UsageDirtyDay,
    UsageEvent,
)

logger = logging.getLogger("costline.metrics")

MATERIALIZE_DEBOUNCE_SECONDS = getattr(settings, "METRICS_MATERIALIZE_DEBOUNCE_SECONDS", 5)
# One task run drains at most this many dirty days, then re-enqueues itself.
MATERIALIZE_BATCH = 5000
# Dirty days recomputed per transaction (and per lock set).
MATERIALIZE_TRANSACTION = 500
# metrics.tasks.materialize_usage, enqueued by name (the tasks import these services).
MATERIALIZE_TASK = "metrics.materialize_usage"


# ---------------------------------------------------------------------------------------------
# Dirty-day marks


def insert_many(table: str, columns: list[str], types: list[str], rows: list[tuple], tail: str):
    """One INSERT of many rows. On PostgreSQL the rows travel as one array per column
    (``unnest``), which keeps the statement short whatever the batch size; elsewhere as a
    multi-row VALUES list. ``types`` are the PostgreSQL column types."""
    names = ", ".join(columns)
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{kind}[]" for kind in types)
        sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {tail}"
        params = [list(column) for column in zip(*rows, strict=True)]
    else:
        row = "(" + ", ".join(["%s"] * len(columns)) + ")"
        sql = f"INSERT INTO {table} ({names}) VALUES {', '.join([row] * len(rows))} {tail}"
        params = [value for values in rows for value in values]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if "RETURNING" in tail else None


def mark_dirty(organization: Organization, marks: Iterable[tuple], now) -> None:
    """Upsert the (code, customer, day) marks of a write, in a fixed order.

    An existing mark is not rewritten but it is locked (``DO UPDATE ... WHERE 1 = 0`` locks the
    conflicting row without a new row version): a materialization that holds the mark waits for
    this transaction, so it cannot delete the mark and miss these events. ``marked_at`` keeps the
    oldest pending time.
    """
    if not marks:
        return
    organization_id = UsageDirtyDay._meta.get_field("organization").get_db_prep_value(
        organization.pk, connection
    )
    marked_at = connection.ops.adapt_datetimefield_value(now)
    adapt_date = connection.ops.adapt_datefield_value
    insert_many(
        connection.ops.quote_name(UsageDirtyDay._meta.db_table),
        ["organization_id", "code", "customer_id", "day", "marked_at"],
        ["uuid", "text", "text", "date", "timestamptz"],
        [
            (organization_id, code, customer_id, adapt_date(day), marked_at)
            for code, customer_id, day in sorted(marks)
        ],
        "ON CONFLICT (organization_id, code, customer_id, day) "
        "DO UPDATE SET marked_at = excluded.marked_at WHERE 1 = 0",
    )


def mark_existing_usage_dirty(organization: Organization, code: str) -> None:
    days = (
        UsageEvent.objects.filter(organization=organization, code=code)
        .annotate(day=TruncDate("timestamp"))
        .values_list("customer_id", "day")
        .distinct()
        .order_by()
    )
    marks = {(code, customer_id, day) for customer_id, day in days}
    if marks:
        mark_dirty(organization, marks, timezone.now())
        transaction.on_commit(lambda: usage_materialization_schedule(organization.pk))


# ---------------------------------------------------------------------------------------------
# Recomputation


def _debounce_key(organization_id) -> str:
    return f"metrics:materialize:{organization_id}"


def usage_materialization_schedule(organization_id) -> None:
    """Enqueue one materialization of the organization's dirty days, at most one per interval.

    Called after each ingest commits; bursts of ingests share one task. If the broker is down
    the periodic beat task still drains the days.
    """
    materialize_usage = background.task(MATERIALIZE_TASK)
    key = _debounce_key(organization_id)
    if not cache.add(key, "1", timeout=MATERIALIZE_DEBOUNCE_SECONDS):
        return
    try:
        materialize_usage.apply_async(
            kwargs={"organization_id": str(organization_id)},
            countdown=MATERIALIZE_DEBOUNCE_SECONDS,
        )
    except Exception:  # a broker outage must not fail the ingest that already committed
        cache.delete(key)
        logger.warning("could not enqueue usage materialization", exc_info=True)


def _recompute(dirty: list[UsageDirtyDay]) -> None:
    """Rebuild the daily aggregates of every metric of each dirty (code, customer, day).

    Works per (organization, code, day): one delete and one read of raw events for all the
    customers of that day in the batch.
    """
    by_day: dict[tuple, set[str]] = defaultdict(set)
    for row in dirty:
        by_day[(row.organization_id, row.code, row.day)].add(row.customer_id)
    metrics_of: dict[tuple, list[BillableMetric]] = {}
    daily_rows: list[UsageDaily] = []
    distinct_rows: list[UsageDailyDistinct] = []
    for (organization_id, code, day), customer_ids in by_day.items():
        if (organization_id, code) not in metrics_of:
            metrics_of[(organization_id, code)] = list(
                BillableMetric.objects.filter(organization_id=organization_id, code=code)
            )
        metrics = metrics_of[(organization_id, code)]
        if not metrics:
            continue
        stale = {"metric__in": metrics, "day": day, "customer_id__in": customer_ids}
        UsageDaily.objects.filter(**stale).delete()
        UsageDailyDistinct.objects.filter(**stale).delete()
        start = datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)
        events_of: dict[str, list] = defaultdict(list)
        for customer_id, pk, timestamp, properties in (
            UsageEvent.objects.filter(
                organization_id=organization_id,
                code=code,
                customer_id__in=customer_ids,
                timestamp__gte=start,
                timestamp__lt=start + datetime.timedelta(days=1),
            )
            .order_by()
            .values_list("customer_id", "pk", "timestamp", "properties")
            .iterator(chunk_size=5000)
        ):
            events_of[customer_id].append((pk, timestamp, properties))
        for metric in metrics:
            spec = MetricSpec.of(metric)
            for customer_id, events in events_of.items():
                for (is_other, first, second, group), partial in daily_partials(
                    spec, events
                ).items():
                    bucket = {
                        "metric": metric,
                        "customer_id": customer_id,
                        "day": day,
                        "is_other": is_other,
                        "dimension1": first,
                        "dimension2": second,
                        "usage_group": group,
                    }
                    daily_rows.append(
                        UsageDaily(
                            **bucket,
                            event_count=partial.event_count,
                            value_sum=partial.value_sum,
                            value_min=partial.value_min,
                            value_max=partial.value_max,
                            latest_value=partial.latest_value,
                            latest_at=partial.latest_at,
                            latest_event=partial.latest_event,
                        )
                    )
                    distinct_rows += [
                        UsageDailyDistinct(**bucket, value=value) for value in partial.distinct
                    ]
    UsageDaily.objects.bulk_create(daily_rows, batch_size=2000)
    UsageDailyDistinct.objects.bulk_create(distinct_rows, batch_size=2000)


def usage_materialize_pending(
    *,
    organization_id=None,
    code: str | None = None,
    customer_id: str | None = None,
    day_from: datetime.date | None = None,
    day_to: datetime.date | None = None,
    wait: bool = False,
    limit: int | None = None,
) -> int:
    """Recompute dirty days, a locked batch per transaction; returns how many were done.

    Workers pass ``wait=False`` and skip days another process holds. Readers pass
    ``wait=True``: they wait for days in progress, so that what they read afterwards includes
    every event committed before the read began. Marks are locked in the order ingestion
    writes them, (code, customer, day), so readers and ingests cannot deadlock.
    """
    pending = UsageDirtyDay.objects.all()
    if organization_id is not None:
        pending = pending.filter(organization_id=organization_id)
    if code is not None:
        pending = pending.filter(code=code)
    if customer_id is not None:
        pending = pending.filter(customer_id=customer_id)
    if day_from is not None:
        pending = pending.filter(day__gte=day_from)
    if day_to is not None:
        pending = pending.filter(day__lte=day_to)
    pending = pending.filter(attempts__lt=UsageDirtyDay.MAX_ATTEMPTS).order_by(
        "organization_id", "code", "customer_id", "day"
    )
    done = 0
    failed: set[int] = set()  # tried and failed in this call: not again until the next one
    while limit is None or done < limit:
        size = (
            MATERIALIZE_TRANSACTION if limit is None else min(MATERIALIZE_TRANSACTION, limit - done)
        )
        with transaction.atomic():
            batch = list(
                pending.exclude(pk__in=failed).select_for_update(skip_locked=not wait)[:size]
            )
            if not batch:
                break
            errors = _recompute_isolated(batch)
            UsageDirtyDay.objects.filter(
                pk__in=[row.pk for row in batch if row.pk not in errors]
            ).delete()
            _record_failures(batch, errors)
        failed.update(errors)
        done += len(batch) - len(errors)
    return done


def _is_infrastructure(error: Exception) -> bool:
    """Errors of the database connection itself: retrying later may work, isolating will not."""
    return isinstance(error, OperationalError | InterfaceError)


def _recompute_or_reason(rows: list[UsageDirtyDay]) -> str | None:
    """Recompute ``rows`` on a savepoint; the reason it failed (rolled back), or None."""
    try:
        with transaction.atomic():
            _recompute(rows)
        return None
    except Exception as error:
        if _is_infrastructure(error):
            raise
        return f"{type(error).__name__}: {error}"[:2000]


def _recompute_isolated(batch: list[UsageDirtyDay]) -> dict[int, str]:
    """Recompute a batch; if that fails, each (organization, code, day) on its own savepoint,
    then each customer of a day that still fails, so that one poisoned day never holds back
    another. Returns ``{dirty row pk: reason}`` of the rows that could not be recomputed."""
    if _recompute_or_reason(batch) is None:
        return {}
    groups: dict[tuple, list[UsageDirtyDay]] = defaultdict(list)
    for row in batch:
        groups[(row.organization_id, row.code, row.day)].append(row)
    errors: dict[int, str] = {}
    for rows in groups.values():
        reason = _recompute_or_reason(rows)
        if reason is None:
            continue
        for row in rows:
            reason = _recompute_or_reason([row]) if len(rows) > 1 else reason
            if reason is not None:
                logger.error(
                    "usage materialization failed org=%s code=%s customer=%s day=%s: %s",
                    row.organization_id,
                    row.code,
                    row.customer_id,
                    row.day,
                    reason,
                )
                errors[row.pk] = reason
    return errors


def _record_failures(batch: list[UsageDirtyDay], errors: dict[int, str]) -> None:
    now = timezone.now()
    for row in batch:
        if row.pk in errors:
            row.attempts += 1
            row.last_error = errors[row.pk]
            row.failed_at = now
            if row.attempts >= UsageDirtyDay.MAX_ATTEMPTS:
                logger.error(
                    "usage materialization gave up after %d attempts org=%s code=%s day=%s",
                    row.attempts,
                    row.organization_id,
                    row.code,
                    row.day,
                )
    rows = [row for row in batch if row.pk in errors]
    if rows:
        UsageDirtyDay.objects.bulk_update(rows, ["attempts", "last_error", "failed_at"])


def usage_materialize_retry(rows) -> int:
    """Give days that failed (or were given up) a fresh set of attempts; returns how many."""
    return rows.filter(attempts__gt=0).update(attempts=0, last_error="", failed_at=None)


def usage_materialize_run(organization_id=None) -> int:
    """One task run: drain a batch of dirty days, and enqueue another run if some remain."""
    if organization_id is not None:
        cache.delete(_debounce_key(organization_id))
    done = usage_materialize_pending(organization_id=organization_id, limit=MATERIALIZE_BATCH)
    if done >= MATERIALIZE_BATCH:
        materialize_usage = background.task(MATERIALIZE_TASK)
        transaction.on_commit(
            lambda: materialize_usage.apply_async(
                kwargs={"organization_id": str(organization_id) if organization_id else None}
            )
        )
    return done


def usage_refresh(metric: BillableMetric, start, end, customer: Customer | None = None) -> None:
    """Recompute the dirty days of a metric's range (one customer's, or every customer's) before
    reading it, waiting for any a worker is on: what the reader then selects includes every event
    committed before its request, whether or not a worker has caught up."""
    usage_materialize_pending(
        organization_id=metric.organization_id,
        code=metric.code,
        customer_id=customer.pk if customer else None,
        day_from=start,
        day_to=end,
        wait=True,
    )
