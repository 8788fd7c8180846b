"""Exports written by Celery tasks into reports' ``DataExport`` (read back through
``/v2/data_exports``): unit costs, and FOCUS exports of costs allocated to customers."""

from __future__ import annotations

import csv
import datetime

from django.db import transaction
from django.utils import timezone

from core import background
from core.errors import ServiceError
from reports.models import CostReport, DataExport
from reports.services import export_directory
from segments.models import Segment

from .. import focus_export, selectors
from ..cost_to_serve import month_range
from ..models import (
    FOCUS_EXPORT_TYPE,
    BusinessMetric,
)
from .definitions import acting_user
from .live import live_metric_bring_up_to_date

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
        created_by=acting_user(created_by),
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
        created_by=acting_user(created_by),
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
