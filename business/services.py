"""Writes of the business app: business metrics, their values (sent, uploaded or live) and the
cost reports they are attached to.

Every surface (Vantage API, pages, admin, tasks) calls these functions. A write that breaks a
rule raises ``ServiceError`` naming the field and changes nothing (each write is one
transaction).
"""

from __future__ import annotations

import csv
import datetime
import io
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from core import background
from core.errors import ServiceError, UnprocessableError
from metrics import selectors as metric_selectors
from metrics import services as metric_services
from metrics.models import BillableMetric, Customer, UsageDaily
from metrics.segmentation import Matrix
from reports.models import CostReport, DataExport
from reports.services import export_directory
from segments.models import Segment

from . import focus_export, selectors, statements
from .cost_to_serve import CostSource, cost_to_serve, month_range, report_source, segment_source
from .models import (
    CUSTOMER_DIMENSION,
    FOCUS_EXPORT_TYPE,
    LABEL_MAX_LENGTH,
    BusinessMetric,
    BusinessMetricForecastedValue,
    BusinessMetricValue,
    CalculationType,
    CostReportAttachment,
    ImportType,
    SourceKind,
    Statement,
    StatementKind,
    StatementSchedule,
    UnitScale,
)

# business.tasks.refresh_live_values, enqueued by name (the tasks import this module).
LIVE_REFRESH_TASK = "business.refresh_live_values"
# Amounts are Decimal(28, 10): at most 18 digits before the point.
MAX_AMOUNT = Decimal(10) ** 18
OTHER_LABEL = "other"  # usage outside a segmentation matrix, in a dimension-labelled metric
MAX_CSV_ROWS = 200_000


@dataclass(frozen=True)
class ValueRow:
    date: datetime.date
    label: str
    amount: Decimal


@dataclass(frozen=True)
class Attachment:
    """A cost report a metric is attached to, as a service argument."""

    cost_report: object
    unit_scale: str = UnitScale.PER_UNIT
    calculation_type: str = CalculationType.UNIT_COST
    label: str | None = None
    label_filter: tuple[str, ...] = ()


# --------------------------------------------------------------------------- checks


def _user(created_by):
    return created_by if getattr(created_by, "pk", None) else None


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ServiceError("must not be blank.", field="title", code="blank")
    if len(title) > 255:
        raise ServiceError("must be at most 255 characters.", field="title", code="too_long")
    return title


def parse_amount(raw, field: str) -> Decimal:
    """A finite amount that fits the value column (Decimal 28, 10)."""
    if isinstance(raw, bool):
        raise ServiceError(f"'{raw}' is not a number.", field=field, code="invalid")
    try:
        amount = Decimal(str(raw).strip()) if not isinstance(raw, Decimal) else raw
    except (InvalidOperation, ValueError):
        raise ServiceError(f"'{raw}' is not a number.", field=field, code="invalid") from None
    if not amount.is_finite():
        raise ServiceError("must be a finite number.", field=field, code="invalid")
    if abs(amount) >= MAX_AMOUNT:
        raise ServiceError("must be less than 10^18 in size.", field=field, code="too_large")
    return amount.quantize(Decimal("1e-10")) if amount.as_tuple().exponent < -10 else amount


def parse_date(raw, field: str) -> datetime.date:
    """A day from ``YYYY-MM-DD`` or an ISO date-time (its UTC day)."""
    if isinstance(raw, datetime.datetime):
        return raw.astimezone(datetime.UTC).date() if raw.tzinfo else raw.date()
    if isinstance(raw, datetime.date):
        return raw
    text = str(raw or "").strip()
    try:
        if len(text) == 10:
            return datetime.date.fromisoformat(text)
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ServiceError(
            f"'{text}' is not a date (YYYY-MM-DD or an ISO 8601 date-time).",
            field=field,
            code="invalid",
        ) from None
    return moment.astimezone(datetime.UTC).date() if moment.tzinfo else moment.date()


def _check_label(label, field: str) -> str:
    label = "" if label is None else str(label)
    if len(label) > LABEL_MAX_LENGTH:
        raise ServiceError(
            f"a label may have at most {LABEL_MAX_LENGTH} characters.", field=field, code="too_long"
        )
    return label


