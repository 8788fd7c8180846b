"""Budget pages: the list (each budget's current period at a glance), a budget's page (actual
vs forecast chart with the prediction band, periods with variance, alerts and their crossings),
the create and edit forms, and the alert settings of a budget.

Figures come from ``budgets.selectors.budget_figures``: the same numbers as ``/v2/budgets``'s
performance. Forecasts are the stored ones (made after imports; made now if missing).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from alerts.models import Channel
from core.errors import ServiceError
from organizations.models import Membership
from organizations.pages import can_write, page_organization, writable_organization
from organizations.selectors import default_reachable_workspace, reachable_workspaces
from reports import selectors as report_selectors
from segments import selectors as segment_selectors

from . import selectors, services
from .forms import BudgetAlertForm, BudgetForm


def _visible(request):
    organization = page_organization(request)
    return organization, reachable_workspaces(request, organization)


def _budget(request, token):
    organization, workspaces = _visible(request)
    budget = selectors.budgets_visible(organization, workspaces).filter(token=token).first()
    if budget is None:
        raise Http404("No such budget.")
    return budget


def _status(period) -> str:
    if period is None:
        return "no current period"
    if period.amount and period.actual > period.amount:
        return "over budget"
    if period.variance is not None and period.variance > 0:
        return "forecast over"
    if period.forecast_percent is not None and period.forecast_percent >= selectors.AT_RISK_PERCENT:
        return "at risk"
    return "on track"


@login_required
def budget_list(request):
    organization, workspaces = _visible(request)
    today = timezone.now().date()
    rows = []
    for budget in selectors.budgets_visible(organization, workspaces).order_by("name", "pk"):
        figures = selectors.budget_figures(budget, today)
        period = selectors.current_period(figures, today) or (figures[-1] if figures else None)
        rows.append({"budget": budget, "period": period, "status": _status(period)})
    return render(
        request,
        "budgets/budget_list.html",
        {"rows": rows, "can_write": can_write(request, organization), "today": today},
    )


def _ensure_forecasts(budget) -> None:
    """A budget's page reads stored forecasts; a subject without one gets it now."""
    for leaf in selectors.leaf_budgets(budget):
        services.forecast_for(cost_report=leaf.cost_report, segment=leaf.segment)


@login_required
def budget_detail(request, token):
    budget = _budget(request, token)
    today = timezone.now().date()
    problem = None
    try:
        _ensure_forecasts(budget)
        figures = selectors.budget_figures(budget, today)
        chart = selectors.budget_chart(budget, figures, today)
    except ServiceError as error:
        figures, chart, problem = [], None, error.message
    current = selectors.current_period(figures, today)
    organization = budget.organization
    return render(
        request,
        "budgets/budget_detail.html",
        {
            "budget": budget,
            "figures": figures,
            "current": current,
            "status": _status(current),
            "chart": chart,
            "problem": problem,
            "alerts": list(budget.alerts.all().prefetch_related("recipients")),
            "events": list(selectors.alert_events_of(budget)[:20]),
            "alert_form": BudgetAlertForm(**_alert_choices(organization)),
            "can_write": can_write(request, organization),
            "today": today,
        },
    )


def _form_choices(request, organization, budget=None) -> dict:
    _, workspaces = _visible(request)
    budgets = selectors.budgets_visible(organization, workspaces).order_by("name")
    if budget is not None:
        budgets = budgets.exclude(pk=budget.pk)
    return {
        "reports": report_selectors.cost_reports_visible(organization, workspaces).order_by(
            "title"
        ),
        "segments": segment_selectors.segments_visible(organization, workspaces)
        .filter(report_token__isnull=False)
        .order_by("name"),
        "budgets": list(budgets),
    }


@login_required
@require_http_methods(["GET", "POST"])
def budget_create(request):
    organization = writable_organization(request)
    form = BudgetForm(request.POST or None, **_form_choices(request, organization))
    if request.method == "POST" and form.is_valid():
        arguments = form.service_arguments()
        tracked = arguments["cost_report"] or arguments["segment"]
        children = arguments["children"]
        if children:
            workspace = children[0].workspace
        elif tracked is not None:
            workspace = tracked.workspace
        else:
            workspace = default_reachable_workspace(request, organization)
        try:
            budget = services.budget_create(
                organization, workspace=workspace, created_by=request.user, **arguments
            )
        except ServiceError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Budget “{budget.name}” created.")
            return redirect("budgets:detail", token=budget.token)
    return render(request, "budgets/budget_form.html", {"form": form, "budget": None})


@login_required
@require_http_methods(["GET", "POST"])
def budget_edit(request, token):
    budget = _budget(request, token)
    organization = writable_organization(request)
    choices = _form_choices(request, organization, budget)
    if request.method == "POST":
        form = BudgetForm(request.POST, **choices)
        if form.is_valid():
            arguments = form.service_arguments()
            try:
                services.budget_update(
                    budget,
                    name=arguments["name"],
                    tracked=(arguments["cost_report"], arguments["segment"]),
                    children=arguments["children"],
                    periods=arguments["periods"],
                )
            except ServiceError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, f"Budget “{arguments['name']}” saved.")
                return redirect("budgets:detail", token=budget.token)
    else:
        form = BudgetForm(initial=BudgetForm.initial_of(budget), **choices)
    return render(request, "budgets/budget_form.html", {"form": form, "budget": budget})


@login_required
@require_POST
def budget_delete(request, token):
    budget = _budget(request, token)
    writable_organization(request)
    services.budget_delete(budget)
    messages.success(request, f"Budget “{budget.name}” deleted.")
    return redirect("budgets:list")


def _alert_choices(organization) -> dict:
    members = [
        membership.user
        for membership in Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__username")
    ]
    channels = Channel.objects.filter(organization=organization, enabled=True).order_by("name")
    return {"members": members, "channels": list(channels)}


@login_required
@require_POST
def alert_create(request, token):
    budget = _budget(request, token)
    organization = writable_organization(request)
    form = BudgetAlertForm(request.POST, **_alert_choices(organization))
    if form.is_valid():
        try:
            alert = services.budget_alert_create(
                organization, budgets=[budget], created_by=request.user, **form.service_arguments()
            )
        except ServiceError as error:
            messages.error(request, f"The alert was not saved: {error.message}")
        else:
            messages.success(request, f"Alert at {alert.threshold}% added.")
            return redirect("budgets:detail", token=budget.token)
    else:
        problems = "; ".join(
            f"{form.fields[name].label or name}: {' '.join(errors)}"
            if name in form.fields
            else " ".join(errors)
            for name, errors in form.errors.items()
        )
        messages.error(request, f"The alert was not saved: {problems}")
    return redirect("budgets:detail", token=budget.token)


@login_required
@require_POST
def alert_delete(request, token, alert_token):
    budget = _budget(request, token)
    writable_organization(request)
    alert = budget.alerts.filter(token=alert_token).first()
    if alert is None:
        raise Http404("No such alert.")
    services.budget_alert_delete(alert)
    messages.success(request, f"Alert at {alert.threshold}% deleted.")
    return redirect("budgets:detail", token=budget.token)
