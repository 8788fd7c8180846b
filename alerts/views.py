"""Alert pages: the anomalies inbox and an anomaly's page (acknowledge, mark expected, feedback),
alert settings (channels, anomaly notifications, Costline alerts, cost alerts) and the delivery
log with replay. Every write goes through the same services as the API."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.errors import ServiceError
from metrics.models import BillableMetric
from organizations.pages import can_write, page_organization, writable_organization
from organizations.selectors import reachable_workspaces
from reports.selectors import cost_reports_visible
from segments.selectors import segments_visible

from . import anomalies, delivery, digest, selectors, services, watches
from .forms import ChannelForm, FeedbackForm, NotificationForm, WatchForm, split_addresses
from .models import AnomalyStatus, DeliveryStatus

User = get_user_model()
# The settings page holds three forms: ids of their own so a label names one field.
CHANNEL_IDS, NOTIFICATION_IDS, WATCH_IDS = "channel_%s", "notification_%s", "watch_%s"
STATUS_FILTERS = [("active", "Open"), ("acknowledged", "Acknowledged"), ("archived", "Archived")]


def safe_next(request) -> str | None:
    """Where a form asked to go back to, if that is a page of this site."""
    target = request.POST.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def _visible(request):
    organization = page_organization(request)
    return organization, reachable_workspaces(request, organization)


def _anomaly(request, token):
    organization, workspaces = _visible(request)
    found = selectors.anomalies_visible(organization, workspaces).filter(token=token).first()
    if found is None:
        raise Http404("No such anomaly.")
    return found


@login_required
def inbox(request):
    organization, workspaces = _visible(request)
    status = request.GET.get("status", "active")
    found = selectors.anomalies_visible(organization, workspaces).order_by("-day", "-id")
    if status in AnomalyStatus.values:
        found = found.filter(status=status)
    else:
        status = "all"
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    counts = selectors.anomaly_counts(organization, workspaces)
    return render(
        request,
        "alerts/inbox.html",
        {
            "page": page,
            "status": status,
            "status_filters": [(value, label, counts[value]) for value, label in STATUS_FILTERS],
            "can_write": can_write(request, organization),
        },
    )


@login_required
def anomaly_detail(request, token):
    anomaly = _anomaly(request, token)
    form = FeedbackForm(
        initial={
            "status": anomaly.status,
            "feedback": anomaly.feedback,
            "expected": anomaly.marked_expected,
        }
    )
    return render(
        request,
        "alerts/anomaly_detail.html",
        {
            "anomaly": anomaly,
            "form": form,
            "can_write": can_write(request, anomaly.organization),
            "deliveries": selectors.deliveries_of(anomaly.organization).filter(
                event_key=f"anomaly:{anomaly.token}"
            ),
            "history": selectors.anomaly_history(anomaly),
        },
    )


@login_required
@require_POST
def anomaly_action(request, token):
    """The inbox's buttons (acknowledge, expected, reopen) and the feedback form."""
    writable_organization(request)
    anomaly = _anomaly(request, token)
    action = request.POST.get("action")
    try:
        if action == "acknowledge":
            anomalies.anomaly_update(anomaly, status=AnomalyStatus.ACKNOWLEDGED)
            messages.success(request, f"Acknowledged: {anomaly.label} on {anomaly.day}.")
        elif action == "expected":
            anomalies.anomaly_update(anomaly, expected=True)
            messages.success(
                request,
                f"Marked expected: {anomaly.label}. Its series now alerts only on larger moves.",
            )
        elif action == "reopen":
            anomalies.anomaly_update(anomaly, status=AnomalyStatus.ACTIVE)
            messages.success(request, f"Reopened: {anomaly.label} on {anomaly.day}.")
        else:
            form = FeedbackForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Feedback not saved: " + form.errors.as_text())
                return redirect("alerts:anomaly", token=token)
            anomalies.anomaly_update(
                anomaly,
                status=form.cleaned_data["status"],
                feedback=form.cleaned_data["feedback"],
                expected=form.cleaned_data["expected"] or None,
            )
            messages.success(request, "Feedback saved.")
            return redirect("alerts:anomaly", token=token)
    except ServiceError as error:
        messages.error(request, error.message)
    return redirect(safe_next(request) or "alerts:inbox")


