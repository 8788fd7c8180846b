"""Reads of the cost data: filter values, the cost explorer's series, integrations and jobs.

Cost figures come from the columnar store (``costs.columnar.query``); everything else from
the database."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.errors import ServiceError

from .columnar.query import ROLLUP, select_rows
from .columnar.sql import Params
from .models import DimensionField, DimensionValue, ImportJob, Integration, Provider

AWS_ONLY_FIELDS = (
    DimensionField.OPERATING_SYSTEM,
    DimensionField.TENANCY,
    DimensionField.INSTANCE_FAMILY,
)
ARCHERA_FIELDS = (DimensionField.ACCOUNT_ID, DimensionField.SERVICE, DimensionField.REGION)
DIMENSION_CHOICE_FIELDS = {
    "account": DimensionField.ACCOUNT_ID,
    "service": DimensionField.SERVICE,
    "region": DimensionField.REGION,
    "charge_category": DimensionField.CHARGE_CATEGORY,
    "service_category": DimensionField.SERVICE_CATEGORY,
    "operating_system": DimensionField.OPERATING_SYSTEM,
    "tenancy": DimensionField.TENANCY,
    "instance_family": DimensionField.INSTANCE_FAMILY,
}
MAX_TAG_CHOICES = 500


def integrations_for_organization(organization) -> QuerySet[Integration]:
    return Integration.objects.filter(organization=organization)


def import_jobs_for_organization(organization) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(organization=organization).select_related(
        "integration", "created_by"
    )


# --------------------------------------------------------------------------- dimension values


def _dimension_values(organization, provider: str | None = None) -> QuerySet[DimensionValue]:
    values = DimensionValue.objects.filter(organization=organization)
    return values.filter(provider=provider) if provider else values


def filter_values(organization, provider: str) -> dict[str, list[str]]:
    """The Archera filter-values shape: distinct values of each filterable field.

    ``integration_id``, ``account_id``, ``service``, ``region`` for every provider, plus
    ``operating_system``, ``tenancy``, ``instance_family`` for AWS, plus ``tags``
    (``{key: [values]}``). Answered from the dimension-value table alone.
    """
    fields = [*ARCHERA_FIELDS, *(AWS_ONLY_FIELDS if provider == Provider.AWS else ())]
    values = _dimension_values(organization, provider)
    result: dict = {
        "integration_id": sorted(
            str(pk) for pk in values.values_list("integration_id", flat=True).distinct()
        ),
        **{str(name): [] for name in fields},
    }
    rows = (
        values.filter(field__in=[*fields, DimensionField.TAG])
        .values_list("field", "key", "value")
        .distinct()
        .order_by("field", "key", "value")
    )
    tags: dict[str, list[str]] = defaultdict(list)
    for field_name, key, value in rows:
        if field_name == DimensionField.TAG:
            tags[key].append(value)
        else:
            result[field_name].append(value)
    result["tags"] = dict(tags)
    return result


def dimension_choices(organization) -> dict[str, list[tuple[str, str]]]:
    """Choices for the cost filters' selects, from the dimension-value table (two queries)."""
    rows = (
        _dimension_values(organization)
        .values_list("field", "key", "value")
        .distinct()
        .order_by("field", "key", "value")
    )
    choices: dict[str, list[tuple[str, str]]] = {name: [] for name in DIMENSION_CHOICE_FIELDS}
    by_field = {str(value): name for name, value in DIMENSION_CHOICE_FIELDS.items()}
    tags: list[tuple[str, str]] = []
    names: dict[str, str] = {}
    for field_name, key, value in rows:
        if field_name == DimensionField.TAG:
            if len(tags) < MAX_TAG_CHOICES:
                tags.append((f"{key}={value}", f"{key} = {value}"))
        elif field_name == DimensionField.ACCOUNT_NAME:
            names.setdefault(key, value)
        elif field_name in by_field:
            choices[by_field[field_name]].append((value, value))
    choices["tag"] = tags
    choices["account"] = [
        (value, account_label(value, names.get(value))) for value, _ in choices["account"]
    ]
    choices["integration"] = [
        (str(integration.pk), str(integration))
        for integration in integrations_for_organization(organization)
    ]
    return choices


def account_label(account_id: str, name: str | None) -> str:
    """An account as people know it: "Production (123456789012)", or the id alone."""
    return f"{name} ({account_id})" if name and name != account_id else account_id


def account_names(organization_id) -> dict[str, str]:
    """Account id -> FOCUS SubAccountName in the organization, read from the dimension-value
    table (never from the cost rows)."""
    names: dict[str, str] = {}
    rows = (
        DimensionValue.objects.filter(
            organization_id=organization_id, field=DimensionField.ACCOUNT_NAME
        )
        .order_by("-billing_period_start")
        .values_list("key", "value")
    )
    for key, value in rows:
        names.setdefault(key, value)  # the newest period's name wins
    return names


