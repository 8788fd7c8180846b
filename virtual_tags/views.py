"""Virtual tag pages: the list, a tag's page (its values' costs, status, history) and the
editor, whose "Preview" shows the money a change moves before it is saved."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import ServiceError
from organizations.pages import can_write, page_organization, writable_organization

from . import selectors, services
from .forms import ConfigForm, value_formset


def _config(request, token):
    config = selectors.configs_visible(page_organization(request)).filter(token=token).first()
    if config is None:
        raise Http404("No such virtual tag.")
    return config


@login_required
def config_list(request):
    organization = page_organization(request)
    configs = list(selectors.configs_visible(organization).prefetch_related("statuses"))
    rows = [{"config": config, "status": selectors.status_of(config)} for config in configs]
    return render(
        request,
        "virtual_tags/list.html",
        {"rows": rows, "can_write": can_write(request, organization)},
    )


@login_required
def config_detail(request, token):
    config = _config(request, token)
    start, end = services.last_full_month()
    return render(
        request,
        "virtual_tags/detail.html",
        {
            "config": config,
            "status": selectors.status_of(config),
            "costs": selectors.costs_by_value(config, start, end),
            "month": start,
            "history": selectors.history_of(config)[:20],
            "can_write": can_write(request, config.organization),
        },
    )


def _body(form: ConfigForm, values) -> dict:
    return {
        "key": form.cleaned_data["key"],
        "overridable": form.cleaned_data["overridable"],
        "backfill_until": form.cleaned_data["backfill_until"].isoformat(),
        "collapsed_tag_keys": form.collapsed(),
        "values": [
            value
            for row in values
            if row.cleaned_data and not row.cleaned_data.get("DELETE")
            if (value := row.value()) is not None
        ],
    }


def _place_error(error: ServiceError, form, values) -> None:
    """Show a service's refusal next to what it names (``values[2].filter`` → row 3)."""
    field = error.field or ""
    if field.startswith("values[") and "]" in field:
        index = int(field[len("values[") : field.index("]")])
        kept = [
            row
            for row in values
            if row.cleaned_data and not row.cleaned_data.get("DELETE") and row.value()
        ]
        if index < len(kept):
            rest = field[field.index("]") + 1 :].lstrip(".")
            name = rest.split(".")[0].split("[")[0] or None
            target = {"percentages": "percentages", "filter": "filter", "name": "name"}.get(name)
            if rest.startswith("cost_metric"):
                target = "cost_metric_filter" if "filter" in rest else "cost_metric_tag"
            if rest.startswith("date_ranges"):
                target = "end_date" if "end_date" in rest else "start_date"
            kept[index].add_error(target, f"{rest or 'value'}: {error.message}")
            return
    target = field if field in form.fields else None
    form.add_error(target, error.message if target else f"{field}: {error.message}".lstrip(": "))


@login_required
def config_edit(request, token=None):
    organization = writable_organization(request)
    config = _config(request, token) if token else None
    moved = None
    if request.method == "POST":
        form = ConfigForm(request.POST)
        values = value_formset(organization, request.POST)
        if form.is_valid() and values.is_valid():
            body = _body(form, values)
            try:
                if request.POST.get("action") == "preview":
                    moved = services.preview_request(organization, config, body)
                elif config is None:
                    config = services.config_create(organization, user=request.user, **body)
                else:
                    services.config_update(config, user=request.user, **body)
            except ServiceError as error:
                _place_error(error, form, values)
            else:
                if moved is None:
                    messages.success(request, f"Virtual tag “{config.key}” saved.")
                    return redirect("virtual_tags:detail", token=config.token)
    elif config is not None:
        form = ConfigForm(initial=ConfigForm.initial_of(config))
        values = value_formset(organization, values=config.values)
    else:
        form = ConfigForm(initial={"backfill_until": services.default_backfill()})
        values = value_formset(organization)
    return render(
        request,
        "virtual_tags/edit.html",
        {
            "config": config,
            "form": form,
            "values": values,
            "moved": moved,
            "month": services.last_full_month()[0],
        },
    )


@login_required
@require_POST
def config_delete(request, token):
    writable_organization(request)
    config = _config(request, token)
    key = config.key
    services.config_delete(config, user=request.user)
    messages.success(request, f"Virtual tag “{key}” deleted.")
    return redirect("virtual_tags:list")