def value_rows(values: Iterable[dict], field: str = "values") -> list[ValueRow]:
    """Wire values ``{date, amount, label}`` as checked rows; one (date, label) at most once."""
    rows: list[ValueRow] = []
    seen: set[tuple] = set()
    for index, value in enumerate(values):
        where = f"{field}[{index}]"
        if not isinstance(value, dict):
            raise ServiceError("must be an object with date and amount.", field=where)
        if value.get("date") in (None, ""):
            raise ServiceError("is required.", field=f"{where}.date", code="required")
        if value.get("amount") in (None, ""):
            raise ServiceError("is required.", field=f"{where}.amount", code="required")
        row = ValueRow(
            parse_date(value["date"], f"{where}.date"),
            _check_label(value.get("label"), f"{where}.label"),
            parse_amount(value["amount"], f"{where}.amount"),
        )
        key = (row.date, row.label)
        if key in seen:
            raise ServiceError(
                f"{row.date} is given twice for the label '{row.label}'.",
                field=f"{where}.date",
                code="duplicate",
            )
        seen.add(key)
        rows.append(row)
    return rows


def _check_live_source(organization, billable_metric, label_dimension: str) -> str:
    if billable_metric is None:
        if label_dimension:
            raise ServiceError(
                "needs a billable metric to label its usage by.",
                field="label_dimension",
                code="no_source",
            )
        return ""
    if billable_metric.organization_id != organization.pk:
        raise ServiceError("Billable metric not found.", field="billable_metric")
    if billable_metric.is_archived:
        raise UnprocessableError(
            "the billable metric is archived.", field="billable_metric", code="archived"
        )
    label_dimension = (label_dimension or "").strip()
    if label_dimension in ("", CUSTOMER_DIMENSION):
        return label_dimension
    matrix = Matrix.of(billable_metric.segmentation_matrix)
    keys = set(matrix.keys) if matrix else set()
    if label_dimension not in keys:
        allowed = ", ".join(["customer", *sorted(keys)])
        raise ServiceError(
            f"'{label_dimension}' is not a dimension of {billable_metric.code}: use {allowed}.",
            field="label_dimension",
            code="invalid",
        )
    return label_dimension


def _check_price(price, currency: str) -> tuple[Decimal | None, str]:
    if price is not None:
        price = parse_amount(price, "price_per_unit")
        if price < 0:
            raise ServiceError("must not be negative.", field="price_per_unit", code="negative")
    currency = (currency or "USD").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ServiceError(
            "must be a three-letter ISO 4217 code.", field="currency", code="invalid"
        )
    return price, currency


def _check_attachments(organization, attachments: list[Attachment]) -> None:
    seen = set()
    for index, attachment in enumerate(attachments):
        where = f"cost_report_tokens_with_metadata[{index}]"
        report = attachment.cost_report
        if report.organization_id != organization.pk:
            raise ServiceError("Cost report not found.", field=f"{where}.cost_report_token")
        if report.pk in seen:
            raise ServiceError(
                f"{report.token} is listed twice.", field=f"{where}.cost_report_token"
            )
        seen.add(report.pk)
        if attachment.unit_scale not in UnitScale.values:
            raise ServiceError(
                f"must be one of {', '.join(UnitScale.values)}.", field=f"{where}.unit_scale"
            )
        if attachment.calculation_type not in CalculationType.values:
            raise ServiceError(
                f"must be one of {', '.join(CalculationType.values)}.",
                field=f"{where}.calculation_type",
            )
        for label in attachment.label_filter:
            _check_label(label, f"{where}.label_filter")


def business_metric_validate(
    organization, *, title: str, billable_metric, label_dimension: str, price_per_unit, currency
) -> None:
    """The rules of a metric's own fields, for forms that report them before saving."""
    _check_title(title)
    _check_live_source(organization, billable_metric, label_dimension)
    _check_price(price_per_unit, currency)


def _set_attachments(metric: BusinessMetric, attachments: list[Attachment]) -> None:
    CostReportAttachment.objects.filter(metric=metric).delete()
    CostReportAttachment.objects.bulk_create(
        [
            CostReportAttachment(
                metric=metric,
                cost_report=attachment.cost_report,
                unit_scale=attachment.unit_scale,
                calculation_type=attachment.calculation_type,
                label=attachment.label,
                label_filter=list(attachment.label_filter),
            )
            for attachment in attachments
        ]
    )