# --------------------------------------------------------------------------- cost explorer

GROUP_BY_COLUMNS = {
    "provider": "provider",
    "integration": "integration_id",
    "account": "sub_account_id",
    "billing_account": "billing_account_id",
    "service": "service_name",
    "service_category": "service_category",
    "region": "region_id",
    "charge_category": "charge_category",
    "pricing_category": "pricing_category",
    "operating_system": "operating_system",
    "tenancy": "tenancy",
    "instance_family": "instance_family",
}
TAG_GROUP_PREFIX = "tag:"
METRICS = ("billed_cost", "effective_cost", "list_cost", "contracted_cost")
GRANULARITIES = ("day", "month")
MAX_WINDOW_DAYS = {"day": 400, "month": 3660}
NO_VALUE = "(none)"
OTHERS = "(others)"


def months_between(start: date, end: date) -> list[date]:
    """The first days of the months from ``start``'s through ``end``'s."""
    return _period_axis(start, end, "month")


def _period_axis(start: date, end: date, granularity: str) -> list[date]:
    if granularity == "day":
        return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
    periods, month = [], start.replace(day=1)
    while month <= end:
        periods.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return periods


@dataclass
class CostSeries:
    """Costs per period and group: chart series (top groups) and the full table."""

    group_by: str
    granularity: str
    metric: str
    start: date
    end: date
    periods: list[date]
    # One row per (period, group) with every metric, ordered by period then group.
    rows: list[dict] = field(default_factory=list)
    # Chart: the ``limit`` largest groups, the rest folded into ``OTHERS``.
    series: list[dict] = field(default_factory=list)
    # Table: every group's totals over the window, largest ``metric`` first.
    groups: list[dict] = field(default_factory=list)
    totals: dict[str, Decimal] = field(default_factory=dict)
    currencies: list[str] = field(default_factory=list)


@dataclass
class CostFilter:
    """The cost rows a question is about: an organization's, narrowed by conditions in the
    columnar store's SQL (values always as query parameters). Built by the cost-row FilterSet
    (``costs.filters.CostRowFilter.cost_filter``) for the explorer and ``/api/v1/costs``."""

    organization_id: object
    conditions: list[str] = field(default_factory=list)
    params: Params = field(default_factory=Params)

    def any_of(self, column: str, values: list[str]) -> CostFilter:
        placeholders = ", ".join(self.params.text(value) for value in values)
        self.conditions.append(f"{column} IN ({placeholders})")
        return self

    def any_tag(self, tags: list[str]) -> CostFilter:
        """``key=value``: rows with that tag value; ``key``: rows that have the tag."""
        tests = []
        for raw in tags:
            key, separator, value = raw.partition("=")
            has_tag = f"mapContains(tags, {self.params.text(key)})"
            if separator:
                value_test = f"tags[{self.params.text(key)}] = {self.params.text(value)}"
                tests.append(f"({has_tag} AND {value_test})")
            else:
                tests.append(has_tag)
        self.conditions.append("(" + " OR ".join(tests) + ")")
        return self

    def copy(self) -> CostFilter:
        params = Params()
        params.values = dict(self.params.values)
        return CostFilter(self.organization_id, list(self.conditions), params)

    def narrowed(self, column: str, value: str) -> CostFilter:
        """A copy that also requires ``column = value``."""
        return self.copy().any_of(column, [value])

    def where(self, start: date, end: date) -> str:
        """The WHERE clause: the conditions and the usage days from ``start`` to ``end``."""
        days = f"charge_period_start BETWEEN {self.params.day(start)} AND {self.params.day(end)}"
        return " AND ".join([days, *(f"({condition})" for condition in self.conditions)])


