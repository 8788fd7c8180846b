"""Pages of the cost data: the cost explorer, integrations, and FOCUS imports with progress."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import JSONField, OuterRef, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import ServiceError
from filter_segments.listing import FilteredListView
from organizations.pages import can_write, page_organization, writable_organization

from . import selectors, services
from .columnar.models import ColumnarPartition
from .currencies import currency_label
from .filters import CostRowFilter, ImportJobFilter, IntegrationFilter
from .forms import GROUP_BY_LABELS, CostQueryForm, ImportUploadForm, IntegrationForm
from .models import DimensionField, DimensionValue, ImportJob
from .selectors import METRICS, TAG_GROUP_PREFIX, month_end, previous_period


class CostExplorerView(FilteredListView):
    """Costs over time, grouped by a dimension, filtered by the cost-row FilterSet."""

    filterset_class = CostRowFilter
    module = "costs"
    url_name = "costs:explorer"
    template_name = "costs/explorer.html"
    paginate_by = None
    view_params = ("group_by", "granularity", "metric", "compare")

    def get_base_queryset(self, organization):
        return None  # the rows are in the columnar store: see ``cost_filter``

    def get_queryset(self):
        return []

    def cost_filter(self):
        return self.get_filterset().cost_filter(self.get_organization())

    def get_series(self):
        """The query of the page (and of its CSV export), or ``None`` with errors in the forms."""
        filterset = self.get_filterset()
        self.query_form = CostQueryForm(self.request.GET)
        if (filterset.is_bound and not filterset.is_valid()) or not self.query_form.is_valid():
            return None
        dates = filterset.form.cleaned_data if filterset.is_bound else {}
        options = self.query_form.cleaned_data
        try:
            start, end = selectors.cost_window(
                dates.get("start"), dates.get("end"), options["granularity"], timezone.now().date()
            )
        except ServiceError as error:
            self.query_form.add_error(None, error.message)
            return None
        return selectors.cost_series(
            self.cost_filter(),
            group_by=options["group_by"],
            granularity=options["granularity"],
            metric=options["metric"],
            limit=options["limit"],
            start=start,
            end=end,
            label_accounts=True,
        )

    def currency_totals(self, series) -> list[dict]:
        """With costs in several currencies, the totals of each (never added together)."""
        if not series or len(series.currencies) < 2:
            return []
        return [
            {
                "currency": code,
                **selectors.cost_series(
                    self.cost_filter().narrowed("billing_currency", code),
                    group_by="provider",
                    granularity="month",
                    start=series.start,
                    end=series.end,
                ).totals,
            }
            for code in series.currencies
        ]

    def comparison(self, series) -> dict:
        """The window's totals per group against the previous period of the same length."""
        start, end = previous_period(series.start, series.end)
        # The same filters (the page's dates only choose the window).
        previous = selectors.cost_series(
            self.cost_filter(),
            group_by=series.group_by,
            granularity=series.granularity,
            metric=series.metric,
            start=start,
            end=end,
            label_accounts=True,
        )
        return compare_groups(series, previous)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        series = self.get_series()
        tag_keys = (
            DimensionValue.objects.filter(
                organization=context["organization"], field=DimensionField.TAG
            )
            .values_list("key", flat=True)
            .distinct()
            .order_by("key")
        )
        options = self.query_form.cleaned_data if series else {}
        today = timezone.now().date()
        group_by = options.get("group_by") or self.request.GET.get("group_by") or "service"
        metric = options.get("metric") or "effective_cost"
        currency = (series and "+".join(series.currencies)) or currency_label(
            context["organization"]
        )
        context.update(
            {
                "series": series,
                "currency": currency,
                "several_currencies": bool(series and len(series.currencies) > 1),
                "currency_totals": self.currency_totals(series),
                "basis": explorer_basis(metric, self.request.GET.getlist("charge_category")),
                "query_form": self.query_form,
                "current": {
                    "group_by": group_by,
                    "group_label": GROUP_BY_LABELS.get(group_by)
                    or f"Tag {group_by[len(TAG_GROUP_PREFIX) :]}",
                    "granularity": options.get("granularity")
                    or self.request.GET.get("granularity")
                    or "day",
                    "metric": metric,
                    "metric_label": metric.replace("_", " ").capitalize(),
                    "total": series.totals[metric] if series else None,
                },
                "group_by_choices": [
                    *GROUP_BY_LABELS.items(),
                    *((f"{TAG_GROUP_PREFIX}{key}", f"Tag: {key}") for key in tag_keys),
                ],
                "metric_choices": [(name, name.replace("_", " ").capitalize()) for name in METRICS],
                "chart": _chart_data(series, currency, today) if series else None,
                "partial": partial_periods(series, today) if series else [],
                "comparison": (
                    self.comparison(series)
                    if series and self.request.GET.get("compare") == "previous"
                    else None
                ),
                "export_query": self.request.GET.urlencode(),
                "presets": _preset_links(self.request, timezone.now().date()),
            }
        )
        return context