def _refuse_values_on_live(metric: BusinessMetric, field: str) -> None:
    if metric.is_live:
        raise UnprocessableError(
            "the values of a live business metric come from its billable metric's usage.",
            field=field,
            code="live_metric",
        )


# --------------------------------------------------------------------------- metrics


@transaction.atomic
def business_metric_create(
    organization,
    *,
    title: str,
    created_by=None,
    values: list[ValueRow] = (),
    forecasted_values: list[ValueRow] = (),
    attachments: list[Attachment] = (),
    billable_metric: BillableMetric | None = None,
    label_dimension: str = "",
    price_per_unit=None,
    currency: str = "USD",
    import_type: str | None = None,
) -> BusinessMetric:
    title = _check_title(title)
    label_dimension = _check_live_source(organization, billable_metric, label_dimension)
    price_per_unit, currency = _check_price(price_per_unit, currency)
    _check_attachments(organization, list(attachments))
    if billable_metric is not None and values:
        raise UnprocessableError(
            "a live business metric takes its values from its billable metric.",
            field="values",
            code="live_metric",
        )
    metric = BusinessMetric.objects.create(
        organization=organization,
        title=title,
        created_by=_user(created_by),
        import_type=ImportType.BILLABLE_METRIC
        if billable_metric is not None
        else (import_type or ImportType.API),
        billable_metric=billable_metric,
        label_dimension=label_dimension,
        price_per_unit=price_per_unit,
        currency=currency,
    )
    _set_attachments(metric, list(attachments))
    _upsert(BusinessMetricValue, metric, values)
    _upsert(BusinessMetricForecastedValue, metric, forecasted_values)
    if metric.is_live:
        transaction.on_commit(lambda: _enqueue_full_refresh(metric.pk))
    return metric


@transaction.atomic
def business_metric_update(metric: BusinessMetric, **changes) -> BusinessMetric:
    """Change what ``changes`` names: title, attachments, values (upserted: a (date, label)
    sent replaces the stored amount, others stay), forecasted values, the live source, the
    price."""
    metric = BusinessMetric.objects.select_for_update().get(pk=metric.pk)
    if "title" in changes:
        metric.title = _check_title(changes["title"])
    if "price_per_unit" in changes or "currency" in changes:
        metric.price_per_unit, metric.currency = _check_price(
            changes.get("price_per_unit", metric.price_per_unit),
            changes.get("currency", metric.currency),
        )
    source_changed = "billable_metric" in changes or "label_dimension" in changes
    if source_changed:
        billable_metric = changes.get("billable_metric", metric.billable_metric)
        metric.label_dimension = _check_live_source(
            metric.organization,
            billable_metric,
            changes.get("label_dimension", metric.label_dimension),
        )
        if billable_metric is not None:
            # Uploaded history and usage cannot share one series: the live source replaces it.
            BusinessMetricValue.objects.filter(metric=metric).delete()
            metric.import_type = ImportType.BILLABLE_METRIC
        elif metric.is_live:
            BusinessMetricValue.objects.filter(metric=metric).delete()
            metric.import_type = ImportType.API
        metric.billable_metric = billable_metric
    if changes.get("values"):
        _refuse_values_on_live(metric, "values")
    if "attachments" in changes:
        _check_attachments(metric.organization, list(changes["attachments"]))
        _set_attachments(metric, list(changes["attachments"]))
    metric.save()
    _upsert(BusinessMetricValue, metric, changes.get("values") or ())
    _upsert(BusinessMetricForecastedValue, metric, changes.get("forecasted_values") or ())
    if source_changed and metric.is_live:
        transaction.on_commit(lambda: _enqueue_full_refresh(metric.pk))
    return metric


def business_metric_delete(metric: BusinessMetric) -> None:
    metric.delete()


# --------------------------------------------------------------------------- values


def _upsert(model, metric: BusinessMetric, rows: Iterable[ValueRow]) -> int:
    objects = [
        model(metric=metric, date=row.date, label=row.label, amount=row.amount) for row in rows
    ]
    model.objects.bulk_create(
        objects,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["metric", "date", "label"],
        update_fields=["amount"],
    )
    return len(objects)