def cost_series(
    costs: CostFilter,
    *,
    group_by: str,
    granularity: str,
    start: date,
    end: date,
    metric: str = "effective_cost",
    limit: int = 10,
    label_accounts: bool = False,
) -> CostSeries:
    """Sum the filtered cost rows per period and group, in one grouped query over the daily
    rollup (``costs.columnar.rollup``).

    With ``label_accounts`` (the pages), accounts read "name (id)"; the API keeps the ids, the
    values its filters take."""
    costs = costs.copy()  # the query's own parameters join the filter's
    params = costs.params
    if group_by.startswith(TAG_GROUP_PREFIX):
        key = params.text(group_by[len(TAG_GROUP_PREFIX) :])
        group_expression = f"ifNull(tags[{key}], '')"
    else:
        group_expression = GROUP_BY_COLUMNS[group_by]
    period_expression = (
        "charge_period_start" if granularity == "day" else "toStartOfMonth(charge_period_start)"
    )
    sums = ", ".join(f"sum({name}) AS {name}" for name in METRICS)
    grouped = select_rows(
        costs.organization_id,
        f"SELECT {period_expression} AS period, {group_expression} AS group_value, "
        f"billing_currency, {sums} FROM {ROLLUP} WHERE {costs.where(start, end)} "
        "GROUP BY period, group_value, billing_currency ORDER BY period, group_value",
        params.values,
        months=months_between(start, end),
    )
    labels = {}
    if group_by == "integration":
        labels = {
            str(integration.pk): str(integration)
            for integration in Integration.objects.filter(organization_id=costs.organization_id)
        }
    if group_by == "account" and label_accounts:
        names = account_names(costs.organization_id)
        labels = {account: account_label(account, name) for account, name in names.items()}
    result = CostSeries(
        group_by, granularity, metric, start, end, _period_axis(start, end, granularity)
    )
    merged: dict[tuple[date, str], dict[str, Decimal]] = {}
    currencies = set()
    for row in grouped:
        period = row["period"]
        label = labels.get(row["group_value"], row["group_value"]) if labels else row["group_value"]
        label = str(label) if label not in (None, "") else NO_VALUE
        currencies.add(row["billing_currency"])
        bucket = merged.setdefault((period, label), dict.fromkeys(METRICS, Decimal(0)))
        for name in METRICS:
            bucket[name] += Decimal(row[name] or 0)
    totals = dict.fromkeys(METRICS, Decimal(0))
    group_totals: dict[str, dict[str, Decimal]] = {}
    for (period, label), values in sorted(merged.items()):
        result.rows.append({"period": period, "group": label, **values})
        group_total = group_totals.setdefault(label, dict.fromkeys(METRICS, Decimal(0)))
        for name in METRICS:
            totals[name] += values[name]
            group_total[name] += values[name]
    totals_by_group = {label: values[metric] for label, values in group_totals.items()}
    result.totals = totals
    result.currencies = sorted(currency for currency in currencies if currency)
    amounts = {key: values[metric] for key, values in merged.items()}
    ranked = sorted(totals_by_group, key=lambda label: (-totals_by_group[label], label))
    result.groups = [{"group": label, **group_totals[label]} for label in ranked]
    shown, folded = ranked[:limit], ranked[limit:]
    for label in shown:
        result.series.append(
            {
                "group": label,
                "total": totals_by_group[label],
                "values": [amounts.get((period, label), Decimal(0)) for period in result.periods],
            }
        )
    if folded:
        result.series.append(
            {
                "group": OTHERS,
                "total": sum((totals_by_group[label] for label in folded), Decimal(0)),
                "values": [
                    sum((amounts.get((period, label), Decimal(0)) for label in folded), Decimal(0))
                    for period in result.periods
                ],
            }
        )
    return result


def add_months(day: date, months: int) -> date:
    """The first of the month ``months`` after (or before, if negative) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def last_full_month(today: date | None = None) -> tuple[date, date]:
    """The first and last day of the last month that has ended (what "money moved" measures)."""
    today = today or timezone.now().date()
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def month_end(day: date) -> date:
    return add_months(day, 1) - timedelta(days=1)


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period before ``start``..``end`` of the same length.

    A window starting on the 1st is compared month for month: the same day span of the
    months before (October 1–31 for November 1–30, October 1–15 for November 1–15, clamped to
    a shorter month); any other window with the same number of days just before it.
    """
    if start.day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        previous_start = add_months(start, -months)
        end_month = add_months(end, -months)
        if end == month_end(end):
            return previous_start, month_end(end_month)
        return previous_start, end_month.replace(day=min(end.day, month_end(end_month).day))
    days = (end - start).days + 1
    return start - timedelta(days=days), start - timedelta(days=1)


def _months_before(day: date, count: int) -> date:
    month = day.replace(day=1)
    for _ in range(count):
        month = (month - timedelta(days=1)).replace(day=1)
    return month


def cost_window(
    start: date | None, end: date | None, granularity: str, today: date
) -> tuple[date, date]:
    """The dates a cost query covers: defaults to the start of the month two months ago
    through today, and refuses reversed or oversized ranges (too many points to chart)."""
    if end is None:
        end = max(today, start) if start else today
    if start is None:
        start = _months_before(end, 2)
    if end < start:
        raise ServiceError("The end date must not be before the start date.", field="end")
    limit = MAX_WINDOW_DAYS[granularity]
    if (end - start).days + 1 > limit:
        raise ServiceError(
            f"At most {limit} days per query with granularity '{granularity}'.", field="start"
        )
    return start, end


def import_jobs_stuck() -> QuerySet[ImportJob]:
    """Queued or running jobs with no sign of life (heartbeat, start or creation) for
    ``WORK_STALE_SECONDS``: their worker is probably gone (``import_jobs_recover`` acts)."""
    stale = timezone.now() - timedelta(seconds=settings.WORK_STALE_SECONDS)
    return ImportJob.objects.annotate(
        last_sign=Coalesce("heartbeat_at", "started_at", "created_at")
    ).filter(status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING], last_sign__lt=stale)