# Which cost each explorer metric is, in a few words (the cost basis shown above the chart).
METRIC_BASIS = {
    "billed_cost": ("Billed cost", "as invoiced, commitment purchases when bought"),
    "effective_cost": (
        "Effective cost (amortized)",
        "commitment purchases spread over their term, discounts applied",
    ),
    "list_cost": ("List cost", "public on-demand prices, before any discount"),
    "contracted_cost": ("Contracted cost", "negotiated prices, before commitment discounts"),
}
CHARGE_CATEGORIES = ("Usage", "Purchase", "Credit", "Adjustment", "Tax")


def explorer_basis(metric: str, charge_categories: list[str]) -> dict:
    """The explorer's cost basis: the metric, and the charge categories the filters keep."""
    cost, explained = METRIC_BASIS.get(metric, (metric.replace("_", " ").capitalize(), ""))
    chosen = [category for category in charge_categories if category]
    return {
        "cost": cost,
        "explained": explained,
        "included": chosen
        or ["every charge category (usage, purchases, credits, adjustments, tax)"],
        "excluded": [
            category for category in CHARGE_CATEGORIES if chosen and category not in chosen
        ],
    }


def date_presets(today: date) -> list[tuple[str, str, date, date]]:
    """The explorer's quick date ranges: (key, label, start, end), both ends included."""
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    return [
        ("month_to_date", "Month to date", month_start, today),
        ("last_month", "Last month", last_month_end.replace(day=1), last_month_end),
        ("last_30_days", "Last 30 days", today - timedelta(days=29), today),
        ("last_90_days", "Last 90 days", today - timedelta(days=89), today),
        ("year_to_date", "Year to date", today.replace(month=1, day=1), today),
    ]


def _preset_links(request, today: date) -> list[dict]:
    chosen = (request.GET.get("start"), request.GET.get("end"))
    links = []
    for key, label, start, end in date_presets(today):
        query = request.GET.copy()
        for name in ("start", "end", "page", "saved_view"):
            query.pop(name, None)
        query["start"], query["end"] = start.isoformat(), end.isoformat()
        links.append(
            {
                "key": key,
                "label": label,
                "url": f"?{query.urlencode()}",
                "active": chosen == (start.isoformat(), end.isoformat()),
            }
        )
    return links


def compare_groups(series, previous) -> dict:
    """Each group's ``metric`` now and in the previous period, with absolute and % change."""
    metric = series.metric
    now = {row["group"]: row[metric] for row in series.groups}
    before = {row["group"]: row[metric] for row in previous.groups}
    rows = []
    for group in [*now, *(group for group in before if group not in now)]:
        current, earlier = now.get(group, Decimal(0)), before.get(group, Decimal(0))
        rows.append(
            {
                "group": group,
                "current": current,
                "previous": earlier,
                "change": current - earlier,
                "change_percent": (
                    float((current - earlier) / abs(earlier) * 100) if earlier else None
                ),
            }
        )
    total_now, total_before = series.totals[metric], previous.totals[metric]
    return {
        "start": previous.start,
        "end": previous.end,
        "rows": rows,
        "current": total_now,
        "previous": total_before,
        "change": total_now - total_before,
        "change_percent": (
            float((total_now - total_before) / abs(total_before) * 100) if total_before else None
        ),
    }


