"""Vantage's v2 budgets surface: budgets, budget alerts, forecasted costs and report forecasts.

Shapes follow ``@vantage-sh/vantage-client``'s types field for field (``Budget``,
``BudgetAlert``, ``ForecastedCosts``, ``ReportForecast``); errors are ``{"errors": [...]}``
naming the field; lists use Vantage's ``links`` paging. Costline additions are documented in
docs/budgets.md: a ``cost_report_token`` may be a segment's report token, and each forecasted
cost carries its prediction interval (``lower_bound``, ``upper_bound``).
"""

from __future__ import annotations

import re

from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from core.errors import NotFoundError, ServiceError
from core.params import date_param, utc_timestamp
from core.vantage import vantage_errors
from organizations.models import Membership
from reports.api.vantage import VantageReportsView, money_text, user_token
from segments.filter_tree import PROVIDERS

from .. import selectors, services
from ..models import Budget, BudgetAlert, PeriodToTrack, ReportForecast
from .fields import NumberDecimalField, StrictBooleanField, StrictIntegerField, TextField

PAGING = [
    OpenApiParameter("page", int, description="The page of results to return."),
    OpenApiParameter("limit", int, description="The amount of results (max 1000)."),
]


def _today():
    return timezone.now().date()


# --------------------------------------------------------------------------- serializers


class BudgetPeriodSerializer(serializers.Serializer):
    start_at = serializers.CharField()
    end_at = serializers.CharField()
    amount = serializers.CharField()


class BudgetPerformanceSerializer(serializers.Serializer):
    date = serializers.CharField()
    actual = serializers.CharField()
    amount = serializers.CharField()


class BudgetSerializer(serializers.Serializer):
    """Vantage's Budget."""

    token = serializers.CharField()
    name = serializers.CharField(allow_null=True)
    workspace_token = serializers.CharField()
    user_token = serializers.CharField(allow_null=True)
    created_by_token = serializers.CharField(allow_null=True)
    cost_report_token = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()
    budget_alert_tokens = serializers.ListField(child=serializers.CharField())
    child_budget_tokens = serializers.ListField(child=serializers.CharField())
    periods = BudgetPeriodSerializer(many=True)
    performance = BudgetPerformanceSerializer(many=True, required=False)

    def to_representation(self, budget: Budget) -> dict:
        creator = user_token(budget.created_by_id)
        body = {
            "token": budget.token,
            "name": budget.name,
            "workspace_token": budget.workspace.token,
            "user_token": creator,
            "created_by_token": creator,
            "cost_report_token": budget.tracked_token,
            "created_at": utc_timestamp(budget.created_at),
            "budget_alert_tokens": [alert.token for alert in budget.alerts.all()],
            "child_budget_tokens": [child.token for child in budget.children.all()],
            "periods": [
                {"start_at": start.isoformat(), "end_at": end.isoformat(), "amount": money_text(a)}
                for start, end, a in selectors.budget_periods(budget)
            ],
        }
        # The figures are the view's (selectors.budget_performance): a serializer only shapes.
        performance = self.context.get("performance", {})
        if budget.pk in performance:
            body["performance"] = [
                {
                    "date": period.start.isoformat(),
                    "actual": money_text(period.actual),
                    "amount": money_text(period.amount),
                }
                for period in performance[budget.pk]
            ]
        return body


class PeriodInputSerializer(serializers.Serializer):
    start_at = serializers.DateField()
    end_at = serializers.DateField(required=False, allow_null=True)
    # Any JSON number in range: the service rounds it to the cent's ten-thousandth. The ceiling
    # keeps cents exact wherever the amount is stored (a float with 15 significant digits on
    # SQLite); a larger one came back as 1e14 and broke the read.
    amount = NumberDecimalField(
        max_digits=None,
        decimal_places=None,
        min_value=0,
        max_value=services.MAX_PERIOD_AMOUNT,
        help_text="Zero to 9,999,999,999,999.99; rounded to 6 decimal places.",
    )


class BudgetWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    workspace_token = serializers.CharField(required=False)
    cost_report_token = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    child_budget_tokens = serializers.ListField(
        child=TextField(), required=False, max_length=services.MAX_CHILDREN
    )
    periods = PeriodInputSerializer(many=True, required=False, max_length=services.MAX_PERIODS)