# --------------------------------------------------------------------------- settings


def _settings_context(request, organization, workspaces, **forms):
    channels = list(selectors.channels_of(organization))
    reports = list(cost_reports_visible(organization, workspaces).order_by("title"))
    members = list(User.objects.filter(memberships__organization=organization).order_by("username"))
    segments = list(segments_visible(organization, workspaces).order_by("name"))
    metrics = list(
        BillableMetric.objects.filter(organization=organization, archived_at__isnull=True)
    )
    return {
        "channels": channels,
        "notifications": selectors.anomaly_notifications_visible(organization, workspaces),
        "watches": selectors.watches_visible(organization, workspaces),
        "cost_alerts": selectors.cost_alerts_visible(organization, workspaces),
        "channel_form": forms.get("channel_form") or ChannelForm(auto_id=CHANNEL_IDS),
        "notification_form": forms.get("notification_form")
        or NotificationForm(
            reports=reports, members=members, channels=channels, auto_id=NOTIFICATION_IDS
        ),
        "watch_form": forms.get("watch_form")
        or WatchForm(segments=segments, metrics=metrics, channels=channels, auto_id=WATCH_IDS),
        "can_write": can_write(request, organization),
        "digest_subscribed": digest.digest_subscribed(request.user, organization),
        "reports": reports,
        "members": members,
        "segments": segments,
        "metrics": metrics,
    }


@login_required
def alert_settings(request):
    organization, workspaces = _visible(request)
    return render(
        request, "alerts/settings.html", _settings_context(request, organization, workspaces)
    )


@login_required
@require_POST
def channel_create(request):
    organization = writable_organization(request)
    form = ChannelForm(request.POST)
    if form.is_valid():
        try:
            channel = services.channel_create(organization, **form.cleaned_data)
            messages.success(request, f"Channel “{channel.name}” added.")
        except ServiceError as error:
            messages.error(request, f"Channel not added: {error.message}")
    else:
        messages.error(request, "Channel not added: " + form.errors.as_text())
    return redirect("alerts:settings")


@login_required
@require_POST
def channel_action(request, pk):
    organization = writable_organization(request)
    channel = selectors.channels_of(organization).filter(pk=pk).first()
    if channel is None:
        raise Http404("No such channel.")
    action = request.POST.get("action")
    if action == "delete":
        services.channel_delete(channel)
        messages.success(request, f"Channel “{channel.name}” deleted.")
    elif action == "test":
        services.channel_test(channel)
        messages.success(
            request, f"Test notice queued for “{channel.name}”: see Deliveries for the result."
        )
        return redirect("alerts:deliveries")
    else:
        services.channel_update(channel, enabled=not channel.enabled)
        state = "enabled" if channel.enabled else "disabled"
        messages.success(request, f"Channel “{channel.name}” {state}.")
    return redirect("alerts:settings")


@login_required
@require_POST
def notification_create(request):
    organization = writable_organization(request)
    _, workspaces = _visible(request)
    context = _settings_context(request, organization, workspaces)
    form = NotificationForm(
        request.POST,
        reports=context["reports"],
        members=context["members"],
        channels=context["channels"],
    )
    if form.is_valid():
        report = next(r for r in context["reports"] if r.token == form.cleaned_data["cost_report"])
        try:
            services.anomaly_notification_create(
                organization,
                cost_report=report,
                threshold=form.cleaned_data["threshold"],
                user_ids=[int(pk) for pk in form.cleaned_data["users"]],
                recipient_channels=form.cleaned_data["channels"],
            )
            messages.success(request, f"Anomalies of “{report.title}” will be notified.")
        except ServiceError as error:
            messages.error(request, f"Notification not added: {error.message}")
    else:
        messages.error(request, "Notification not added: " + form.errors.as_text())
    return redirect("alerts:settings")