def period_label(period: date, granularity: str, series_start: date, series_end: date, today):
    """A month as "Oct 2026", a day as "2026-10-05"; a period not complete says so: the
    current month "(month to date)", today "(partial)", a month the window cuts "(partial)"."""
    if granularity == "month":
        label = period.strftime("%b %Y")
        if period == today.replace(day=1):
            return f"{label} (month to date)"
        if series_start > period or series_end < month_end(period):
            return f"{label} (partial)"
        return label
    return f"{period.isoformat()} (partial)" if period == today else period.isoformat()


def partial_periods(series, today: date) -> list[str]:
    """The labels of the window's periods that are not complete, to flag them above the chart."""
    return [
        label
        for period in series.periods
        if (
            label := period_label(period, series.granularity, series.start, series.end, today)
        ).endswith(")")
    ]


def _chart_data(series, currency: str, today: date) -> dict:
    return {
        "labels": [
            period_label(period, series.granularity, series.start, series.end, today)
            for period in series.periods
        ],
        "datasets": [
            {"label": item["group"], "data": [float(value) for value in item["values"]]}
            for item in series.series
        ],
        "metric": series.metric,
        "currency": currency,
    }


class CostExportView(CostExplorerView):
    """The explorer's query as CSV: one line per period and group."""

    def get(self, request, *args, **kwargs):
        series = self.get_series()
        if series is None:
            errors = {**self.get_filterset().errors, **self.query_form.errors}
            return HttpResponse(
                "\n".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items()),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        filename = f"costs_{series.group_by.replace(':', '-')}_{series.start}_{series.end}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        writer = csv.writer(response)
        writer.writerow(["period", series.group_by, *METRICS])
        for row in series.rows:
            writer.writerow([row["period"].isoformat(), row["group"], *(row[m] for m in METRICS)])
        return response


class IntegrationListView(FilteredListView):
    filterset_class = IntegrationFilter
    module = "integrations"
    url_name = "costs:integrations"
    template_name = "costs/integrations.html"

    def get_base_queryset(self, organization):
        last_job = ImportJob.objects.filter(integration=OuterRef("pk")).order_by("-created_at")
        # An export is in one currency: the manifest of its newest billing period tells it.
        newest = ColumnarPartition.objects.filter(integration=OuterRef("pk"), active=True)
        newest = newest.order_by("-billing_period_start").values("currencies")[:1]
        return (
            selectors.integrations_for_organization(organization)
            .select_related("source")
            .annotate(
                last_import_status=Subquery(last_job.values("status")[:1]),
                last_import_at=Subquery(last_job.values("created_at")[:1]),
                currencies=Subquery(newest, output_field=JSONField()),
            )
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_write"] = can_write(self.request, context["organization"])
        context["form"] = kwargs.get("form") or IntegrationForm()
        return context

    def post(self, request, *args, **kwargs):
        organization = writable_organization(request)
        form = IntegrationForm(request.POST)
        if form.is_valid():
            try:
                integration = services.integration_create(
                    organization, form.cleaned_data["provider"], form.cleaned_data["name"]
                )
            except ServiceError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Integration “{integration.name}” created.")
                return redirect("costs:integrations")
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(form=form))


class ImportListView(FilteredListView):
    filterset_class = ImportJobFilter
    module = "imports"
    url_name = "costs:imports"
    template_name = "costs/imports.html"

    def get_base_queryset(self, organization):
        return selectors.import_jobs_for_organization(organization)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organization = context["organization"]
        context["can_write"] = can_write(self.request, organization)
        context["form"] = kwargs.get("form") or ImportUploadForm(
            organization=organization, initial={"integration": self.request.GET.get("integration")}
        )
        context["jobs"] = [
            (job, services.import_job_progress(job), may_run_again(job))
            for job in context["object_list"]
        ]
        return context

    def post(self, request, *args, **kwargs):
        organization = writable_organization(request)
        form = ImportUploadForm(request.POST, request.FILES, organization=organization)
        if form.is_valid():
            job = services.import_job_create(
                form.cleaned_data["integration"],
                upload=form.cleaned_data["file"],
                source=ImportJob.Source.UPLOAD,
                created_by=request.user,
            )
            services.import_job_enqueue(job)
            _report_outcome(request, job, "Import")
            return redirect("costs:imports")
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(form=form))


