"""The costs of a report or an ad-hoc filter: the one computation behind ``/v2/costs``, the
data exports and the report pages.

``report_costs(organization, query)`` sums the organization's cost rows that the query's
filters take, with the report settings applied the way the segments engine applies them
(``segments.allocation.CHARGE_KIND``: usage and purchases always, credits, refunds, discounts and
tax as the settings say; ``amortize`` reads EffectiveCost, otherwise BilledCost), per date bin and
grouping, plus the totals and the previous period. Only ``_daily_sums`` touches the store (the
columnar one: ``costs.columnar.query.select`` over the Parquet files, the filter compiled by
``segments.filter_tree.sql.to_sql``); the rest bins and totals in ``Decimal``, so the figures
are exact whatever store answers.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from core.errors import ServiceError
from costs.columnar.query import ROLLUP, ROWS, select
from costs.columnar.rollup import ROLLUP_KEYS, ROLLUP_MONEY
from costs.columnar.sql import Params
from costs.currencies import currencies
from costs.selectors import previous_period  # noqa: F401 (the explorer's rule, used here)
from segments.engine import charge_kind_sql
from segments.filter_tree import PROVIDERS, Node, TagCondition, providers_of
from segments.filter_tree.catalogue import NOT_EXISTS
from segments.filter_tree.sql import columns_of, to_sql
from segments.models import ChargeKind
from segments.selectors import cost_lines

from .models import AggregateBy, DateBin, DateInterval

ZERO = Decimal(0)
TAG_PREFIX = "tag:"
# Vantage's grouping names and the cost-row column each reads.
GROUPING_COLUMNS = {
    "account_id": "sub_account_id",
    "billing_account_id": "billing_account_id",
    "charge_type": "charge_category",
    "cost_category": "service_category",
    "cost_subcategory": "service_subcategory",
    "provider": "provider",
    "region": "region_id",
    "resource_id": "resource_id",
    "service": "service_name",
    "usage_unit": "consumed_unit",
}
TAGGED = "tagged"
GROUPINGS = (*GROUPING_COLUMNS, TAGGED, f"{TAG_PREFIX}<key>")
DEFAULT_GROUPINGS = ["provider", "service", "account_id"]
MAX_GROUPINGS = 8
MAX_DAYS = 3 * 366 + 31
# Bins a query can answer: cost rows carry the usage day, so there is no hourly figure.
QUERY_BINS = (DateBin.DAY, DateBin.WEEK, DateBin.MONTH, DateBin.QUARTER)
ROLLUP_COLUMNS = {*ROLLUP_KEYS, *ROLLUP_MONEY}


def parse_groupings(value: str | Iterable[str] | None) -> list[str]:
    """Vantage's groupings ("provider,service" or a list) as a list; unknown ones refused."""
    if value is None:
        return []
    items = (
        value.split(",")
        if isinstance(value, str)
        else [part for item in value for part in str(item).split(",")]
    )
    groupings = []
    for item in (part.strip() for part in items):
        if not item:
            continue
        if item.startswith(TAG_PREFIX):
            if not item[len(TAG_PREFIX) :].strip():
                raise ServiceError("a tag grouping needs a key: tag:<key>.", field="groupings")
        elif item not in GROUPING_COLUMNS and item != TAGGED:
            raise ServiceError(
                f"unknown grouping '{item}'; valid: {', '.join(GROUPINGS)}.", field="groupings"
            )
        if item not in groupings:
            groupings.append(item)
    if len(groupings) > MAX_GROUPINGS:
        raise ServiceError(f"at most {MAX_GROUPINGS} groupings.", field="groupings")
    return groupings


# --------------------------------------------------------------------------- dates