class BudgetUpdateSerializer(BudgetWriteSerializer):
    name = serializers.CharField(max_length=255, required=False)
    workspace_token = None


class BudgetAlertSerializer(serializers.Serializer):
    """Vantage's BudgetAlert."""

    token = serializers.CharField()
    budget_tokens = serializers.ListField(child=serializers.CharField())
    created_at = serializers.CharField()
    workspace_token = serializers.CharField(allow_null=True)
    user_token = serializers.CharField(allow_null=True)
    user_tokens = serializers.ListField(child=serializers.CharField())
    duration_in_days = serializers.IntegerField(allow_null=True)
    threshold = serializers.IntegerField()
    period_to_track = serializers.CharField(allow_null=True)
    integration_provider = serializers.CharField(allow_null=True)
    recipient_channels = serializers.ListField(child=serializers.CharField(), allow_null=True)

    def to_representation(self, alert: BudgetAlert) -> dict:
        return {
            "token": alert.token,
            "budget_tokens": [budget.token for budget in alert.budgets.all()],
            "created_at": utc_timestamp(alert.created_at),
            "workspace_token": alert.workspace.token,
            "user_token": user_token(alert.created_by_id),
            "user_tokens": [user_token(user.pk) for user in alert.recipients.all()],
            "duration_in_days": alert.duration_in_days,
            "threshold": alert.threshold,
            "period_to_track": alert.period_to_track,
            # Costline's channels are its own (alerts app), not a Slack/Teams integration.
            "integration_provider": None,
            "recipient_channels": list(alert.recipient_channels),
        }


DAYS_PATTERN = "(|[1-9]|[12][0-9]|3[01])"  # "" (the whole month) or 1 to 31


@extend_schema_field(
    {
        "type": "string",
        "nullable": True,
        "pattern": f"^{DAYS_PATTERN}$",
        "description": "Days from the start or end of the month (1 to 31); empty: the whole month.",
    }
)
class DurationField(serializers.Field):
    """Vantage sends ``duration_in_days`` as a string ("" or null: the whole month)."""

    default_error_messages = {"invalid": "must be a whole number of days from 1 to 31, or empty."}
    DAYS = re.compile(DAYS_PATTERN)

    def to_internal_value(self, data):
        # A JSON whole number is read as its text, as DRF reads numbers in string fields.
        if data is None:
            return None
        text = str(data) if isinstance(data, int) and not isinstance(data, bool) else data
        if not isinstance(text, str) or not self.DAYS.fullmatch(text):
            self.fail("invalid")
        return int(text) if text else None

    def to_representation(self, value):
        return value


class BudgetAlertWriteSerializer(serializers.Serializer):
    budget_tokens = serializers.ListField(child=TextField(), min_length=1, max_length=100)
    threshold = StrictIntegerField(min_value=1, max_value=services.MAX_THRESHOLD)
    user_tokens = serializers.ListField(child=TextField(), required=False, max_length=100)
    duration_in_days = DurationField(required=False, allow_null=True)
    period_to_track = serializers.ChoiceField(
        choices=PeriodToTrack.values, required=False, allow_null=True
    )
    recipient_channels = serializers.ListField(child=TextField(), required=False, max_length=50)


class BudgetAlertUpdateSerializer(BudgetAlertWriteSerializer):
    budget_tokens = serializers.ListField(
        child=TextField(), required=False, min_length=1, max_length=100
    )
    threshold = StrictIntegerField(required=False, min_value=1, max_value=services.MAX_THRESHOLD)


class ForecastedCostSerializer(serializers.Serializer):
    date = serializers.CharField()
    amount = serializers.CharField()
    provider = serializers.CharField()
    service = serializers.CharField()
    lower_bound = serializers.CharField(help_text="Costline: the prediction interval's low end.")
    upper_bound = serializers.CharField(help_text="Costline: the prediction interval's high end.")


class ForecastedCostsSerializer(serializers.Serializer):
    links = serializers.DictField()
    forecasted_costs = ForecastedCostSerializer(many=True)
    currency = serializers.CharField(allow_null=True)


