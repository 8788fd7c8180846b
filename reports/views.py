"""Report pages: the reports list with folders, "save as report" from the cost explorer, and a
report's page (chart, table with previous-period deltas, totals, CSV).

A report page is shareable inside the organization by its link (``/reports/<token>/``): the
same report the API serves, its costs from the same ``reports.costs.report_costs``.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ServiceError
from organizations.pages import can_write, page_organization, writable_organization
from organizations.selectors import default_reachable_workspace, reachable_workspaces
from segments.filter_tree import FilterError, from_json, render_vql

from . import costs, selectors, services
from .forms import (
    FolderForm,
    ReportEditForm,
    ReportSaveForm,
    explorer_query,
    report_from_explorer,
)
from .models import CostReport

CHART_GROUPS = 8
TABLE_ROWS = 500  # the largest groups; the CSV has them all
OTHERS = "(others)"
NO_VALUE = "(none)"


def _visible(request):
    organization = page_organization(request)
    return organization, reachable_workspaces(request, organization)


def _report(request, token) -> CostReport:
    organization, workspaces = _visible(request)
    report = selectors.cost_reports_visible(organization, workspaces).filter(token=token).first()
    if report is None:
        raise Http404("No such report.")
    return report


def _folder_label(folder, by_id) -> str:
    names, seen = [], set()
    while folder is not None and folder.pk not in seen:
        seen.add(folder.pk)
        names.append(folder.title)
        folder = by_id.get(folder.parent_id)
    return " / ".join(reversed(names))


@login_required
def report_list(request):
    organization, workspaces = _visible(request)
    folders = list(selectors.folders_visible(organization, workspaces))
    by_id = {folder.pk: folder for folder in folders}
    reports = selectors.cost_reports_visible(organization, workspaces).order_by("title", "pk")
    in_folder = defaultdict(list)
    for report in reports:
        in_folder[report.folder_id].append(report)
    shelves = sorted(
        (
            {
                "folder": folder,
                "label": _folder_label(folder, by_id),
                "reports": in_folder[folder.pk],
            }
            for folder in folders
        ),
        key=lambda shelf: shelf["label"].lower(),
    )
    return render(
        request,
        "reports/report_list.html",
        {
            "shelves": shelves,
            "unfiled": in_folder[None],
            "folder_form": FolderForm(),
            "can_write": can_write(request, organization),
        },
    )


@login_required
@require_POST
def folder_create(request):
    organization = writable_organization(request)
    form = FolderForm(request.POST)
    if form.is_valid():
        services.folder_create(
            organization,
            workspace=default_reachable_workspace(request, organization),
            title=form.cleaned_data["title"],
        )
        messages.success(request, f"Folder “{form.cleaned_data['title']}” created.")
    else:
        messages.error(request, "A folder needs a title.")
    return redirect("reports:list")


@login_required
@require_POST
def folder_delete(request, token):
    """Delete a folder; its reports and sub-folders move to the top level."""
    organization = writable_organization(request)
    _, workspaces = _visible(request)
    folder = selectors.folders_visible(organization, workspaces).filter(token=token).first()
    if folder is None:
        raise Http404("No such folder.")
    services.folder_delete(folder)
    messages.success(request, f"Folder “{folder.title}” deleted; its reports are kept.")
    return redirect("reports:list")


def _explorer_summary(fields: dict) -> dict:
    tree = fields.get("filter_tree")
    return {
        "filter": render_vql(tree) if tree is not None else "every cost row",
        "groupings": ", ".join(fields.get("groupings") or []) or "none",
        "period": (
            f"{fields['start_date']:%d %b %Y} to {fields['end_date']:%d %b %Y}"
            if fields.get("start_date")
            else "this month"
        ),
        "date_bin": fields["date_bin"],
    }


@login_required
@require_http_methods(["GET", "POST"])
def report_create(request):
    """Save the cost explorer's question (its query string) as a report."""
    organization = writable_organization(request)
    _, workspaces = _visible(request)
    folders = list(selectors.folders_visible(organization, workspaces).order_by("title"))
    query = QueryDict(request.POST.get("query", "")) if request.method == "POST" else request.GET
    try:
        fields = report_from_explorer(query)
    except FilterError as error:
        messages.error(request, f"These filters cannot be saved as a report: {error.message}")
        return redirect(reverse("costs:explorer") + "?" + query.urlencode())
    form = ReportSaveForm(request.POST or None, folders=folders)
    if request.method == "POST" and form.is_valid():
        folder = next((f for f in folders if f.token == form.cleaned_data["folder"]), None)
        try:
            report = services.cost_report_create(
                organization,
                workspace=folder.workspace
                if folder
                else default_reachable_workspace(request, organization),
                title=form.cleaned_data["title"],
                folder=folder,
                created_by=request.user,
                **fields,
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Report “{report.title}” saved.")
            return redirect("reports:detail", token=report.token)
    return render(
        request,
        "reports/report_form.html",
        {"form": form, "query": query.urlencode(), "summary": _explorer_summary(fields)},
    )


def _label(group: dict) -> str:
    if not group:
        return "Total"
    return " · ".join(
        str(value) if value not in (None, "") else NO_VALUE for value in group.values()
    )


def _page_figures(report: CostReport) -> dict:
    """What the report page shows: chart series, a table of groups with their previous-period
    figures and deltas, and the totals, from one ``report_costs``."""
    query = selectors.cost_query_for(report=report, today=timezone.now().date())
    result = costs.report_costs(report.organization, query)
    currency = result.currency
    by_group: dict[tuple, dict] = {}
    bins = sorted({line.accrued_at for line in result.lines})
    for line in result.lines:
        key = costs.group_key(line.group, line.currency)
        row = by_group.setdefault(
            key,
            {
                "label": _label(line.group),
                "currency": line.currency,
                "amount": Decimal(0),
                "by_bin": defaultdict(Decimal),
            },
        )
        row["amount"] += line.amount
        row["by_bin"][line.accrued_at] += line.amount
    for key in result.previous_by_group:
        if key not in by_group:
            by_group[key] = {
                "label": _label({name: value for name, value in key[:-1]}),
                "currency": key[-1],
                "amount": Decimal(0),
                "by_bin": defaultdict(Decimal),
            }
    rows = sorted(by_group.values(), key=lambda row: (-row["amount"], row["label"]))
    for key, row in by_group.items():
        previous = result.previous_by_group.get(key) if result.previous_totals is not None else None
        row["previous"] = previous
        row["delta"] = row["amount"] - previous if previous is not None else None
        row["percent"] = (row["amount"] - previous) / abs(previous) * 100 if previous else None
    shown, folded = rows[:CHART_GROUPS], rows[CHART_GROUPS:]
    datasets = [
        {"label": row["label"], "data": [float(row["by_bin"].get(day, 0)) for day in bins]}
        for row in shown
    ]
    if folded:
        datasets.append(
            {
                "label": OTHERS,
                "data": [float(sum(row["by_bin"].get(day, 0) for row in folded)) for day in bins],
            }
        )
    total = result.totals.get(currency, Decimal(0))
    previous_total = (
        result.previous_totals.get(currency, Decimal(0))
        if result.previous_totals is not None
        else None
    )
    return {
        "query": query,
        "currency": currency,
        "rows": rows[:TABLE_ROWS],
        "rows_left_out": max(0, len(rows) - TABLE_ROWS),
        "chart": {
            "labels": [day.isoformat() for day in bins],
            "datasets": datasets,
            "currency": currency,
        },
        "total": total,
        "previous_total": previous_total,
        "total_delta": total - previous_total if previous_total is not None else None,
        "total_percent": (total - previous_total) / abs(previous_total) * 100
        if previous_total
        else None,
        "several_currencies": len(result.totals) > 1,
    }


@login_required
def report_detail(request, token):
    report = _report(request, token)
    try:
        figures = _page_figures(report)
    except ServiceError as error:
        figures, problem = None, error.message
    else:
        problem = None
    return render(
        request,
        "reports/report_detail.html",
        {
            "report": report,
            "figures": figures,
            "problem": problem,
            "vql": render_vql(from_json(report.filter_tree)) if report.filter_tree else "",
            "saved_filters": report.saved_filters.all(),
            "can_write": can_write(request, report.organization),
            "api_path": f"/v2/costs?cost_report_token={report.token}",
            "explorer_query": explorer_query(report),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request, token):
    report = _report(request, token)
    writable_organization(request)
    _, workspaces = _visible(request)
    folders = list(
        selectors.folders_visible(report.organization, workspaces)
        .filter(workspace=report.workspace)
        .order_by("title")
    )
    if request.method == "POST":
        form = ReportEditForm(request.POST, folders=folders)
        if form.is_valid():
            try:
                services.cost_report_update(report, **form.changes(folders))
            except ServiceError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, f"Report “{report.title}” saved.")
                return redirect("reports:detail", token=report.token)
    else:
        form = ReportEditForm(initial=ReportEditForm.initial_of(report), folders=folders)
    return render(request, "reports/report_edit.html", {"form": form, "report": report})


@login_required
def report_csv(request, token):
    """The report's costs as CSV: the lines of ``/v2/costs``, every page (as an export)."""
    report = _report(request, token)
    query = selectors.cost_query_for(report=report, today=timezone.now().date())
    try:
        result = costs.report_costs(report.organization, query)
    except ServiceError as error:
        raise Http404(error.message) from None
    columns, rows = services.export_table(result)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{report.token}.csv"'
    writer = csv.writer(response)
    writer.writerow(columns)
    writer.writerows(["" if value is None else value for value in row] for row in rows)
    return response


@login_required
@require_POST
def report_delete(request, token):
    report = _report(request, token)
    writable_organization(request)
    services.cost_report_delete(report)
    messages.success(request, f"Report “{report.title}” deleted.")
    return redirect("reports:list")
