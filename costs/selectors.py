"""Reads of the cost data: filter values, the cost explorer's series, integrations and jobs."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import F, Func, QuerySet, Sum, TextField, Value
from django.db.models.functions import Coalesce, TruncMonth

from core.errors import ServiceError

from .models import CostRow, DimensionField, DimensionValue, ImportJob, Integration, Provider

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


class TagText(Func):
    """The text of one tag, ``tags ->> key`` (NULL when absent), compared as plain text.

    Not Django's key transform: that reads a key such as "2024" as an array index, and on
    SQLite compares its result as JSON; a tag key is always an object key, its value text.
    """

    output_field = TextField()

    def __init__(self, key: str, field: str = "tags"):
        super().__init__(F(field))
        self.key = key

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} ->> %s)", (*params, self.key)

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST(JSON_EXTRACT({sql}, %s) AS TEXT)", (*params, "$." + json.dumps(self.key))


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


def account_names(queryset: QuerySet[CostRow]) -> dict[str, str]:
    """Account id -> FOCUS SubAccountName for the integrations of ``queryset``, read from the
    dimension-value table (never from the cost rows)."""
    names: dict[str, str] = {}
    rows = (
        DimensionValue.objects.filter(
            field=DimensionField.ACCOUNT_NAME,
            integration_id__in=queryset.values("integration_id").distinct(),
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


def cost_series(
    queryset: QuerySet[CostRow],
    *,
    group_by: str,
    granularity: str,
    start: date,
    end: date,
    metric: str = "effective_cost",
    limit: int = 10,
    label_accounts: bool = False,
) -> CostSeries:
    """Sum the (already filtered) cost rows per period and group, in one grouped query.

    With ``label_accounts`` (the pages), accounts read "name (id)"; the API keeps the ids, the
    values its filters take."""
    if group_by.startswith(TAG_GROUP_PREFIX):
        key = group_by[len(TAG_GROUP_PREFIX) :]
        group_expression = Coalesce(TagText(key, "tags"), Value(""), output_field=TextField())
    else:
        group_expression = F(GROUP_BY_COLUMNS[group_by])
    period_expression = (
        F("charge_period_start") if granularity == "day" else TruncMonth("charge_period_start")
    )
    grouped = (
        queryset.filter(charge_period_start__gte=start, charge_period_start__lte=end)
        .annotate(period=period_expression, group=group_expression)
        .values("period", "group", "billing_currency")
        .annotate(**{name: Sum(name) for name in METRICS})
        .order_by("period", "group")
    )
    labels = (
        {
            integration.pk: str(integration)
            for integration in Integration.objects.filter(
                pk__in=queryset.values("integration_id").distinct()
            )
        }
        if group_by == "integration"
        else {}
    )
    if group_by == "account" and label_accounts:
        names = account_names(queryset)
        labels = {account: account_label(account, name) for account, name in names.items()}
    result = CostSeries(
        group_by, granularity, metric, start, end, _period_axis(start, end, granularity)
    )
    merged: dict[tuple[date, str], dict[str, Decimal]] = {}
    currencies = set()
    for row in grouped:
        period = row["period"]
        if isinstance(period, datetime):
            period = period.date()
        label = labels.get(row["group"], row["group"]) if labels else row["group"]
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
    from django.conf import settings
    from django.utils import timezone

    stale = timezone.now() - timedelta(seconds=settings.WORK_STALE_SECONDS)
    return ImportJob.objects.annotate(
        last_sign=Coalesce("heartbeat_at", "started_at", "created_at")
    ).filter(status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING], last_sign__lt=stale)