def values_upsert(metric: BusinessMetric, rows: list[ValueRow], *, forecasted: bool = False):
    if not forecasted:
        _refuse_values_on_live(metric, "values")
    with transaction.atomic():
        return _upsert(
            BusinessMetricForecastedValue if forecasted else BusinessMetricValue, metric, rows
        )


def values_delete(
    metric: BusinessMetric,
    *,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    label: str | None = None,
    forecasted: bool = False,
) -> int:
    """Delete historical (or forecasted) values in the range; ``label`` None: every label."""
    if start and end and end < start:
        raise ServiceError("must not be before start_date.", field="end_date")
    if not forecasted:
        _refuse_values_on_live(metric, "business_metric_token")
    model = BusinessMetricForecastedValue if forecasted else BusinessMetricValue
    rows = model.objects.filter(metric=metric)
    if start:
        rows = rows.filter(date__gte=start)
    if end:
        rows = rows.filter(date__lte=end)
    if label is not None:
        rows = rows.filter(label=label)
    deleted, _ = rows.delete()
    return deleted


def parse_values_csv(content: bytes | str) -> list[ValueRow]:
    """Vantage's CSV: a header with ``date`` and ``amount`` and an optional ``label``; one row
    per (date, label). Every problem names its line; nothing is stored unless all rows parse."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ServiceError("the file is not UTF-8 text.", field="csv") from None
    reader = csv.DictReader(io.StringIO(content))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    if "date" not in header or "amount" not in header:
        raise ServiceError(
            "the first line must name the columns date and amount (and optionally label).",
            field="csv",
        )
    reader.fieldnames = header
    rows: list[ValueRow] = []
    seen: dict[tuple, int] = {}
    for line, record in enumerate(reader, start=2):
        if len(rows) >= MAX_CSV_ROWS:
            raise ServiceError(f"at most {MAX_CSV_ROWS} rows per file.", field="csv")
        if not any((value or "").strip() for value in record.values() if isinstance(value, str)):
            continue
        try:
            row = ValueRow(
                parse_date(record.get("date"), "csv"),
                _check_label((record.get("label") or "").strip(), "csv"),
                parse_amount(record.get("amount") or "", "csv"),
            )
        except ServiceError as error:
            raise ServiceError(f"line {line}: {error.message}", field="csv") from None
        key = (row.date, row.label)
        if key in seen:
            raise ServiceError(
                f"line {line}: {row.date} with label '{row.label}' is already on line {seen[key]}.",
                field="csv",
            )
        seen[key] = line
        rows.append(row)
    if not rows:
        raise ServiceError("the file has no values.", field="csv")
    return rows


@transaction.atomic
def values_csv_import(metric: BusinessMetric, content, *, forecasted: bool = False) -> int:
    """Upsert the values of an uploaded CSV; the metric becomes a CSV metric."""
    if not forecasted:
        _refuse_values_on_live(metric, "csv")
    rows = parse_values_csv(content)
    count = _upsert(
        BusinessMetricForecastedValue if forecasted else BusinessMetricValue, metric, rows
    )
    if not forecasted and metric.import_type != ImportType.CSV:
        metric.import_type = ImportType.CSV
        metric.save(update_fields=["import_type", "updated_at"])
    return count


# --------------------------------------------------------------------------- live metrics


def _usage_by_label(
    metric: BusinessMetric, start: datetime.date, end: datetime.date, customers: list[Customer]
) -> dict[tuple[datetime.date, str], Decimal]:
    """The billable metric's daily usage of ``customers`` per (day, label), after unit
    conversion, as ``metrics.selectors.metric_usage`` computes an invoice's lines."""
    source = metric.billable_metric
    by_label: dict[tuple[datetime.date, str], Decimal] = defaultdict(Decimal)
    for customer_usage in metric_selectors.metric_usage(
        source, window=metric_selectors.DAY, start=start, end=end, customers=customers
    ):
        for period in customer_usage["periods"]:
            if metric.label_dimension == CUSTOMER_DIMENSION:
                by_label[(period["start"], customer_usage["external_id"])] += period["total"]
            elif not metric.label_dimension:
                by_label[(period["start"], "")] += period["total"]
            else:
                for line in period["lines"]:
                    label = (
                        OTHER_LABEL
                        if line["other"]
                        else (line["dimensions"] or {}).get(metric.label_dimension, "")
                    )
                    by_label[(period["start"], label)] += line["value"]
    return by_label