def _month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def interval_dates(interval: str, today: date) -> tuple[date, date]:
    """The dates a named interval covers on ``today`` (UTC), both ends included.

    ``last_N_days`` ends today; ``last_N_months`` are the N whole months before this one;
    ``next_*`` are future months (no cost rows yet)."""
    if interval == DateInterval.THIS_MONTH:
        return today.replace(day=1), _month_end(today)
    if interval.startswith("last_") and interval.endswith("_days"):
        days = int(interval.split("_")[1])
        return today - timedelta(days=days - 1), today
    if interval == DateInterval.LAST_MONTH:
        start = _month_start(today, 1)
        return start, _month_end(start)
    if interval.startswith("last_") and interval.endswith("_months"):
        months = int(interval.split("_")[1])
        return _month_start(today, months), _month_start(today) - timedelta(days=1)
    if interval == DateInterval.NEXT_MONTH:
        start = _month_start(today, -1)
        return start, _month_end(start)
    if interval.startswith("next_") and interval.endswith("_months"):
        months = int(interval.split("_")[1])
        return _month_start(today, -1), _month_start(today, -months - 1) - timedelta(days=1)
    if interval == DateInterval.YEAR_TO_DATE:
        return date(today.year, 1, 1), today
    raise ServiceError(f"unknown date_interval '{interval}'.", field="date_interval")


def check_range(start: date, end: date, field_name: str = "start_date") -> None:
    if end < start:
        raise ServiceError("the end date must not be before the start date.", field="end_date")
    if (end - start).days + 1 > MAX_DAYS:
        raise ServiceError(f"at most {MAX_DAYS} days per query.", field=field_name)


def bin_start(day: date, date_bin: str) -> date:
    if date_bin == DateBin.WEEK:
        return day - timedelta(days=day.weekday())
    if date_bin == DateBin.MONTH:
        return day.replace(day=1)
    if date_bin == DateBin.QUARTER:
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return day


# --------------------------------------------------------------------------- the query


@dataclass
class CostQuery:
    """What to sum. ``filters`` are ANDed (a report's own filter, its saved filters' and its
    folder's); ``None`` entries take every row."""

    start: date
    end: date
    filters: list[Node | None] = field(default_factory=list)
    groupings: list[str] = field(default_factory=list)
    date_bin: str = DateBin.DAY
    include_credits: bool = False
    include_refunds: bool = False
    include_discounts: bool = True
    include_tax: bool = True
    amortize: bool = True
    aggregate_by: str = AggregateBy.COST
    previous_start: date | None = None
    previous_end: date | None = None

    @property
    def kinds(self) -> list[str]:
        """Charge kinds counted: as ``segments.selectors.included_kinds`` for a segment."""
        kinds = [ChargeKind.USAGE, ChargeKind.PURCHASE]
        for flag, kind in (
            (self.include_credits, ChargeKind.CREDIT),
            (self.include_refunds, ChargeKind.REFUND),
            (self.include_discounts, ChargeKind.DISCOUNT),
            (self.include_tax, ChargeKind.TAX),
        ):
            if flag:
                kinds.append(kind)
        return [str(kind) for kind in kinds]

    @property
    def cost_column(self) -> str:
        return "effective_cost" if self.amortize else "billed_cost"

    @property
    def with_usage(self) -> bool:
        return self.aggregate_by == AggregateBy.USAGE


@dataclass
class CostLine:
    accrued_at: date
    group: dict[str, object]
    currency: str
    amount: Decimal
    usage_amount: Decimal | None = None
    usage_unit: str | None = None


@dataclass
class CostResult:
    query: CostQuery
    lines: list[CostLine]
    totals: dict[str, Decimal]
    usage_totals: dict[str, Decimal]
    counts: dict[date, int]
    previous_totals: dict[str, Decimal] | None = None
    # Per group (the key of ``group_key``) and currency: the previous period's amount.
    previous_by_group: dict[tuple, Decimal] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        """The currency of the totals: USD (the workspaces' currency) unless every row is in
        one other currency (several: USD's total, or the first currency's when none is USD)."""
        currencies = sorted(self.totals)
        if not currencies or "USD" in currencies:
            return "USD"
        return currencies[0]


