"""Business metrics: their definition, cost report attachments and values (sent, uploaded
as CSV). A write that breaks a rule raises ``ServiceError`` naming the field and changes
nothing."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction

from core import background
from core.errors import ServiceError, UnprocessableError
from metrics.models import BillableMetric
from metrics.segmentation import Matrix

from ..models import (
    CUSTOMER_DIMENSION,
    LABEL_MAX_LENGTH,
    BusinessMetric,
    BusinessMetricForecastedValue,
    BusinessMetricValue,
    CalculationType,
    CostReportAttachment,
    ImportType,
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


def acting_user(created_by):
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
    """Wire values ``{date, amount, label}`` as checked rows, one per (date, label)."""
    seen: dict[tuple, ValueRow] = {}
    for index, value in enumerate(values):
        where = f"{field}[{index}]"
        if not isinstance(value, dict):
            raise ServiceError("must be an object with date and amount.", field=where)
        if value.get("date") in (None, ""):
            raise ServiceError("is required.", field=f"{where}.date", code="required")
        if value.get("amount") in (None, ""):
            raise ServiceError("is required.", field=f"{where}.amount", code="required")
        if not isinstance(value["amount"], int | float | Decimal) or isinstance(
            value["amount"], bool
        ):
            raise ServiceError("must be a number.", field=f"{where}.amount")
        if not isinstance(value["date"], str | datetime.date):
            raise ServiceError("must be a date like 2026-08-01.", field=f"{where}.date")
        if value.get("label") is not None and not isinstance(value["label"], str):
            raise ServiceError("must be a string or null.", field=f"{where}.label")
        row = ValueRow(
            parse_date(value["date"], f"{where}.date"),
            _check_label(value.get("label"), f"{where}.label"),
            parse_amount(value["amount"], f"{where}.amount"),
        )
        # Values apply in order, as upserts: a (date, label) given twice keeps the last amount.
        seen[(row.date, row.label)] = row
    return list(seen.values())


def _check_live_source(organization, billable_metric, label_dimension: str) -> str:
    if billable_metric is None:
        return ""  # a label dimension means something for a live metric only
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
        created_by=acting_user(created_by),
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


def _enqueue_full_refresh(metric_id: int) -> None:
    background.task(LIVE_REFRESH_TASK).delay(metric_id=metric_id)
