"""Pages of the business app: the customers table (cost to serve, sortable), a customer's page
(usage, cost to serve, unit cost and its trend, revenue and margin), and statements.

The cost source (a segment or a cost report), the business metric (labelled by customer) and
the month come from the query string, with defaults a first visit can use.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import ServiceError
from metrics.models import Customer
from organizations.pages import can_write, page_organization, writable_organization
from organizations.selectors import reachable_workspaces
from reports.selectors import cost_reports_visible
from reports.services import export_directory
from segments.selectors import segments_for_request

from . import selectors, services
from .cost_to_serve import (
    CostSource,
    cost_to_serve,
    customer_trend,
    month_range,
    report_source,
    segment_source,
)
from .models import BusinessMetric, SourceKind, StatementKind

TABLE_ROWS = 500  # the page shows the first 500 in the chosen order; statements have them all
SORTS = {
    "cost": lambda line: line.cost,
    "usage": lambda line: line.usage,
    "name": lambda line: line.name.lower(),
    "unit_cost": lambda line: line.unit_cost if line.unit_cost is not None else 0,
    "margin": lambda line: line.gross_margin if line.gross_margin is not None else 0,
}


@dataclass
class Choice:
    value: str
    label: str


@dataclass
class Selection:
    """What a cost-to-serve page shows: source, metric, month, and the choices offered."""

    source: CostSource | None
    metric: BusinessMetric | None
    month: datetime.date
    sources: list[Choice]
    metrics: list[BusinessMetric]

    @property
    def source_value(self) -> str:
        return f"{self.source.kind}:{self.source.token}" if self.source else ""

    def query(self) -> str:
        return urlencode(
            {
                "source": self.source_value,
                "metric": self.metric.token if self.metric else "",
                "month": self.month.strftime("%Y-%m"),
            }
        )


def _month(raw: str | None, metric: BusinessMetric | None) -> datetime.date:
    if raw:
        try:
            return datetime.datetime.strptime(raw, "%Y-%m").date()
        except ValueError:
            pass
    last = selectors.last_value_date(metric) if metric else None
    return (last or timezone.now().date()).replace(day=1)


def selection(request, organization) -> Selection:
    segments = list(segments_for_request(request, organization).order_by("tree_path", "name"))
    reports = list(
        cost_reports_visible(organization, reachable_workspaces(request, organization)).order_by(
            "title"
        )
    )
    sources = [Choice(f"segment:{s.token}", f"Segment: {s.name}") for s in segments]
    sources += [Choice(f"report:{r.token}", f"Report: {r.title}") for r in reports]
    metrics = list(selectors.customer_metrics(organization))
    wanted = request.GET.get("source") or (sources[0].value if sources else "")
    kind, _, token = wanted.partition(":")
    source = None
    if kind == SourceKind.SEGMENT:
        found = next((s for s in segments if s.token == token), None)
        source = segment_source(found) if found else None
    elif kind == SourceKind.REPORT:
        found = next((r for r in reports if r.token == token), None)
        source = report_source(found, timezone.now().date()) if found else None
    metric_token = request.GET.get("metric")
    metric = next((m for m in metrics if m.token == metric_token), None)
    if metric is None and not metric_token and metrics:
        metric = metrics[0]
    return Selection(source, metric, _month(request.GET.get("month"), metric), sources, metrics)


def _split(chosen: Selection):
    start, end = month_range(chosen.month)
    services.live_metric_bring_up_to_date(chosen.metric, start, end)
    return cost_to_serve(chosen.source, chosen.metric, start, end)


@login_required
def customer_list(request):
    organization = page_organization(request)
    chosen = selection(request, organization)
    sort = request.GET.get("sort") or "-cost"
    key = sort.lstrip("-")
    context = {
        "chosen": chosen,
        "sort": sort,
        "split": None,
        "problem": None,
        "can_write": can_write(request, organization),
        "statements": selectors.statements_of(organization)[:20],
        "focus_exports": selectors.focus_exports_of(organization)[:10],
        "kinds": StatementKind.choices,
    }
    if chosen.source is None or chosen.metric is None:
        context["problem"] = (
            "Choose a segment or a cost report, and a business metric labelled by customer."
        )
    else:
        try:
            split = _split(chosen)
        except ServiceError as error:
            context["problem"] = error.message
        else:
            customers = sorted(
                split.customers, key=SORTS.get(key, SORTS["cost"]), reverse=sort.startswith("-")
            )
            context.update(
                split=split,
                customers=customers[:TABLE_ROWS],
                rows_left_out=max(0, len(customers) - TABLE_ROWS),
            )
    return render(request, "business/customer_list.html", context)


@login_required
def customer_detail(request, external_id: str):
    organization = page_organization(request)
    customer = Customer.objects.filter(organization=organization, external_id=external_id).first()
    if customer is None:
        raise Http404("No such customer.")
    chosen = selection(request, organization)
    context = {"customer": customer, "chosen": chosen, "problem": None, "line": None}
    if chosen.source is None or chosen.metric is None:
        context["problem"] = (
            "Choose a segment or a cost report, and a business metric labelled by customer."
        )
        return render(request, "business/customer_detail.html", context)
    try:
        split = _split(chosen)
        trend = customer_trend(chosen.source, chosen.metric, external_id, chosen.month)
    except ServiceError as error:
        context["problem"] = error.message
        return render(request, "business/customer_detail.html", context)
    line = split.line_of(external_id)
    start, end = month_range(chosen.month)
    daily = selectors.daily_values(chosen.metric, start, end, [external_id])
    context.update(
        split=split,
        line=line,
        share=(line.cost / split.total * 100) if line and split.total else None,
        trend=trend,
        trend_chart={
            "labels": [point.month.strftime("%Y-%m") for point in trend],
            "datasets": [
                {"label": "Cost to serve", "data": [float(point.cost) for point in trend]},
            ],
        },
        usage_chart={
            "labels": [day.isoformat() for day, _, _ in daily],
            "datasets": [
                {"label": chosen.metric.title, "data": [float(amount) for _, _, amount in daily]}
            ],
        },
    )
    return render(request, "business/customer_detail.html", context)


@login_required
@require_POST
def statement_create(request):
    """Queue a statement (a Celery task writes its CSV and PDF); the list shows it."""
    organization = writable_organization(request)
    chosen = selection(request, organization)
    back = f"{reverse('business:customers')}?{chosen.query()}"
    customer = None
    if request.POST.get("customer"):
        customer = Customer.objects.filter(
            organization=organization, external_id=request.POST["customer"]
        ).first()
        if customer is None:
            raise Http404("No such customer.")
    try:
        if chosen.source is None or chosen.metric is None:
            raise ServiceError("Choose a cost source and a business metric first.")
        statement = services.statement_create(
            organization,
            kind=request.POST.get("kind") or StatementKind.SHOWBACK,
            month=chosen.month,
            source_kind=chosen.source.kind,
            source_token=chosen.source.token,
            source_name=chosen.source.name,
            metric=chosen.metric,
            customer=customer,
            created_by=request.user,
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Statement {statement.token} for {chosen.month:%B %Y} is being prepared."
        )
    return redirect(back)


@login_required
@require_POST
def metric_price(request):
    """Set (or clear) the chosen business metric's price per unit: revenue and margin follow."""
    organization = writable_organization(request)
    chosen = selection(request, organization)
    if chosen.metric is None:
        raise Http404("No such business metric.")
    raw = (request.POST.get("price_per_unit") or "").strip()
    try:
        services.business_metric_update(
            chosen.metric,
            price_per_unit=raw or None,
            currency=request.POST.get("currency") or chosen.metric.currency,
        )
    except ServiceError as error:
        messages.error(request, f"Price per unit: {error.message}")
    else:
        messages.success(
            request,
            f"Price of {chosen.metric.title} set."
            if raw
            else f"{chosen.metric.title} has no price.",
        )
    return redirect(f"{reverse('business:customers')}?{chosen.query()}")