def group_key(line_group: dict, currency: str) -> tuple:
    return (*sorted((name, str(value)) for name, value in line_group.items()), currency)


CHARGE_KIND_SQL = charge_kind_sql()


def _grouping_sql(grouping: str, params: Params) -> str:
    if grouping.startswith(TAG_PREFIX):
        return f"ifNull(tags[{params.text(grouping[len(TAG_PREFIX) :])}], '')"
    if grouping == TAGGED:
        return f"NOT ({to_sql(TagCondition(key=None, op=NOT_EXISTS, values=()), params)})"
    return GROUPING_COLUMNS[grouping]


def _daily_sums(organization, query: CostQuery, start: date, end: date, by_day: bool = True):
    """Per usage day (unless ``by_day`` is false), grouping value and currency: the sum of the
    cost column (and of the consumed quantity, per unit, when aggregating by usage) of the rows
    the query takes. The one read of the cost rows: the columnar store (its daily rollup when
    the groupings and filters need no resource-level column), through
    ``costs.columnar.query.select`` and the filter tree's ClickHouse compiler."""
    params = Params()
    where = [
        f"charge_period_start >= {params.day(start)}",
        f"charge_period_start <= {params.day(end)}",
        f"{CHARGE_KIND_SQL} IN ({', '.join(params.text(kind) for kind in query.kinds)})",
        *(f"({to_sql(node, params)})" for node in query.filters if node is not None),
    ]
    aliases = {f"g{index}": grouping for index, grouping in enumerate(query.groupings)}
    keys = {alias: _grouping_sql(grouping, params) for alias, grouping in aliases.items()}
    keys["billing_currency"] = "billing_currency"
    if by_day:
        keys = {"charge_period_start": "charge_period_start", **keys}
    if query.with_usage:
        keys["consumed_unit"] = "consumed_unit"
    sums = [f"sum({query.cost_column}) AS amount"]
    if query.with_usage:
        sums.append("sum(ifNull(consumed_quantity, 0)) AS usage")
    selected = ", ".join([*(f"{sql} AS {alias}" for alias, sql in keys.items()), *sums])
    # The daily rollup answers when the question needs no resource-level column.
    needed = {"charge_period_start", "charge_class", "charge_category", query.cost_column}
    needed |= {GROUPING_COLUMNS.get(grouping, "tags") for grouping in query.groupings}
    for node in query.filters:
        needed |= columns_of(node)
    source = ROLLUP if not query.with_usage and needed <= ROLLUP_COLUMNS else ROWS
    sql = f"SELECT {selected} FROM {source} WHERE {' AND '.join(where)} GROUP BY {', '.join(keys)}"
    # Only the files of the one provider the filters can select, when there is one.
    providers = set(PROVIDERS)
    for node in query.filters:
        providers &= providers_of(node)
    if not providers:
        return
    narrowed = {"provider": next(iter(providers))} if len(providers) == 1 else {}
    for row in select(organization.pk, sql, params.values, **narrowed).to_pylist():
        group = {grouping: row[alias] for alias, grouping in aliases.items()}
        yield row, group


