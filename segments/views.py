"""Segment pages: tree list, segment page with charts, create/edit with the filter builder."""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ServiceError
from core.templatetags.console import money
from costs.currencies import currency_label
from filter_segments.listing import FilteredListView
from organizations.pages import page_organization, writable_organization

from . import moves, panels, selectors, services
from .filter_tree import MATCH_ALL, from_json, render_structured, render_vql
from .filter_tree.catalogue import PROVIDERS, fields_for_provider
from .filter_tree.preview import PREVIEW_DAYS, matching_costs
from .filters import SegmentFilterSet
from .forms import SegmentFilterForm, SegmentForm
from .models import Granularity, Segment, Status


def _segment(request, pk) -> Segment:
    return get_object_or_404(
        selectors.segments_for_request(request, page_organization(request)), pk=pk
    )


class SegmentListView(FilteredListView):
    template_name = "segments/segment_list.html"
    filterset_class = SegmentFilterSet
    module = "segments"
    url_name = "segments:list"
    paginate_by = None

    def get_base_queryset(self, organization):
        return selectors.segments_for_request(self.request, organization)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organization = self.get_organization()
        shown = {segment.pk for segment in context["object_list"]}
        rows, month = selectors.tree_rows(organization)
        rows = [row for row in rows if row["segment"].pk in shown]
        by_provider = {
            provider: currency_label(organization, provider)
            for provider in {row["segment"].provider for row in rows}
        }
        for row in rows:
            row["currency"] = by_provider[row["segment"].provider]
        today = date.today()
        context["rows"] = rows
        context["last_month"] = month
        context["month_to_date"] = month is not None and month == today.replace(day=1)
        context["previous_month"] = (
            (month - timedelta(days=1)).replace(day=1) if month is not None else None
        )
        return context


def _chart(lines: list[dict], period_key: str, currency: str) -> dict:
    labels = sorted({point[period_key] for line in lines for point in line["points"]})
    datasets = []
    for line in lines:
        by_period = {point[period_key]: point["cost"] for point in line["points"]}
        datasets.append({"label": line["segment"], "data": [by_period.get(p, 0) for p in labels]})
    return {"labels": labels, "datasets": datasets, "currency": currency}


CHARGE_KINDS = (
    ("include_credits", "credits"),
    ("include_refunds", "refunds"),
    ("include_discounts", "discounts"),
    ("include_tax", "tax"),
)


def cost_basis(top: Segment) -> dict:
    """Which cost a segment counts and which charges: its top-level segment's report settings."""
    return {
        "cost": "Effective cost (amortized)" if top.amortize else "Billed cost",
        "explained": (
            "commitment purchases spread over their term"
            if top.amortize
            else "as invoiced, commitment purchases when bought"
        ),
        "included": ["usage", "purchases"]
        + [label for name, label in CHARGE_KINDS if getattr(top, name)],
        "excluded": [label for name, label in CHARGE_KINDS if not getattr(top, name)],
    }


@login_required
def segment_detail(request, pk):
    segment = _segment(request, pk)
    monthly = selectors.cost_lines(segment, Granularity.MONTH)
    daily = selectors.cost_lines(segment, Granularity.DAY)
    own, parts = monthly[0], monthly[1:]
    tree = from_json(segment.filter_tree) if segment.filter_tree else None
    currency = currency_label(segment.organization, segment.provider)
    top = selectors.top_level(segment)
    context = {
        "segment": segment,
        "top": top,
        "basis": cost_basis(top),
        "currency": currency,
        "children": segment.children.order_by("priority", "created_at"),
        "monthly_chart": _chart([own], "month", currency),
        "daily_chart": _chart([daily[0]], "date", currency),
        "parts_chart": _chart(parts, "month", currency) if parts else None,
        "monthly_rows": own["points"],
        "vql": render_vql(tree) if tree is not None else "",
        "structured": render_structured(tree) if tree is not None else [],
        "is_new": segment.status == Status.NEW,
        "panels": [],
    }
    for panel in panels.registered():  # what other apps show here (metrics: unit costs)
        context.update(panel.context(request, segment, own["points"], currency))
        context["panels"].append(panel.template_name)
    return render(request, "segments/segment_detail.html", context)


