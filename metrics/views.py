"""Pages of the metrics app: metrics, events, customers and the product catalogue."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import ServiceError
from filter_segments.listing import FilteredListView
from organizations.pages import page_organization, writable_organization

from . import selectors, services, unit_costs
from .filters import CustomerFilter, EventFilter, MetricFilter, ProductFilter
from .forms import CustomerForm, MetricForm, ProductFamilyForm, ProductForm, UsageQueryForm
from .models import BillableMetric


def _service_errors(error: ServiceError) -> dict[str, list[str]]:
    return error.errors or {error.field or "__all__": [error.message]}


class MetricListView(FilteredListView):
    filterset_class = MetricFilter
    module = "metrics"
    url_name = "metrics:list"
    template_name = "metrics/metric_list.html"

    def get_base_queryset(self, organization):
        return selectors.metrics(organization)


class EventListView(FilteredListView):
    filterset_class = EventFilter
    module = "events"
    url_name = "metrics:events"
    template_name = "metrics/event_list.html"

    def get_base_queryset(self, organization):
        return selectors.events(organization)


class CustomerListView(FilteredListView):
    filterset_class = CustomerFilter
    module = "customers"
    url_name = "metrics:customers"
    template_name = "metrics/customer_list.html"

    def get_base_queryset(self, organization):
        return selectors.customers(organization)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "form": CustomerForm()}


class ProductListView(FilteredListView):
    filterset_class = ProductFilter
    module = "products"
    url_name = "metrics:products"
    template_name = "metrics/product_list.html"

    def get_base_queryset(self, organization):
        return selectors.products(organization)

    def get_context_data(self, **kwargs):
        organization = self.get_organization()
        return {
            **super().get_context_data(**kwargs),
            "families": selectors.product_families(organization),
            # Two forms on one page: ids of their own (both have a name and a description).
            "family_form": ProductFamilyForm(auto_id="family_%s"),
            "product_form": ProductForm(organization=organization, auto_id="product_%s"),
        }


@login_required
def metric_create(request):
    organization = page_organization(request)
    form = MetricForm(request.POST or None, organization=organization)
    if request.method == "POST":
        writable_organization(request)
        if form.is_valid():
            try:
                metric = services.metric_create(organization, **form.service_arguments())
            except ServiceError as error:
                form.add_service_errors(_service_errors(error))
            else:
                messages.success(request, f"Metric “{metric.name}” created.")
                return redirect("metrics:detail", pk=metric.pk)
    if not selectors.product_families(organization).exists():
        messages.warning(request, "Create a product family first (Products page).")
    return render(request, "metrics/metric_form.html", {"form": form})


@login_required
def metric_detail(request, pk):
    organization = page_organization(request)
    metric = get_object_or_404(selectors.metrics(organization), pk=pk)
    today = timezone.now().date()
    query = UsageQueryForm(request.GET or None, organization=organization)
    window, start, end, customer = "day", today.replace(day=1), today, None
    if query.is_valid():
        window = query.cleaned_data["window"] or window
        start = query.cleaned_data["start"] or start
        end = query.cleaned_data["end"] or end
        if query.cleaned_data["customer"]:
            customer = selectors.customer_by_reference(organization, query.cleaned_data["customer"])
    chart, chart_error = None, None
    try:
        selectors.periods(window, start, end)  # a bad range is refused before any work
        services.usage_refresh(metric, start, end, customer)
        chart = selectors.usage_chart(
            metric, window=window, start=start, end=end, customer=customer
        )
    except ServiceError as error:
        chart_error = error.message
    totals = []
    if chart:
        totals = [
            (label, sum(dataset["data"][index] for dataset in chart["datasets"]))
            for index, label in enumerate(chart["labels"])
        ]
    context = {
        "metric": metric,
        "query": query,
        "window": window,
        "start": start,
        "end": end,
        "customer": customer,
        "chart": chart,
        "chart_error": chart_error,
        "totals": totals,
        "has_usage": services.metric_has_usage(metric),
        **unit_costs.metric_panel(request, organization, metric, window, start, end),
    }
    return render(request, "metrics/metric_detail.html", context)


@login_required
@require_POST
def metric_archive(request, pk):
    organization = writable_organization(request)
    metric = get_object_or_404(BillableMetric, pk=pk, organization=organization)
    try:
        if request.POST.get("action") == "unarchive":
            services.metric_unarchive(metric)
            messages.success(request, "Metric unarchived.")
        else:
            services.metric_archive(metric)
            messages.success(request, "Metric archived.")
    except ServiceError as error:
        messages.error(request, error.message)
    return redirect("metrics:detail", pk=metric.pk)


@login_required
@require_POST
def customer_create(request):
    organization = writable_organization(request)
    form = CustomerForm(request.POST)
    if form.is_valid():
        try:
            customer = services.customer_create(organization, **form.cleaned_data)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Customer “{customer.name}” created ({customer.pk}).")
    else:
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect("metrics:customers")


@login_required
@require_POST
def product_family_create(request):
    organization = writable_organization(request)
    form = ProductFamilyForm(request.POST)
    if form.is_valid():
        family = services.product_family_create(organization, **form.cleaned_data)
        messages.success(request, f"Product family “{family.name}” created ({family.pk}).")
    else:
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect("metrics:products")


@login_required
@require_POST
def product_create(request):
    organization = writable_organization(request)
    form = ProductForm(request.POST, organization=organization)
    if form.is_valid():
        try:
            product = services.product_create(organization, **form.cleaned_data)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Product “{product.name}” created ({product.pk}).")
    else:
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect("metrics:products")