class ReportForecastSerializer(serializers.Serializer):
    """Vantage's ReportForecast."""

    token = serializers.CharField()
    title = serializers.CharField()
    cost_report_token = serializers.CharField()
    scenario_model_tokens = serializers.ListField(child=serializers.CharField())
    business_metric_token = serializers.CharField(allow_null=True)
    is_default = serializers.BooleanField()
    created_by_token = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()
    updated_at = serializers.CharField()

    def to_representation(self, forecast: ReportForecast) -> dict:
        return {
            "token": forecast.token,
            "title": forecast.title,
            "cost_report_token": forecast.cost_report.token,
            "scenario_model_tokens": list(forecast.scenario_model_tokens),
            "business_metric_token": forecast.business_metric_token,
            "is_default": forecast.is_default,
            "created_by_token": user_token(forecast.created_by_id),
            "created_at": utc_timestamp(forecast.created_at),
            "updated_at": utc_timestamp(forecast.updated_at),
        }


class ReportForecastWriteSerializer(serializers.Serializer):
    cost_report_token = serializers.CharField()
    title = serializers.CharField(max_length=255)
    scenario_model_tokens = serializers.ListField(
        child=TextField(max_length=64), required=False, max_length=50
    )
    business_metric_token = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=64
    )
    set_as_default = StrictBooleanField(required=False, allow_null=True)


class ReportForecastUpdateSerializer(ReportForecastWriteSerializer):
    cost_report_token = None
    title = serializers.CharField(max_length=255, required=False)


# --------------------------------------------------------------------------- base view