def live_values_refresh(
    metric: BusinessMetric,
    start: datetime.date,
    end: datetime.date,
    customer_ids: Iterable[str] | None = None,
) -> int:
    """Rebuild a live metric's values from its billable metric's materialized daily usage.

    Each (date, label) is recomputed from the usage aggregates and replaces what was stored,
    so a late event or a replayed batch changes the value exactly once, however often this
    runs. Refreshes of one metric are serialized (row lock). ``customer_ids`` narrows a
    customer-labelled refresh to those customers' labels; other labellings recompute every
    customer of the days (a label sums several customers). Returns the rows written.
    """
    if not metric.is_live or metric.billable_metric_id is None:
        return 0
    with transaction.atomic():
        metric = (
            BusinessMetric.objects.select_for_update()
            .select_related("billable_metric")
            .get(pk=metric.pk)
        )
        source = metric.billable_metric
        with_usage = metric_selectors.customers_with_usage(source, start, end)
        stale = BusinessMetricValue.objects.filter(metric=metric, date__gte=start, date__lte=end)
        if customer_ids is not None and metric.label_dimension == CUSTOMER_DIMENSION:
            narrowed = Customer.objects.filter(
                organization_id=metric.organization_id, pk__in=list(customer_ids)
            )
            stale = stale.filter(label__in=list(narrowed.values_list("external_id", flat=True)))
            with_usage = with_usage.filter(pk__in=narrowed.values("pk"))
        by_label = _usage_by_label(metric, start, end, list(with_usage))
        stale.delete()
        rows = [
            BusinessMetricValue(metric=metric, date=day, label=label, amount=amount)
            for (day, label), amount in sorted(by_label.items())
            if amount
        ]
        BusinessMetricValue.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def live_metric_bring_up_to_date(
    metric: BusinessMetric, start: datetime.date, end: datetime.date
) -> None:
    """Before reading a live metric: materialize its pending usage days (waiting for a worker
    on them), then rebuild the range's values, so the read includes every committed event."""
    if not metric.is_live or metric.billable_metric is None:
        return
    metric_services.usage_refresh(metric.billable_metric, start, end)
    live_values_refresh(metric, start, end)


def live_metrics_refresh_days(marks: Iterable[tuple]) -> int:
    """Refresh the live metrics fed by the materialized (organization, code, customer, day)
    marks: per metric, the days and customers the marks name. Returns the metrics refreshed."""
    by_source: dict[tuple, list[tuple]] = defaultdict(list)
    for organization_id, code, customer_id, day in marks:
        day = day if isinstance(day, datetime.date) else datetime.date.fromisoformat(day)
        by_source[(str(organization_id), code)].append((customer_id, day))
    refreshed = 0
    for (organization_id, code), days in by_source.items():
        live = BusinessMetric.objects.filter(
            organization_id=organization_id,
            import_type=ImportType.BILLABLE_METRIC,
            billable_metric__code=code,
        ).select_related("billable_metric")
        for metric in live:
            start = min(day for _, day in days)
            end = max(day for _, day in days)
            live_values_refresh(metric, start, end, {customer for customer, _ in days})
            refreshed += 1
    return refreshed


def live_metric_refresh_all(metric_id: int) -> int:
    """Rebuild every value of a live metric (after it is created or its source changes)."""
    metric = BusinessMetric.objects.select_related("billable_metric").filter(pk=metric_id).first()
    if metric is None or not metric.is_live or metric.billable_metric is None:
        return 0
    span = UsageDaily.objects.filter(metric=metric.billable_metric).aggregate(
        first=Min("day"), last=Max("day")
    )
    first, last = span["first"], span["last"]
    if first is None:
        BusinessMetricValue.objects.filter(metric=metric).delete()
        return 0
    return live_values_refresh(metric, first, last)


def _enqueue_full_refresh(metric_id: int) -> None:
    background.task(LIVE_REFRESH_TASK).delay(metric_id=metric_id)