@login_required
def segment_status(request, pk):
    """The status badge, polled by htmx while metrics are computed."""
    segment = _segment(request, pk)
    in_list = request.GET.get("in_list") == "1"  # the list page's badges have no id
    response = render(request, "segments/_status.html", {"segment": segment, "in_list": in_list})
    if segment.status != Status.NEW and request.htmx:
        response["HX-Refresh"] = "true"
    return response


# The row builder's operators (structured syntax) and how a row reads them.
ROW_OPERATORS = [
    ("=", "is"),
    ("!=", "is not"),
    ("in", "is one of"),
    ("not_in", "is none of"),
    ("contains", "contains"),
    ("not_contains", "does not contain"),
    ("like", "matches (LIKE)"),
    ("not_like", "does not match (LIKE)"),
]
TAG_OPERATORS = [("exists", "exists"), ("not_exists", "does not exist")]


def _builder_config(form: SegmentForm) -> dict:
    """What static/js/segment_filter.js needs: fields per provider, parents' providers."""
    return {
        "check_url": reverse("segments:filter-check"),
        "fields": {
            provider: [
                [field.name, field.label]
                for field in fields_for_provider(provider)
                if field.name != "provider"
            ]
            for provider in PROVIDERS
        },
        "operators": ROW_OPERATORS,
        "tag_operators": TAG_OPERATORS,
        "parents": {
            str(parent.pk): {"provider": parent.provider or "", "name": parent.name}
            for parent in form.fields["parent"].queryset
        },
    }


def _rows_of(tree) -> list | None:
    """The tree as builder rows (a flat AND of conditions, the provider left out), or None
    when it has groups the rows cannot show (OR, NOT): then it is edited as VQL."""
    if tree is None:
        return []
    rows = render_structured(tree, omit_provider=True)
    flat = all(isinstance(row, dict) and "field" in row for row in rows)
    return rows if flat and all(row["field"] != "provider" for row in rows) else None


@login_required
@require_POST
def segment_filter_check(request):
    """The row builder's live check: the same form clean as saving, then what the filter
    takes over the last days. Answers JSON: ``ok`` with ``vql``, ``rows``, ``provider``,
    counts and currency, or ``ok: false`` with the message saving would show."""
    organization = page_organization(request)
    form = SegmentFilterForm(request.POST, organization=organization)
    if not form.is_valid():
        errors = [str(message) for messages in form.errors.values() for message in messages]
        return JsonResponse({"ok": False, "error": " ".join(errors)})
    tree, provider = form.cleaned_data["tree"], form.cleaned_data["provider"]
    rows, cost = matching_costs(organization, tree if tree is not None else MATCH_ALL)
    return JsonResponse(
        {
            "ok": True,
            "vql": render_vql(tree) if tree is not None else "",
            "rows": _rows_of(tree),
            "provider": provider or "",
            "matching_rows": rows,
            "matching_cost": money(cost, currency_label(organization, provider)),
            "days": PREVIEW_DAYS,
        }
    )


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
        try:
            segment = services.segment_create(
                organization,
                created_by=request.user,
                **form.filter_arguments(),
                **form.service_arguments(),
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Segment “{segment.name}” created; computing its costs.")
            return redirect("segments:detail", pk=segment.pk)
    return render(
        request,
        "segments/segment_form.html",
        {"form": form, "segment": None, "builder": _builder_config(form)},
    )


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
    moved = None
    if request.method == "POST" and form.is_valid():
        try:
            if request.POST.get("action") == "preview":
                moved = services.segment_change_preview(
                    segment, **form.filter_arguments(), **form.service_arguments()
                )
            else:
                services.segment_update(
                    segment, **form.filter_arguments(), **form.service_arguments()
                )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            if moved is None:
                messages.success(request, f"Segment “{segment.name}” saved.")
                return redirect("segments:detail", pk=segment.pk)
    return render(
        request,
        "segments/segment_form.html",
        {
            "form": form,
            "segment": segment,
            "builder": _builder_config(form),
            "moved": moved,
            "moved_month": moves.last_full_month()[0],
        },
    )


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
