"""Reads of reports, folders, saved filters, exports and tags.

Every ``*_visible`` function is the tenant boundary of its model: the organization's objects in
the workspaces the credential reaches (``organizations.selectors.reachable_workspaces``).
The costs themselves are computed in ``reports.costs``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import QuerySet

from core.errors import ServiceError
from costs.models import DimensionField, DimensionValue
from segments.filter_tree import from_json

from . import costs
from .models import CostReport, DataExport, DateBin, DateInterval, Folder, SavedFilter

# The settings a cost query reads (``unallocated``, ``complete_period`` are stored only).
QUERY_SETTINGS = (
    "include_credits",
    "include_refunds",
    "include_discounts",
    "include_tax",
    "amortize",
    "aggregate_by",
)


def folders_visible(organization, workspaces) -> QuerySet[Folder]:
    return (
        Folder.objects.filter(organization=organization, workspace__in=workspaces)
        .select_related("workspace", "parent")
        .prefetch_related("saved_filters")
    )


def saved_filters_visible(organization, workspaces) -> QuerySet[SavedFilter]:
    return (
        SavedFilter.objects.filter(organization=organization, workspace__in=workspaces)
        .select_related("workspace", "created_by")
        .prefetch_related("reports")
    )


def cost_reports_visible(organization, workspaces) -> QuerySet[CostReport]:
    return (
        CostReport.objects.filter(organization=organization, workspace__in=workspaces)
        .select_related("workspace", "folder")
        .prefetch_related("saved_filters")
    )


def data_exports_visible(organization) -> QuerySet[DataExport]:
    return DataExport.objects.filter(organization=organization)


def report_filters(report: CostReport) -> list:
    """The filter trees a report's costs must all match: its own, its saved filters', and those
    of its folder and the folders above it."""
    trees = [report.filter_tree]
    trees += [saved.filter_tree for saved in report.saved_filters.all()]
    folder, seen = report.folder, set()
    while folder is not None and folder.pk not in seen:
        seen.add(folder.pk)
        trees += [saved.filter_tree for saved in folder.saved_filters.all()]
        folder = folder.parent
    return [from_json(tree) for tree in trees if tree]


# --------------------------------------------------------------------------- tags


def _tag_rows(organization, providers: list[str] | None):
    rows = DimensionValue.objects.filter(organization=organization, field=DimensionField.TAG)
    if providers:
        rows = rows.filter(provider__in=providers)
    return rows


def tag_keys(
    organization, *, providers: list[str] | None = None, search: str = "", descending=False
) -> list[dict]:
    """Every tag key of the organization's cost data with the providers that carry it, from the
    dimension-value table (kept by the importer; no cost rows are read)."""
    rows = _tag_rows(organization, providers)
    if search:
        rows = rows.filter(key__icontains=search)
    providers_by_key: dict[str, set[str]] = defaultdict(set)
    for key, provider in rows.values_list("key", "provider").distinct():
        providers_by_key[key].add(provider)
    return [
        {"tag_key": key, "hidden": False, "preferred": False, "providers": sorted(found)}
        for key, found in sorted(providers_by_key.items(), reverse=descending)
    ]


def tag_key_exists(organization, key: str) -> bool:
    return _tag_rows(organization, None).filter(key=key).exists()


def tag_values(
    organization,
    key: str,
    *,
    providers: list[str] | None = None,
    search: str = "",
    descending=False,
) -> list[dict]:
    rows = _tag_rows(organization, providers).filter(key=key)
    if search:
        rows = rows.filter(value__icontains=search)
    providers_by_value: dict[str, set[str]] = defaultdict(set)
    for value, provider in rows.values_list("value", "provider").distinct():
        providers_by_value[value].add(provider)
    return [
        {"tag_value": value, "providers": sorted(found)}
        for value, found in sorted(providers_by_value.items(), reverse=descending)
    ]


# --------------------------------------------------------------------------- cost queries


def cost_query_for(
    *,
    report: CostReport | None = None,
    filters=(),
    groupings: list[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    date_bin: str | None = None,
    settings: dict | None = None,
    today: date,
) -> costs.CostQuery:
    """The query of ``/v2/costs`` and of an export: a report's, with what the request gives
    taking precedence, or an ad-hoc one (``filters``) with Vantage's defaults."""
    given = {name: value for name, value in (settings or {}).items() if value is not None}
    chosen = {}
    for name in QUERY_SETTINGS:
        if name in given:
            chosen[name] = given[name]
        elif report is not None:
            chosen[name] = getattr(report, name)
    show_previous = given.get(
        "show_previous_period", report.show_previous_period if report is not None else True
    )
    if report is not None:
        filters = [*report_filters(report), *filters]
        if groupings is None and report.groupings:
            groupings = list(report.groupings)
        if date_bin is None and report.date_bin not in (DateBin.CUMULATIVE,):
            date_bin = report.date_bin
    if start is None and end is None:
        if report is not None and report.start_date is not None:
            start, end = report.start_date, report.end_date
            explicit_previous = (
                report.previous_period_start_date,
                report.previous_period_end_date,
            )
        elif report is not None:
            start, end = costs.interval_dates(report.date_interval, today)
            explicit_previous = (
                report.previous_period_start_date,
                report.previous_period_end_date,
            )
        else:
            start, end = costs.interval_dates(DateInterval.THIS_MONTH, today)
            explicit_previous = (None, None)
    else:
        if start is None or end is None:
            raise ServiceError(
                "start_date and end_date go together.",
                field="end_date" if end is None else "start_date",
            )
        explicit_previous = (None, None)
    costs.check_range(start, end)
    query = costs.CostQuery(
        start=start,
        end=end,
        filters=list(filters),
        groupings=costs.DEFAULT_GROUPINGS if groupings is None else groupings,
        date_bin=date_bin or DateBin.DAY,
        **chosen,
    )
    if show_previous:
        if explicit_previous[0] is not None:
            query.previous_start, query.previous_end = explicit_previous
        else:
            query.previous_start, query.previous_end = costs.previous_period(start, end)
    return query


def export_attributes(query: costs.CostQuery, report: CostReport | None, vql: str | None) -> dict:
    """What an export records of its query (Vantage's ``attributes``), dates resolved so the
    export reads the same period whenever its task runs."""
    return {
        "report_token": report.token if report is not None else None,
        "start_date": query.start.isoformat(),
        "end_date": query.end.isoformat(),
        "groupings": list(query.groupings),
        "vql": vql,
        "settings": {name: getattr(query, name) for name in QUERY_SETTINGS},
        "date_bin": query.date_bin,
    }


def cost_query_from_attributes(organization, attributes: dict) -> costs.CostQuery:
    """The query an export recorded, rebuilt (a deleted report or filter fails the export)."""
    from segments.filter_tree import parse_vql

    report = None
    if attributes.get("report_token"):
        report = CostReport.objects.filter(
            organization=organization, token=attributes["report_token"]
        ).first()
        if report is None:
            raise ServiceError("the cost report was deleted.", field="cost_report_token")
    filters = [parse_vql(attributes["vql"], vantage_rules=False)] if attributes.get("vql") else []
    query = cost_query_for(
        report=report,
        filters=filters,
        groupings=attributes.get("groupings"),
        start=date.fromisoformat(attributes["start_date"]),
        end=date.fromisoformat(attributes["end_date"]),
        date_bin=attributes.get("date_bin"),
        settings={**(attributes.get("settings") or {}), "show_previous_period": False},
        today=date.fromisoformat(attributes["end_date"]),
    )
    return query
