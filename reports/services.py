"""Writes of reports, folders, saved filters and data exports.

Filters arrive as trees (parsed and validated by ``segments.filter_tree``) and are stored in
their canonical JSON form. A write that breaks a rule raises ``ServiceError`` naming the field
and changes nothing.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import background
from core.errors import ServiceError, UnprocessableError
from segments.filter_tree import Node, to_json

from . import costs
from .models import CostReport, DataExport, DateBin, DateInterval, Folder, SavedFilter

# Enqueued by name (core.background): the tasks module imports this one.
EXPORT_TASK = "reports.run_data_export"

REPORT_SETTINGS = (
    "include_credits",
    "include_refunds",
    "include_discounts",
    "include_tax",
    "amortize",
    "unallocated",
    "aggregate_by",
    "show_previous_period",
    "complete_period",
)
REPORT_FIELDS = {
    "title",
    "folder",
    "workspace",
    "groupings",
    "date_interval",
    "start_date",
    "end_date",
    "previous_period_start_date",
    "previous_period_end_date",
    "date_bin",
    "chart_type",
    "chart_settings",
    *REPORT_SETTINGS,
}


def _stored(tree: Node | None):
    return to_json(tree) if tree is not None else None


def _check_same_workspace(items, workspace, field: str) -> None:
    for item in items:
        if item.workspace_id != workspace.pk:
            raise UnprocessableError(
                f"{item.token} belongs to another workspace than this one.", field=field
            )


# --------------------------------------------------------------------------- saved filters


def saved_filter_create(
    organization, *, workspace, title: str, filter_tree: Node | None, created_by=None
) -> SavedFilter:
    return SavedFilter.objects.create(
        organization=organization,
        workspace=workspace,
        title=title,
        filter_tree=_stored(filter_tree),
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )


def saved_filter_update(saved_filter: SavedFilter, **changes) -> SavedFilter:
    if "title" in changes:
        saved_filter.title = changes["title"]
    if "filter_tree" in changes:
        saved_filter.filter_tree = _stored(changes["filter_tree"])
    saved_filter.save()
    return saved_filter


def saved_filter_delete(saved_filter: SavedFilter) -> None:
    saved_filter.delete()


# --------------------------------------------------------------------------- folders


def _check_parent(folder: Folder | None, parent: Folder | None, workspace) -> None:
    if parent is None:
        return
    if parent.workspace_id != workspace.pk:
        raise UnprocessableError(
            "the parent folder belongs to another workspace.", field="parent_folder_token"
        )
    ancestor, seen = parent, set()
    while ancestor is not None and ancestor.pk not in seen:
        if folder is not None and ancestor.pk == folder.pk:
            raise UnprocessableError(
                "a folder cannot be inside itself or one of its sub-folders.",
                field="parent_folder_token",
            )
        seen.add(ancestor.pk)
        ancestor = ancestor.parent


@transaction.atomic
def folder_create(
    organization, *, workspace, title: str, parent=None, saved_filters=(), type=None
) -> Folder:
    if parent is not None:
        workspace = parent.workspace
    _check_parent(None, parent, workspace)
    _check_same_workspace(saved_filters, workspace, "saved_filter_tokens")
    folder = Folder.objects.create(
        organization=organization,
        workspace=workspace,
        title=title,
        parent=parent,
        **({"type": type} if type else {}),
    )
    folder.saved_filters.set(saved_filters)
    return folder


@transaction.atomic
def folder_update(folder: Folder, **changes) -> Folder:
    if "parent" in changes:
        _check_parent(folder, changes["parent"], folder.workspace)
        folder.parent = changes["parent"]
    if "title" in changes:
        folder.title = changes["title"]
    folder.save()
    if "saved_filters" in changes:
        _check_same_workspace(changes["saved_filters"], folder.workspace, "saved_filter_tokens")
        folder.saved_filters.set(changes["saved_filters"])
    return folder


def folder_delete(folder: Folder) -> None:
    """Its reports and sub-folders stay, at the top level (``on_delete=SET_NULL``)."""
    folder.delete()


# --------------------------------------------------------------------------- cost reports


def _check_report(report: CostReport) -> None:
    """The date rules of Vantage's CostReport: explicit dates make the interval ``custom``,
    each start needs its end, and a report must be runnable (no hourly bin)."""
    if (report.start_date is None) != (report.end_date is None):
        missing = "end_date" if report.end_date is None else "start_date"
        raise ServiceError("start_date and end_date go together.", field=missing)
    if report.start_date is not None:
        costs.check_range(report.start_date, report.end_date)
        report.date_interval = DateInterval.CUSTOM
    elif report.date_interval == DateInterval.CUSTOM:
        raise ServiceError(
            "a custom date_interval needs start_date and end_date.", field="date_interval"
        )
    previous = (report.previous_period_start_date, report.previous_period_end_date)
    if (previous[0] is None) != (previous[1] is None):
        raise ServiceError(
            "previous_period_start_date and previous_period_end_date go together.",
            field="previous_period_end_date"
            if previous[1] is None
            else "previous_period_start_date",
        )
    if previous[0] is not None:
        costs.check_range(*previous, "previous_period_start_date")
    if report.date_bin == DateBin.HOUR:
        raise UnprocessableError(
            "hourly costs are not available: cost rows are daily.", field="date_bin"
        )


def _dates_of_interval(changes: dict) -> dict:
    """An interval and explicit dates are incompatible (Vantage), except that the dates a report
    answers with (its interval's, resolved) may come back with it: a report read and written
    back unchanged keeps its interval."""
    interval = changes.get("date_interval")
    dates = (changes.get("start_date"), changes.get("end_date"))
    if interval in (None, DateInterval.CUSTOM) or dates == (None, None):
        return changes
    if dates == costs.interval_dates(interval, timezone.now().date()):
        return {**changes, "start_date": None, "end_date": None}
    raise ServiceError(
        f"date_interval '{interval}' is incompatible with start_date and end_date; give "
        "either, or date_interval 'custom' with the dates.",
        field="date_interval",
    )


def _apply(report: CostReport, changes: dict) -> None:
    changes = _dates_of_interval(changes)
    for name in REPORT_FIELDS & set(changes):
        value = changes[name]
        if name == "groupings":
            value = costs.parse_groupings(value)
        setattr(report, name, value)
    if "filter_tree" in changes:
        report.filter_tree = _stored(changes["filter_tree"])
    if changes.get("date_interval") not in (None, DateInterval.CUSTOM):
        # Choosing an interval replaces the explicit dates it is incompatible with.
        report.start_date = report.end_date = None


@transaction.atomic
def cost_report_create(
    organization,
    *,
    workspace,
    title: str,
    filter_tree=None,
    saved_filters=(),
    created_by=None,
    **fields,
) -> CostReport:
    unknown = set(fields) - REPORT_FIELDS
    if unknown:
        raise TypeError(f"unknown report fields: {sorted(unknown)}")
    folder = fields.get("folder")
    if folder is not None:
        workspace = folder.workspace
    report = CostReport(
        organization=organization,
        workspace=workspace,
        title=title,
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    _apply(report, {**fields, "filter_tree": filter_tree, "workspace": workspace})
    _check_report(report)
    _check_same_workspace(saved_filters, workspace, "saved_filter_tokens")
    report.save()
    report.saved_filters.set(saved_filters)
    return report


@transaction.atomic
def cost_report_update(report: CostReport, *, saved_filters=None, **changes) -> CostReport:
    if changes.get("folder") is not None:
        changes["workspace"] = changes["folder"].workspace
    _apply(report, changes)
    _check_report(report)
    if saved_filters is not None:
        _check_same_workspace(saved_filters, report.workspace, "saved_filter_tokens")
    report.save()
    if saved_filters is not None:
        report.saved_filters.set(saved_filters)
    return report


def cost_report_delete(report: CostReport) -> None:
    report.delete()


def report_dates(report: CostReport, today: date | None = None) -> tuple[date, date]:
    """The dates a report covers today: its own, or its interval's."""
    if report.start_date is not None:
        return report.start_date, report.end_date
    return costs.interval_dates(report.date_interval, today or timezone.now().date())


# --------------------------------------------------------------------------- data exports


def data_export_create(organization, *, workspace, attributes: dict, created_by=None):
    """Record an export and queue its task once the record is committed."""
    export = DataExport.objects.create(
        organization=organization,
        workspace=workspace,
        attributes=attributes,
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    transaction.on_commit(lambda: background.task(EXPORT_TASK).delay(export.pk))
    return export


EXPORT_COLUMNS_AFTER_GROUPS = ("amount", "currency")


def export_directory(export: DataExport) -> Path:
    return Path(settings.MEDIA_ROOT) / "data_exports" / export.token


def export_table(result: costs.CostResult) -> tuple[list[str], list[list]]:
    """The export's columns and rows: one row per line of ``/v2/costs``, all pages."""
    groupings = result.query.groupings
    columns = ["accrued_at", *groupings, *EXPORT_COLUMNS_AFTER_GROUPS]
    if result.query.with_usage:
        columns += ["usage_amount", "usage_unit"]
    rows = []
    for line in costs.ordered_lines(result, "asc"):
        row = [line.accrued_at, *(line.group[name] for name in groupings), line.amount]
        row.append(line.currency)
        if result.query.with_usage:
            row += [line.usage_amount, line.usage_unit or ""]
        rows.append(row)
    return columns, rows


def _write_files(directory: Path, columns: list[str], rows: list[list]) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "costs.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if value is None else value for value in row])
    money = pa.decimal128(38, 10)
    types = {"accrued_at": pa.date32(), "amount": money, "usage_amount": money}
    table = pa.table(
        {
            name: pa.array(
                [row[index] for row in rows],
                type=types.get(name, pa.bool_() if name == costs.TAGGED else pa.string()),
            )
            for index, name in enumerate(columns)
        }
    )
    pq.write_table(table, directory / "costs.parquet")
    return ["costs.csv", "costs.parquet"]


def data_export_run(export_id: int) -> DataExport | None:
    """Compute an export's costs and write its files. Safe to run twice: a finished export is
    left as it is; a re-run rewrites the same files from the same stored query."""
    from . import selectors

    export = DataExport.objects.select_related("organization").filter(pk=export_id).first()
    if export is None or export.status != DataExport.Status.PENDING:
        return export
    try:
        query = selectors.cost_query_from_attributes(export.organization, export.attributes)
        result = costs.report_costs(export.organization, query)
        columns, rows = export_table(result)
        export.files = _write_files(export_directory(export), columns, rows)
        export.status = DataExport.Status.COMPLETED
    except ServiceError as error:
        export.status = DataExport.Status.FAILED
        export.error = error.message
    export.completed_at = timezone.now()
    export.save(update_fields=["files", "status", "error", "completed_at"])
    return export