def report_costs(organization, query: CostQuery) -> CostResult:
    """The costs of ``query`` over ``organization``'s cost rows, binned and totalled."""
    if query.date_bin not in QUERY_BINS:
        raise ServiceError(
            "hourly costs are not available: cost rows are daily (use day, week, month or "
            "quarter).",
            field="date_bin",
        )
    check_range(query.start, query.end)
    merged: dict[tuple, CostLine] = {}
    for row, group in _daily_sums(organization, query, query.start, query.end):
        accrued_at = bin_start(row["charge_period_start"], query.date_bin)
        currency = row["billing_currency"] or "USD"
        unit = row.get("consumed_unit") if query.with_usage else None
        key = (accrued_at, *group_key(group, currency), unit)
        line = merged.get(key)
        if line is None:
            line = merged[key] = CostLine(
                accrued_at,
                group,
                currency,
                ZERO,
                ZERO if query.with_usage else None,
                unit if query.with_usage else None,
            )
        line.amount += row["amount"] or ZERO
        if query.with_usage:
            line.usage_amount += row["usage"] or ZERO
    lines = list(merged.values())
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    usage_totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    groups_per_bin: dict[date, set] = defaultdict(set)
    for line in lines:
        totals[line.currency] += line.amount
        if query.with_usage:
            usage_totals[line.usage_unit or ""] += line.usage_amount
        if line.amount:
            groups_per_bin[line.accrued_at].add(group_key(line.group, line.currency))
    result = CostResult(
        query,
        lines,
        dict(totals),
        dict(usage_totals),
        {day: len(groups) for day, groups in sorted(groups_per_bin.items())},
    )
    if query.previous_start and query.previous_end:
        check_range(query.previous_start, query.previous_end, "previous_period_start_date")
        previous: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for row, group in _daily_sums(
            organization, query, query.previous_start, query.previous_end, by_day=False
        ):
            currency = row["billing_currency"] or "USD"
            amount = row["amount"] or ZERO
            previous[currency] += amount
            key = group_key(group, currency)
            result.previous_by_group[key] = result.previous_by_group.get(key, ZERO) + amount
        result.previous_totals = dict(previous)
    return result


def ordered_lines(result: CostResult, order: str = "desc") -> list[CostLine]:
    """Lines by date (``order``), then largest amount first, then by group values."""
    by_group = sorted(
        result.lines,
        key=lambda line: (
            -line.amount,
            group_key(line.group, line.currency),
            line.usage_unit or "",
        ),
    )
    return sorted(by_group, key=lambda line: line.accrued_at, reverse=order == "desc")


# --------------------------------------------------------------------------- segment reports


def segment_report_costs(segment, query: CostQuery) -> CostResult:
    """A segment's report (its ``report_token``): the segment's cost per bin, or, when it has
    children, one line per child (and its unallocated line when it tracks it), grouped by
    ``segment`` as Vantage's segment reports are. The figures are the segments engine's, with the
    top-level segment's report settings; the query's groupings and settings do not apply."""
    if query.date_bin not in QUERY_BINS:
        raise ServiceError(
            "hourly costs are not available: cost rows are daily (use day, week, month or "
            "quarter).",
            field="date_bin",
        )
    check_range(query.start, query.end)
    granularity = "month" if query.date_bin in (DateBin.MONTH, DateBin.QUARTER) else "day"
    found = currencies(segment.organization, segment.provider)
    currency = found[0] if len(found) == 1 else "USD"

    def lines_between(start: date, end: date) -> list[dict]:
        lines = cost_lines(segment, granularity, start, end)
        return lines[1:] if len(lines) > 1 else lines

    def first_day(point: dict) -> date:
        return date.fromisoformat(point["date"] if "date" in point else f"{point['month']}-01")

    merged: dict[tuple, CostLine] = {}
    for line in lines_between(query.start, query.end):
        for point in line["points"]:
            accrued_at = bin_start(first_day(point), query.date_bin)
            key = (accrued_at, line["segment"])
            if key not in merged:
                merged[key] = CostLine(accrued_at, {"segment": line["segment"]}, currency, ZERO)
            merged[key].amount += Decimal(str(point["cost"]))
    lines = list(merged.values())
    result = CostResult(
        replace(query, groupings=["segment"], aggregate_by=AggregateBy.COST),
        lines,
        {currency: sum((line.amount for line in lines), ZERO)},
        {},
        {},
    )
    if query.previous_start and query.previous_end:
        previous = ZERO
        for line in lines_between(query.previous_start, query.previous_end):
            amount = sum((Decimal(str(point["cost"])) for point in line["points"]), ZERO)
            key = group_key({"segment": line["segment"]}, currency)
            result.previous_by_group[key] = result.previous_by_group.get(key, ZERO) + amount
            previous += amount
        result.previous_totals = {currency: previous}
    return result