@login_required
@require_POST
def focus_export_create(request):
    """Queue a FOCUS export of the chosen segment's month, allocated to customers."""
    organization = writable_organization(request)
    chosen = selection(request, organization)
    if chosen.source is None or chosen.source.kind != SourceKind.SEGMENT or chosen.metric is None:
        messages.error(request, "A FOCUS export needs a segment and a business metric.")
    else:
        export = services.focus_export_create(
            organization,
            segment=chosen.source.object,
            metric=chosen.metric,
            month=chosen.month,
            created_by=request.user,
        )
        messages.success(request, f"FOCUS export {export.token} is being written.")
    return redirect(f"{reverse('business:customers')}?{chosen.query()}")


@login_required
def focus_export_file(request, token: str, name: str):
    organization = page_organization(request)
    export = selectors.focus_exports_of(organization).filter(token=token).first()
    if export is None or name not in export.files:
        raise Http404("No such file.")
    path = export_directory(export) / name
    if not path.is_file():
        raise Http404("No such file.")
    content_type = "text/csv" if name.endswith(".csv") else "application/vnd.apache.parquet"
    return FileResponse(
        open(path, "rb"), as_attachment=True, filename=name, content_type=content_type
    )


@login_required
def statement_file(request, token: str, name: str):
    organization = page_organization(request)
    statement = selectors.statements_of(organization).filter(token=token).first()
    if statement is None or name not in statement.files:
        raise Http404("No such file.")
    path = services.statement_directory(statement) / name
    if not path.is_file():
        raise Http404("No such file.")
    content_type = "application/pdf" if name.endswith(".pdf") else "text/csv"
    return FileResponse(
        open(path, "rb"), as_attachment=True, filename=name, content_type=content_type
    )