# Materialized days wait here until their transaction commits, then go to one task.
_pending = threading.local()


def usage_day_materialized(organization_id, code: str, customer_id: str, day) -> None:
    """Called for every dirty usage day materialization clears (``UsageDirtyDay`` deleted):
    the live metrics fed by that code are refreshed once the transaction commits."""
    marks = getattr(_pending, "marks", None)
    if marks is None:
        marks = _pending.marks = set()
    marks.add((str(organization_id), code, customer_id, day.isoformat()))
    # One callback per mark: the first to run sends them all, the others find nothing (a
    # rolled-back transaction drops its callbacks, so none may be counted on alone).
    transaction.on_commit(_flush_materialized_days)


def _flush_materialized_days() -> None:
    marks = sorted(getattr(_pending, "marks", set()))
    _pending.marks = set()
    if not marks:
        return
    # Most usage feeds no business metric: queue nothing for it.
    fed = BusinessMetric.objects.filter(
        import_type=ImportType.BILLABLE_METRIC,
        organization_id__in={mark[0] for mark in marks},
        billable_metric__code__in={mark[1] for mark in marks},
    )
    if fed.exists():
        background.task(LIVE_REFRESH_TASK).delay(marks=[list(mark) for mark in marks])


# --------------------------------------------------------------------------- unit cost exports

# business.tasks.run_unit_costs_export, enqueued by name.
UNIT_COSTS_EXPORT_TASK = "business.run_unit_costs_export"
UNIT_COSTS_EXPORT_TYPE = "unit_costs"
UNIT_COSTS_COLUMNS = (
    "date",
    "business_metric_token",
    "business_metric_title",
    "calculation_type",
    "cost",
    "currency",
    "business_metric_amount",
    "scale",
    "unit_cost_amount",
)


def unit_costs_export_create(
    organization, *, report, start: datetime.date, end: datetime.date, date_bin: str, created_by
) -> DataExport:
    """Record an export of a report's unit costs (a Vantage DataExport of type ``unit_costs``,
    read back through ``/v2/data_exports``) and queue its task once committed."""
    export = DataExport.objects.create(
        organization=organization,
        workspace=report.workspace,
        export_type=UNIT_COSTS_EXPORT_TYPE,
        attributes={
            "cost_report_token": report.token,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "date_bin": date_bin,
        },
        created_by=_user(created_by),
    )
    transaction.on_commit(lambda: background.task(UNIT_COSTS_EXPORT_TASK).delay(export.pk))
    return export