# Look-ups of this surface, inside the request's organization and reachable workspaces.
class VantageBudgetsView(VantageReportsView):
    def budgets(self):
        return selectors.budgets_visible(self.get_organization(), self.get_workspaces())

    def budget_alerts(self):
        return selectors.budget_alerts_visible(self.get_organization(), self.get_workspaces())

    def report_forecasts(self):
        return selectors.report_forecasts_visible(self.get_organization(), self.get_workspaces())

    def budgets_by_tokens(self, tokens: list[str], field: str) -> list[Budget]:
        found = {budget.token: budget for budget in self.budgets().filter(token__in=tokens)}
        missing = [token for token in tokens if token not in found]
        if missing:
            raise NotFoundError(f"Budget {missing[0]} not found.", field=field)
        return [found[token] for token in dict.fromkeys(tokens)]

    def tracked(self, token: str | None) -> tuple:
        """``(cost_report, segment)`` named by a ``cost_report_token`` (a report's, or a
        segment's report token); 404 when neither."""
        if not token:
            return None, None
        report = self.cost_reports().filter(token=token).first()
        if report is not None:
            return report, None
        segment = selectors.tracked_segment(self.get_organization(), self.get_workspaces(), token)
        if segment is not None:
            return None, segment
        raise NotFoundError("Cost report not found.", field="cost_report_token")

    def users_by_tokens(self, tokens: list[str]) -> list:
        """Members of the organization named by Vantage user tokens (``usr_<env>_<id>``)."""
        prefix = f"usr_{django_settings.COSTLINE_ENVIRONMENT}_"
        ids = {}
        for token in tokens:
            suffix = token[len(prefix) :] if token.startswith(prefix) else ""
            if not suffix.isdigit():
                raise NotFoundError(f"User {token} not found.", field="user_tokens")
            ids[token] = int(suffix)
        members = set(
            Membership.objects.filter(
                organization=self.get_organization(), user_id__in=ids.values()
            ).values_list("user_id", flat=True)
        )
        for token, user_id in ids.items():
            if user_id not in members:
                raise NotFoundError(f"User {token} not found.", field="user_tokens")
        return list(get_user_model().objects.filter(pk__in=members))

    def page_of(self, queryset, serializer_class, context_of=None):
        """One page of ``queryset``; ``context_of(items)`` gives the serializer's context."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, self)
        context = context_of(page) if context_of else {}
        return paginator.get_paginated_response(
            serializer_class(page, many=True, context=context).data
        )

    def budget_body(self, budget: Budget, include_performance: bool = True) -> dict:
        context = performance_context([budget]) if include_performance else {}
        return BudgetSerializer(budget, context=context).data


def performance_context(budgets) -> dict:
    return {"performance": selectors.budget_performance(budgets, _today())}


def period_inputs(periods) -> list[services.PeriodInput]:
    return [
        services.PeriodInput(period["start_at"], period.get("end_at"), period["amount"])
        for period in periods or []
    ]


# --------------------------------------------------------------------------- budgets


class BudgetListView(VantageBudgetsView):
    results_key = "budgets"

    @extend_schema(
        operation_id="getBudgets",
        tags=["Budgets"],
        parameters=[
            *PAGING,
            OpenApiParameter("q", str, description="Search budgets by name."),
            OpenApiParameter("workspace_token", str, description="Only this workspace."),
        ],
        responses={200: BudgetSerializer(many=True), **vantage_errors(400, 404)},
    )
    def get(self, request):
        budgets = self.budgets()
        if request.query_params.get("q"):
            budgets = budgets.filter(name__icontains=request.query_params["q"])
        if request.query_params.get("workspace_token"):
            budgets = budgets.filter(
                workspace=self.workspace(request.query_params["workspace_token"])
            )
        return self.page_of(
            budgets.order_by("created_at", "id"), BudgetSerializer, performance_context
        )

    @extend_schema(
        operation_id="createBudget",
        tags=["Budgets"],
        request=BudgetWriteSerializer,
        responses={201: BudgetSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def post(self, request):
        body = BudgetWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        children = self.budgets_by_tokens(
            data.get("child_budget_tokens", []), "child_budget_tokens"
        )
        cost_report, segment = (
            (None, None) if children else self.tracked(data.get("cost_report_token"))
        )
        tracked = cost_report or segment
        if children:
            workspace = children[0].workspace
        elif tracked is not None and not data.get("workspace_token"):
            workspace = tracked.workspace
        else:
            workspace = self.workspace(data.get("workspace_token"))
        budget = services.budget_create(
            self.get_organization(),
            workspace=workspace,
            name=data["name"],
            cost_report=cost_report,
            segment=segment,
            children=children,
            periods=period_inputs(data.get("periods")),
            created_by=request.user,
        )
        budget = self.budgets().get(pk=budget.pk)
        return Response(self.budget_body(budget), status=status.HTTP_201_CREATED)


class BudgetDetailView(VantageBudgetsView):
    def budget(self, token):
        return self.by_token(self.budgets(), token, "Budget")

    @extend_schema(
        operation_id="getBudget",
        tags=["Budgets"],
        parameters=[
            OpenApiParameter(
                "include_performance", bool, description="Include performance (default true)."
            )
        ],
        responses={200: BudgetSerializer, **vantage_errors(400, 404)},
    )
    def get(self, request, budget_token):
        include = (request.query_params.get("include_performance") or "true").lower()
        if include not in ("true", "false", "1", "0"):
            raise ServiceError("must be true or false.", field="include_performance")
        return Response(self.budget_body(self.budget(budget_token), include in ("true", "1")))

    @extend_schema(
        operation_id="updateBudget",
        tags=["Budgets"],
        request=BudgetUpdateSerializer,
        responses={200: BudgetSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def put(self, request, budget_token):
        budget = self.budget(budget_token)
        body = BudgetUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        changes: dict = {}
        if "name" in data:
            changes["name"] = data["name"]
        if "child_budget_tokens" in data:
            changes["children"] = self.budgets_by_tokens(
                data["child_budget_tokens"], "child_budget_tokens"
            )
        if "cost_report_token" in data:
            changes["tracked"] = self.tracked(data["cost_report_token"])
        if "periods" in data:
            changes["periods"] = period_inputs(data["periods"])
        services.budget_update(budget, **changes)
        return Response(self.budget_body(self.budget(budget_token)))

    @extend_schema(
        operation_id="deleteBudget",
        tags=["Budgets"],
        responses={204: None, **vantage_errors(403, 404)},
    )
    def delete(self, request, budget_token):
        services.budget_delete(self.budget(budget_token))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------- budget alerts


class BudgetAlertListView(VantageBudgetsView):
    results_key = "budget_alerts"

    @extend_schema(
        operation_id="getBudgetAlerts",
        tags=["BudgetAlerts"],
        parameters=[
            *PAGING,
            OpenApiParameter("workspace_token", str, description="Only this workspace."),
            OpenApiParameter("budget_token", str, description="Only the alerts of this budget."),
        ],
        responses={200: BudgetAlertSerializer(many=True), **vantage_errors(400, 404)},
    )
    def get(self, request):
        alerts = self.budget_alerts()
        if request.query_params.get("workspace_token"):
            alerts = alerts.filter(
                workspace=self.workspace(request.query_params["workspace_token"])
            )
        if request.query_params.get("budget_token"):
            budget = self.by_token(
                self.budgets(), request.query_params["budget_token"], "Budget", "budget_token"
            )
            alerts = alerts.filter(budgets=budget)
        return self.page_of(alerts.order_by("created_at", "id"), BudgetAlertSerializer)

    @extend_schema(
        operation_id="createBudgetAlert",
        tags=["BudgetAlerts"],
        request=BudgetAlertWriteSerializer,
        responses={201: BudgetAlertSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def post(self, request):
        body = BudgetAlertWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        alert = services.budget_alert_create(
            self.get_organization(),
            budgets=self.budgets_by_tokens(data["budget_tokens"], "budget_tokens"),
            threshold=data["threshold"],
            recipients=self.users_by_tokens(data.get("user_tokens", [])),
            duration_in_days=data.get("duration_in_days"),
            period_to_track=data.get("period_to_track"),
            recipient_channels=data.get("recipient_channels", []),
            created_by=request.user,
        )
        alert = self.budget_alerts().get(pk=alert.pk)
        return Response(BudgetAlertSerializer(alert).data, status=status.HTTP_201_CREATED)


class BudgetAlertDetailView(VantageBudgetsView):
    def alert(self, token):
        return self.by_token(self.budget_alerts(), token, "Budget alert")

    @extend_schema(
        operation_id="getBudgetAlert",
        tags=["BudgetAlerts"],
        responses={200: BudgetAlertSerializer, **vantage_errors(404)},
    )
    def get(self, request, budget_alert_token):
        return Response(BudgetAlertSerializer(self.alert(budget_alert_token)).data)

    @extend_schema(
        operation_id="updateBudgetAlert",
        tags=["BudgetAlerts"],
        request=BudgetAlertUpdateSerializer,
        responses={200: BudgetAlertSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def put(self, request, budget_alert_token):
        alert = self.alert(budget_alert_token)
        body = BudgetAlertUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        changes = {
            name: data[name]
            for name in ("threshold", "duration_in_days", "period_to_track", "recipient_channels")
            if name in data
        }
        if "budget_tokens" in data:
            changes["budgets"] = self.budgets_by_tokens(data["budget_tokens"], "budget_tokens")
        if "user_tokens" in data:
            changes["recipients"] = self.users_by_tokens(data["user_tokens"])
        services.budget_alert_update(alert, **changes)
        return Response(BudgetAlertSerializer(self.alert(budget_alert_token)).data)

    @extend_schema(
        operation_id="deleteBudgetAlert",
        tags=["BudgetAlerts"],
        responses={204: None, **vantage_errors(403, 404)},
    )
    def delete(self, request, budget_alert_token):
        services.budget_alert_delete(self.alert(budget_alert_token))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------- forecasted costs


class ForecastedCostsView(VantageBudgetsView):
    """A cost report's daily forecast from the day after its last cost to the end of that month
    and two more, with a 95% prediction interval (docs/budgets.md)."""

    results_key = "forecasted_costs"

    @extend_schema(
        operation_id="getForecastedCosts",
        tags=["CostReports"],
        parameters=[
            OpenApiParameter("start_date", OpenApiTypes.DATE, description="First day."),
            OpenApiParameter(
                "end_date",
                OpenApiTypes.DATE,
                description="Last day (included); before start_date: no days.",
            ),
            OpenApiParameter(
                "provider",
                str,
                enum=["all", *sorted(PROVIDERS)],
                description="A provider, or all (default).",
            ),
            OpenApiParameter(
                "service",
                {"type": "string", "maxLength": 255},
                description="A service name, or all (default).",
            ),
            *PAGING,
        ],
        responses={200: ForecastedCostsSerializer, **vantage_errors(400, 404)},
    )
    def get(self, request, cost_report_token):
        query = request.query_params
        paginator = self.pagination_class()
        paginator.paginate_queryset([], request, self)  # bad paging is refused before any work
        start, end = date_param(query, "start_date"), date_param(query, "end_date")
        provider = query.get("provider") or "all"
        service = query.get("service") or "all"
        if provider != "all" and provider not in PROVIDERS:
            raise ServiceError(
                f"must be all or one of {', '.join(sorted(PROVIDERS))}.", field="provider"
            )
        if len(service) > 255:
            raise ServiceError("at most 255 characters.", field="service")
        cost_report, segment = self.tracked(cost_report_token)
        if segment is not None and (provider, service) != ("all", "all"):
            raise ServiceError(
                "a segment's forecast is of its whole cost: provider and service must be all.",
                field="provider" if provider != "all" else "service",
            )
        forecast = services.forecast_for(
            cost_report=cost_report, segment=segment, provider=provider, service=service
        )
        points = [
            point
            for point in selectors.forecast_points(forecast)
            if (start is None or point.day >= start) and (end is None or point.day <= end)
        ]
        page = paginator.paginate_queryset(points, request, self)
        return Response(
            {
                "links": paginator.get_links(),
                "forecasted_costs": [
                    {
                        "date": point.day.isoformat(),
                        "amount": money_text(point.amount),
                        "provider": provider,
                        "service": service,
                        "lower_bound": money_text(point.lower),
                        "upper_bound": money_text(point.upper),
                    }
                    for point in page
                ],
                "currency": forecast.currency,
            }
        )


# --------------------------------------------------------------------------- report forecasts


class ReportForecastListView(VantageBudgetsView):
    results_key = "report_forecasts"

    @extend_schema(
        operation_id="getReportForecasts",
        tags=["ReportForecasts"],
        parameters=[
            OpenApiParameter(
                "cost_report_token",
                {"type": "string", "minLength": 1},
                required=True,
                description="The report.",
            ),
            *PAGING,
        ],
        responses={200: ReportForecastSerializer(many=True), **vantage_errors(400, 404)},
    )
    def get(self, request):
        self.pagination_class().paginate_queryset([], request, self)  # bad paging first
        token = request.query_params.get("cost_report_token")
        if not token:
            raise ServiceError("is required.", field="cost_report_token")
        report = self.by_token(self.cost_reports(), token, "Cost report", "cost_report_token")
        forecasts = self.report_forecasts().filter(cost_report=report).order_by("created_at", "id")
        return self.page_of(forecasts, ReportForecastSerializer)

    @extend_schema(
        operation_id="createReportForecast",
        tags=["ReportForecasts"],
        request=ReportForecastWriteSerializer,
        responses={201: ReportForecastSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def post(self, request):
        body = ReportForecastWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        report = self.by_token(
            self.cost_reports(), data["cost_report_token"], "Cost report", "cost_report_token"
        )
        forecast = services.report_forecast_create(
            self.get_organization(),
            cost_report=report,
            title=data["title"],
            scenario_model_tokens=data.get("scenario_model_tokens", []),
            business_metric_token=data.get("business_metric_token"),
            set_as_default=data.get("set_as_default"),
            created_by=request.user,
        )
        forecast = self.report_forecasts().get(pk=forecast.pk)
        return Response(ReportForecastSerializer(forecast).data, status=status.HTTP_201_CREATED)


class ReportForecastDetailView(VantageBudgetsView):
    def forecast(self, token):
        return self.by_token(self.report_forecasts(), token, "Report forecast")

    @extend_schema(
        operation_id="getReportForecast",
        tags=["ReportForecasts"],
        responses={200: ReportForecastSerializer, **vantage_errors(404)},
    )
    def get(self, request, report_forecast_token):
        return Response(ReportForecastSerializer(self.forecast(report_forecast_token)).data)

    @extend_schema(
        operation_id="updateReportForecast",
        tags=["ReportForecasts"],
        request=ReportForecastUpdateSerializer,
        responses={200: ReportForecastSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def put(self, request, report_forecast_token):
        forecast = self.forecast(report_forecast_token)
        body = ReportForecastUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.report_forecast_update(forecast, **body.validated_data)
        return Response(ReportForecastSerializer(self.forecast(report_forecast_token)).data)

    @extend_schema(
        operation_id="deleteReportForecast",
        tags=["ReportForecasts"],
        responses={204: None, **vantage_errors(403, 404)},
    )
    def delete(self, request, report_forecast_token):
        services.report_forecast_delete(self.forecast(report_forecast_token))
        return Response(status=status.HTTP_204_NO_CONTENT)