@login_required
@require_POST
def notification_delete(request, token):
    organization = writable_organization(request)
    _, workspaces = _visible(request)
    found = selectors.anomaly_notifications_visible(organization, workspaces)
    notification = found.filter(token=token).first()
    if notification is None:
        raise Http404("No such notification.")
    services.anomaly_notification_delete(notification)
    messages.success(request, "Notification deleted.")
    return redirect("alerts:settings")


@login_required
@require_POST
def watch_create(request):
    organization = writable_organization(request)
    _, workspaces = _visible(request)
    context = _settings_context(request, organization, workspaces)
    form = WatchForm(
        request.POST,
        segments=context["segments"],
        metrics=context["metrics"],
        channels=context["channels"],
    )
    if form.is_valid():
        data = form.cleaned_data
        segments = {s.token: s for s in context["segments"]}
        metrics = {m.pk: m for m in context["metrics"]}
        try:
            watch = watches.watch_create(
                organization,
                title=data["title"],
                subject=data["subject"],
                segment=segments.get(data["segment"]),
                metric=metrics.get(data["metric"]),
                condition=data["condition"],
                threshold=data["threshold"],
                email_recipients=split_addresses(data["emails"]),
                channels=services.channels_by_name(organization, data["channels"], "channels"),
            )
            messages.success(request, f"Costline alert “{watch.title}” added.")
        except ServiceError as error:
            messages.error(request, f"Alert not added: {error.field or ''} {error.message}")
    else:
        messages.error(request, "Alert not added: " + form.errors.as_text())
    return redirect("alerts:settings")


@login_required
@require_POST
def watch_action(request, token):
    organization = writable_organization(request)
    workspaces = reachable_workspaces(request, organization)
    watch = selectors.watches_visible(organization, workspaces).filter(token=token).first()
    if watch is None:
        raise Http404("No such alert.")
    action = request.POST.get("action")
    if action == "delete":
        watches.watch_delete(watch)
        messages.success(request, f"Alert “{watch.title}” deleted.")
    elif action == "check":
        event = watches.watch_evaluate(watch)
        messages.success(
            request, event.description if event else f"“{watch.title}”: nothing to report."
        )
    else:
        watches.watch_update(watch, enabled=not watch.enabled)
        messages.success(
            request, f"Alert “{watch.title}” {'enabled' if watch.enabled else 'paused'}."
        )
    return redirect("alerts:settings")


@login_required
@require_POST
def digest_preference(request):
    """Anyone, viewers too, chooses whether they get the weekly digest (it is their inbox)."""
    organization = page_organization(request)
    subscribed = request.POST.get("weekly_digest") == "on"
    digest.digest_subscribe(request.user, organization, subscribed)
    messages.success(
        request,
        "You will get the weekly digest." if subscribed else "No more weekly digest for you.",
    )
    return redirect("alerts:settings")


# --------------------------------------------------------------------------- deliveries


@login_required
def delivery_log(request):
    organization = page_organization(request)
    status = request.GET.get("status", "")
    found = selectors.deliveries_of(organization)
    if status in DeliveryStatus.values:
        found = found.filter(status=status)
    else:
        status = ""
    page = Paginator(found.order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "alerts/deliveries.html",
        {
            "page": page,
            "status": status,
            "statuses": DeliveryStatus.choices,
            "can_write": can_write(request, organization),
        },
    )


@login_required
@require_POST
def delivery_replay(request, token):
    organization = writable_organization(request)
    found = selectors.deliveries_of(organization).filter(token=token).first()
    if found is None:
        raise Http404("No such delivery.")
    try:
        delivery.delivery_replay(found)
        messages.success(request, f"Delivery to {found.target_label} queued again.")
    except ServiceError as error:
        messages.error(request, error.message)
    return redirect("alerts:deliveries")