def unit_costs_export_run(export_id: int) -> DataExport | None:
    """Compute the unit costs an export recorded and write ``unit_costs.csv`` and
    ``unit_costs.parquet``. Safe to run twice: a finished export is left as it is."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    export = DataExport.objects.select_related("organization").filter(pk=export_id).first()
    if export is None or export.status != DataExport.Status.PENDING:
        return export
    attributes = export.attributes
    try:
        report = CostReport.objects.filter(
            organization=export.organization, token=attributes["cost_report_token"]
        ).first()
        if report is None:
            raise ServiceError("the cost report was deleted.", field="cost_report_token")
        start = datetime.date.fromisoformat(attributes["start_date"])
        end = datetime.date.fromisoformat(attributes["end_date"])
        for attachment in report.business_metric_attachments.select_related("metric"):
            live_metric_bring_up_to_date(attachment.metric, start, end)
        rows = selectors.unit_costs(
            report, start=start, end=end, date_bin=attributes["date_bin"], today=end
        )
        directory = export_directory(export)
        directory.mkdir(parents=True, exist_ok=True)
        table = [
            (
                row.date,
                row.metric.token,
                row.metric.title,
                row.calculation_type,
                row.cost,
                row.currency,
                row.business_metric_amount,
                row.scale,
                row.amount,
            )
            for row in rows
        ]
        with open(directory / "unit_costs.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(UNIT_COSTS_COLUMNS)
            writer.writerows(table)
        money = pa.decimal128(38, 10)
        types = (
            pa.date32(),
            pa.string(),
            pa.string(),
            pa.string(),
            money,
            pa.string(),
            money,
            pa.int64(),
            money,
        )
        pq.write_table(
            pa.table(
                {
                    name: pa.array([row[index] for row in table], type=types[index])
                    for index, name in enumerate(UNIT_COSTS_COLUMNS)
                }
            ),
            directory / "unit_costs.parquet",
        )
        export.files = ["unit_costs.csv", "unit_costs.parquet"]
        export.status = DataExport.Status.COMPLETED
    except ServiceError as error:
        export.status = DataExport.Status.FAILED
        export.error = error.message
    export.completed_at = timezone.now()
    export.save(update_fields=["files", "status", "error", "completed_at"])
    return export


# --------------------------------------------------------------------------- statements

# business.tasks.generate_statement / send_monthly_statements, enqueued by name.
STATEMENT_TASK = "business.generate_statement"


def statement_directory(statement: Statement) -> Path:
    return Path(settings.MEDIA_ROOT) / "business_statements" / statement.token


def _source_of(statement_or_schedule) -> CostSource:
    organization = statement_or_schedule.organization
    token = statement_or_schedule.source_token
    if statement_or_schedule.source_kind == SourceKind.SEGMENT:
        segment = Segment.objects.filter(organization=organization, token=token).first()
        if segment is None:
            raise ServiceError("the segment was deleted.", field="source")
        return segment_source(segment)
    report = CostReport.objects.filter(organization=organization, token=token).first()
    if report is None:
        raise ServiceError("the cost report was deleted.", field="source")
    return report_source(report, timezone.now().date())


def statement_create(
    organization,
    *,
    kind: str,
    month: datetime.date,
    source_kind: str,
    source_token: str,
    source_name: str,
    metric: BusinessMetric,
    customer: Customer | None = None,
    created_by=None,
    email_to: str = "",
) -> Statement:
    """Record a statement and queue the task that writes its CSV and PDF (and mails it)."""
    if kind not in StatementKind.values:
        raise ServiceError(
            f"must be one of {', '.join(StatementKind.values)}.", field="kind", code="invalid"
        )
    if source_kind not in SourceKind.values:
        raise ServiceError("must be segment or report.", field="source", code="invalid")
    if metric.organization_id != organization.pk:
        raise ServiceError("Business metric not found.", field="metric")
    if customer is not None and customer.organization_id != organization.pk:
        raise ServiceError("Customer not found.", field="customer")
    statement = Statement.objects.create(
        organization=organization,
        kind=kind,
        month=month.replace(day=1),
        source_kind=source_kind,
        source_token=source_token,
        source_name=source_name,
        metric=metric,
        customer=customer,
        created_by=_user(created_by),
        emailed_to=email_to,
    )
    transaction.on_commit(lambda: background.task(STATEMENT_TASK).delay(statement.pk))
    return statement


def statement_generate(statement_id: int) -> Statement | None:
    """Compute a statement's month and write ``statement.csv`` and ``statement.pdf``; mail them
    to ``emailed_to`` when set. Safe to run twice: a finished statement is left as it is."""
    statement = (
        Statement.objects.select_related("organization", "metric", "customer")
        .filter(pk=statement_id)
        .first()
    )
    if statement is None or statement.status != Statement.Status.PENDING:
        return statement
    try:
        if statement.metric is None:
            raise ServiceError("the business metric was deleted.", field="metric")
        start, end = month_range(statement.month)
        live_metric_bring_up_to_date(statement.metric, start, end)
        split = cost_to_serve(_source_of(statement), statement.metric, start, end)
        content = statements.content_of(
            split, statement.kind, statement.customer.external_id if statement.customer else None
        )
        directory = statement_directory(statement)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "statement.csv").write_text(statements.render_csv(content), encoding="utf-8")
        (directory / "statement.pdf").write_bytes(statements.render_pdf(content))
        statement.files = ["statement.csv", "statement.pdf"]
        statement.total = content.total
        statement.currency = split.currency
        statement.status = Statement.Status.COMPLETED
    except ServiceError as error:
        statement.status = Statement.Status.FAILED
        statement.error = error.message
    statement.completed_at = timezone.now()
    statement.save(update_fields=["files", "total", "currency", "status", "error", "completed_at"])
    if statement.status == Statement.Status.COMPLETED and statement.emailed_to:
        statement_email(statement, content.title)
    return statement


def statement_email(statement: Statement, subject: str) -> None:
    """Mail a finished statement, its CSV and PDF attached (Django's mail backend)."""
    directory = statement_directory(statement)
    message = EmailMessage(
        subject=subject,
        body=(
            f"Attached: the {statement.kind} statement for {statement.month:%B %Y} "
            f"({statement.source_name}), total {statement.total} {statement.currency}.\n"
        ),
        to=[address for address in statement.emailed_to.split(",") if address],
    )
    message.attach("statement.csv", (directory / "statement.csv").read_bytes(), "text/csv")
    message.attach("statement.pdf", (directory / "statement.pdf").read_bytes(), "application/pdf")
    message.send()


def statements_send_monthly(today: datetime.date | None = None) -> int:
    """For every active schedule not yet sent for the month just ended: queue its statements
    (the source's, and each customer's when asked), mailed when written. Returns how many."""
    today = today or timezone.now().date()
    month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    queued = 0
    schedules = StatementSchedule.objects.filter(active=True).select_related(
        "organization", "metric"
    )
    for schedule in schedules.exclude(last_month_sent__gte=month):
        with transaction.atomic():
            try:
                source = _source_of(schedule)
            except ServiceError:
                continue
            common = {
                "kind": schedule.kind,
                "month": month,
                "source_kind": schedule.source_kind,
                "source_token": schedule.source_token,
                "source_name": source.name,
                "metric": schedule.metric,
            }
            recipients = ",".join(schedule.recipient_list)
            statement_create(schedule.organization, **common, email_to=recipients)
            queued += 1
            if schedule.per_customer:
                start, end = month_range(month)
                for line in cost_to_serve(source, schedule.metric, start, end).customers:
                    statement_create(
                        schedule.organization,
                        **common,
                        customer=line.customer,
                        email_to=line.customer.email or recipients,
                    )
                    queued += 1
            schedule.last_month_sent = month
            schedule.save(update_fields=["last_month_sent"])
    return queued


# --------------------------------------------------------------------------- FOCUS exports

# business.tasks.run_focus_export, enqueued by name.
FOCUS_EXPORT_TASK = "business.run_focus_export"


def focus_export_create(
    organization, *, segment: Segment, metric: BusinessMetric, month: datetime.date, created_by
) -> DataExport:
    """Record a FOCUS export of a segment's month, allocated to customers (a DataExport, read
    back through ``/v2/data_exports`` or the page), and queue its task once committed."""
    if segment.organization_id != organization.pk or metric.organization_id != organization.pk:
        raise ServiceError("Segment or business metric not found.", field="source")
    export = DataExport.objects.create(
        organization=organization,
        workspace=segment.workspace,
        export_type=FOCUS_EXPORT_TYPE,
        attributes={
            "segment_token": segment.token,
            "business_metric_token": metric.token,
            "month": month.replace(day=1).isoformat(),
        },
        created_by=_user(created_by),
    )
    transaction.on_commit(lambda: background.task(FOCUS_EXPORT_TASK).delay(export.pk))
    return export


def focus_export_run(export_id: int) -> DataExport | None:
    """Write an allocated-costs FOCUS export's CSV and Parquet. Safe to run twice."""
    export = DataExport.objects.select_related("organization").filter(pk=export_id).first()
    if export is None or export.status != DataExport.Status.PENDING:
        return export
    attributes = export.attributes
    try:
        segment = Segment.objects.filter(
            organization=export.organization, token=attributes["segment_token"]
        ).first()
        metric = BusinessMetric.objects.filter(
            organization=export.organization, token=attributes["business_metric_token"]
        ).first()
        if segment is None or metric is None:
            raise ServiceError("the segment or the business metric was deleted.", field="source")
        start, end = month_range(datetime.date.fromisoformat(attributes["month"]))
        live_metric_bring_up_to_date(metric, start, end)
        columns, rows = focus_export.allocated_rows(segment, metric, start, end)
        export.files = focus_export.write_files(export_directory(export), columns, rows)
        export.status = DataExport.Status.COMPLETED
    except ServiceError as error:
        export.status = DataExport.Status.FAILED
        export.error = error.message
    export.completed_at = timezone.now()
    export.save(update_fields=["files", "status", "error", "completed_at"])
    return export
