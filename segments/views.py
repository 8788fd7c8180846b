"""Segment pages: tree list, segment page with charts, create/edit with the filter builder."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from core.errors import ServiceError
from core.listing import FilteredListView
from organizations.pages import page_organization, writable_organization

from . import selectors, services
from .filter_tree import from_json, render_structured, render_vql, with_provider
from .filters import SegmentFilterSet
from .forms import SegmentForm
from .models import Granularity, Segment, Status


def _segment(request, pk) -> Segment:
    return get_object_or_404(selectors.segments_for_organization(page_organization(request)), pk=pk)


class SegmentListView(FilteredListView):
    template_name = "segments/segment_list.html"
    filterset_class = SegmentFilterSet
    module = "segments"
    paginate_by = None

    def get_base_queryset(self, organization):
        return selectors.segments_for_organization(organization)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        shown = {segment.pk for segment in context["object_list"]}
        rows, month = selectors.tree_rows(self.get_organization())
        context["rows"] = [row for row in rows if row["segment"].pk in shown]
        context["last_month"] = month
        return context


def _chart(lines: list[dict], period_key: str) -> dict:
    labels = sorted({point[period_key] for line in lines for point in line["points"]})
    datasets = []
    for line in lines:
        by_period = {point[period_key]: point["cost"] for point in line["points"]}
        datasets.append({"label": line["segment"], "data": [by_period.get(p, 0) for p in labels]})
    return {"labels": labels, "datasets": datasets}


@login_required
def segment_detail(request, pk):
    segment = _segment(request, pk)
    monthly = selectors.cost_lines(segment, Granularity.MONTH)
    daily = selectors.cost_lines(segment, Granularity.DAY)
    own, parts = monthly[0], monthly[1:]
    tree = from_json(segment.filter_tree) if segment.filter_tree else None
    context = {
        "segment": segment,
        "top": selectors.top_level(segment),
        "children": segment.children.order_by("priority", "created_at"),
        "monthly_chart": _chart([own], "month"),
        "daily_chart": _chart([daily[0]], "date"),
        "parts_chart": _chart(parts, "month") if parts else None,
        "monthly_rows": own["points"],
        "vql": render_vql(tree) if tree is not None else "",
        "structured": render_structured(tree) if tree is not None else [],
        "is_new": segment.status == Status.NEW,
        **_unit_costs(request, segment, monthly_rows=own["points"]),
    }
    return render(request, "segments/segment_detail.html", context)


def _unit_costs(request, segment, monthly_rows) -> dict:
    """The unit-cost chart: this segment's monthly cost ÷ a chosen billable metric's usage."""
    from metrics import selectors as metric_selectors

    choices = list(metric_selectors.metrics(segment.organization).filter(archived_at__isnull=True))
    chosen = next((m for m in choices if m.pk == request.GET.get("metric")), None)
    context = {"unit_metric_choices": choices, "unit_metric": chosen, "unit_chart": None}
    if chosen is not None and monthly_rows:
        start = date.fromisoformat(monthly_rows[0]["month"] + "-01")
        points = metric_selectors.unit_cost_series(segment, chosen, "month", start, date.today())
        context["unit_chart"] = {
            "labels": [point.start.strftime("%Y-%m") for point in points],
            "datasets": [
                {
                    "label": f"Cost per {chosen.code}",
                    "data": [
                        float(p.unit_cost) if p.unit_cost is not None else None for p in points
                    ],
                }
            ],
        }
    return context


@login_required
def segment_status(request, pk):
    """The status badge, polled by htmx while metrics are computed."""
    segment = _segment(request, pk)
    response = render(request, "segments/_status.html", {"segment": segment})
    if segment.status != Status.NEW and request.htmx:
        response["HX-Refresh"] = "true"
    return response


def _filter_tree(form: SegmentForm):
    tree, provider = form.cleaned_data["filter"], form.cleaned_data["provider"] or None
    if provider:
        tree = with_provider(tree, provider)
    return tree, provider


@login_required
@require_http_methods(["GET", "POST"])
def segment_create(request):
    organization = page_organization(request)
    writable_organization(request)
    form = SegmentForm(
        request.POST or None,
        organization=organization,
        initial={"parent": request.GET.get("parent")} if request.GET else None,
    )
    if request.method == "POST" and form.is_valid():
        tree, provider = _filter_tree(form)
        try:
            segment = services.segment_create(
                organization,
                filter_tree=tree,
                provider=provider,
                created_by=request.user,
                **form.service_arguments(),
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Segment “{segment.name}” created; computing its costs.")
            return redirect("segments:detail", pk=segment.pk)
    return render(request, "segments/segment_form.html", {"form": form, "segment": None})


@login_required
@require_http_methods(["GET", "POST"])
def segment_edit(request, pk):
    segment = _segment(request, pk)
    writable_organization(request)
    if segment.is_system_generated:
        messages.error(request, "System-generated segments cannot be changed.")
        return redirect("segments:detail", pk=segment.pk)
    form = SegmentForm(
        request.POST or None, organization=page_organization(request), instance=segment
    )
    if request.method == "POST" and form.is_valid():
        tree, provider = _filter_tree(form)
        try:
            # Without an explicit provider the service derives it from the filter.
            explicit = {"provider": provider} if provider else {}
            services.segment_update(
                segment, filter_tree=tree, **explicit, **form.service_arguments()
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Segment “{segment.name}” saved.")
            return redirect("segments:detail", pk=segment.pk)
    return render(request, "segments/segment_form.html", {"form": form, "segment": segment})


@login_required
@require_http_methods(["GET", "POST"])
def segment_delete(request, pk):
    segment = _segment(request, pk)
    writable_organization(request)
    if request.method == "POST":
        try:
            services.segment_delete(segment)
        except ServiceError as error:
            messages.error(request, error.message)
            return redirect("segments:detail", pk=segment.pk)
        messages.success(request, f"Segment “{segment.name}” deleted.")
        return redirect("segments:list")
    return render(request, "segments/segment_confirm_delete.html", {"segment": segment})