# A job that failed this way (the database or worker went away) may succeed when run again; a
# file the importer rejected, or one no longer kept, fails the same way every time.
TRANSIENT_FAILURE = "the import failed unexpectedly."


def may_run_again(job: ImportJob) -> bool:
    return job.status == ImportJob.Status.FAILED and job.error.endswith(TRANSIENT_FAILURE)


def _report_outcome(request, job: ImportJob, what: str) -> None:
    """Say what happened: with an eager worker (the embedded default) the job has already run."""
    job.refresh_from_db()
    if job.status == ImportJob.Status.SUCCEEDED:
        messages.success(
            request, f"{what} of “{job.filename}” succeeded: {job.rows_written:,} rows written."
        )
    elif job.status == ImportJob.Status.FAILED:
        messages.error(request, f"{what} of “{job.filename}” failed: {job.error}")
    else:
        messages.success(request, f"{what} of “{job.filename}” queued; progress shows below.")


@login_required
def import_progress(request, pk):
    """One job's row of the imports table; htmx polls it every second while the job runs."""
    organization = page_organization(request)
    job = get_object_or_404(selectors.import_jobs_for_organization(organization), pk=pk)
    context = {
        "job": job,
        "may_run_again": may_run_again(job),
        "progress": services.import_job_progress(job),
        "can_write": can_write(request, organization),
    }
    return render(request, "costs/_import_row.html", context)


@login_required
@require_POST
def import_rerun(request, pk):
    organization = writable_organization(request)
    job = get_object_or_404(selectors.import_jobs_for_organization(organization), pk=pk)
    if not may_run_again(job):
        messages.warning(
            request,
            "Only an import that failed for a passing reason can be run again; "
            "fix the file and upload it again.",
        )
    else:
        services.import_job_enqueue(services.import_job_retry(job))
        _report_outcome(request, job, "Second run")
    return redirect("costs:imports")


@login_required
@require_POST
def integration_test(request, pk):
    """ "Test connection": what a sync would import now, as a message on the integrations page
    (``POST /api/v1/integrations/{id}/test`` answers the same plan as JSON)."""
    from .connectors import sync

    organization = writable_organization(request)
    integration = get_object_or_404(selectors.integrations_for_organization(organization), pk=pk)
    try:
        plan = sync.source_test(integration)
    except ServiceError as error:
        messages.error(request, f"Test of “{integration.name}” failed: {error.message}")
        return redirect("costs:integrations")
    new = [item["delivery"] for item in plan["new"]]
    summary = (
        f"Test of “{integration.name}”: connected. {len(new)} new delivery(ies) to import"
        + (f" ({', '.join(new[:5])}{', …' if len(new) > 5 else ''})" if new else "")
        + f", {len(plan['unchanged'])} already imported, {len(plan['incomplete'])} incomplete."
    )
    messages.success(request, summary)
    return redirect("costs:integrations")


@login_required
@require_POST
def integration_sync(request, pk):
    """ "Sync now": queue the imports of the new deliveries of the integration's source."""
    from .connectors import sync

    organization = writable_organization(request)
    integration = get_object_or_404(selectors.integrations_for_organization(organization), pk=pk)
    try:
        jobs = sync.source_sync(integration)
    except ServiceError as error:
        messages.error(request, f"Sync of “{integration.name}” failed: {error.message}")
        return redirect("costs:integrations")
    if jobs:
        messages.success(
            request, f"Sync of “{integration.name}”: {len(jobs)} new delivery(ies) queued."
        )
        return redirect(f"{reverse('costs:imports')}?integration={integration.pk}")
    messages.info(request, f"Sync of “{integration.name}”: nothing new.")
    return redirect("costs:integrations")
