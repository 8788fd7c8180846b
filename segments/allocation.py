"""The allocation engine: which segment of a tree each cost row belongs to, and its metrics.

One grouped query per top-level segment. Every row the top-level filter takes is
labelled, by one ``CASE`` built from the filter compiler's ``Q`` objects, with the deepest
segment that takes it:

    CASE WHEN c1 AND c1a THEN <c1a> WHEN c1 AND c1b THEN <c1b> WHEN c1 THEN <c1>
         WHEN c2 THEN <c2> ... ELSE <top> END

Siblings are listed by priority then creation time, so the first matching sibling wins and no
row counts twice under one parent; a child's condition includes its ancestors', so it only sees
what they took. The database sums each label's rows; totals roll up to ancestors here, in
Decimal: a segment's total is its own remainder plus its children's totals, and the remainder of
a segment with children is its unallocated line. Months are the sums of their days, except
distinct resource counts, which neither days nor children add up to: those come from slim
passes over usage rows, one per tree level (see ``resource_counts``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Case, CharField, Count, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from costs.models import CostRow

from .filter_tree import from_json, to_q
from .models import ChargeKind, Granularity, Line, Segment, SegmentMetric

ZERO = Decimal(0)
MONEY_FIELDS = (
    "billed_cost",
    "effective_cost",
    "list_cost",
    "on_demand_cost",
    "committed_cost",
    "committed_list_cost",
    "eligible_list_cost",
    "usage_quantity",
)

# FOCUS ChargeClass "Correction" marks refunds and other corrections of earlier charges; it is
# checked before ChargeCategory so a corrected usage charge counts as a refund.
CHARGE_KIND = Case(
    When(charge_class="Correction", then=Value(ChargeKind.REFUND)),
    When(charge_category="Credit", then=Value(ChargeKind.CREDIT)),
    When(charge_category="Tax", then=Value(ChargeKind.TAX)),
    When(charge_category="Purchase", then=Value(ChargeKind.PURCHASE)),
    When(charge_category="Adjustment", then=Value(ChargeKind.DISCOUNT)),
    default=Value(ChargeKind.USAGE),
    output_field=CharField(),
)


def _sum(column: str, condition: Q | None = None):
    return Coalesce(
        Sum(column, filter=condition),
        Value(ZERO),
        output_field=DecimalField(max_digits=28, decimal_places=10),
    )


IS_USAGE = Q(charge_category="Usage") & ~Q(charge_class="Correction")
MATCH_EVERY_ROW = Q(pk__isnull=False)
# Aliases get a prefix: an alias equal to a column name would shadow it in later aggregates.
AGGREGATES = {
    "billed_cost": _sum("billed_cost"),
    "effective_cost": _sum("effective_cost"),
    "list_cost": _sum("list_cost"),
    # What the usage would have cost at on-demand (list) prices.
    "on_demand_cost": _sum("list_cost", IS_USAGE),
    # Effective cost of charges covered by a commitment discount.
    "committed_cost": _sum("effective_cost", ~Q(commitment_discount_id="")),
    # Coverage = committed share of commitment-eligible usage, both at list prices.
    "committed_list_cost": _sum("list_cost", IS_USAGE & Q(pricing_category="Committed")),
    "eligible_list_cost": _sum(
        "list_cost", IS_USAGE & Q(pricing_category__in=["Standard", "Committed"])
    ),
    "usage_quantity": _sum("consumed_quantity", IS_USAGE),
    "resource_count": Count("resource_id", distinct=True, filter=IS_USAGE & ~Q(resource_id="")),
}


@dataclass
class SegmentNode:
    segment: Segment
    children: list[SegmentNode] = field(default_factory=list)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def load_tree(top: Segment, changed: Segment | None = None) -> SegmentNode:
    """The top-level segment and all its descendants (one query), children in allocation order.

    ``changed``: an unsaved version of one segment, in place of the saved one (a preview of
    what an edit would do)."""
    segments = list(
        Segment.objects.filter(organization_id=top.organization_id).order_by(
            "priority", "created_at", "id"
        )
    )
    if changed is not None:
        segments = [segment for segment in segments if segment.pk != changed.pk] + [changed]
        segments.sort(key=lambda s: (s.priority, s.created_at or timezone.now(), str(s.pk)))
        if top.pk == changed.pk:
            top = changed
    by_parent: dict = defaultdict(list)
    for segment in segments:
        by_parent[segment.parent_id].append(segment)

    def build(segment: Segment) -> SegmentNode:
        return SegmentNode(segment, [build(child) for child in by_parent[segment.pk]])

    return build(top)


def _condition(segment: Segment) -> Q:
    return to_q(from_json(segment.filter_tree)) if segment.filter_tree else Q()


def line_case(root: SegmentNode, depth: int | None = None) -> Case:
    """The CASE that labels each of the root's rows with the deepest segment that takes it
    (or, with ``depth``, with the segment at most that many levels down that takes it)."""
    whens: list[When] = []

    def add(node: SegmentNode, inherited: Q, level: int) -> None:
        for child in node.children:
            condition = inherited & _condition(child.segment)
            if depth is None or level < depth:
                add(child, condition, level + 1)
            # A child without a filter (under ancestors without one) takes every row it sees;
            # When() refuses an empty Q.
            whens.append(When(condition or MATCH_EVERY_ROW, then=Value(str(child.segment.pk))))

    add(root, Q(), 1)
    return Case(*whens, default=Value(str(root.segment.pk)), output_field=CharField())


def tree_depth(node: SegmentNode) -> int:
    """Levels below ``node`` (0 for a segment without children)."""
    return max((1 + tree_depth(child) for child in node.children), default=0)


def root_rows(root: Segment, months: list[date] | None = None):
    rows = CostRow.objects.filter(organization_id=root.organization_id)
    if root.provider:
        rows = rows.filter(provider=root.provider)
    rows = rows.filter(_condition(root))
    if months:
        rows = rows.filter(months_q("charge_period_start", months))
    return rows


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_q(date_field: str, months: list[date]) -> Q:
    """Dates that fall in any of ``months`` (first days of months)."""
    condition = Q(pk__in=[])
    for month in months:
        first = month.replace(day=1)
        condition |= Q(**{f"{date_field}__gte": first, f"{date_field}__lt": _next_month(first)})
    return condition


def grouped_remainders(root: SegmentNode, months: list[date] | None = None) -> list[dict]:
    """The one full pass: per (segment label, day, charge kind) sums of the root's rows."""
    rows = (
        root_rows(root.segment, months)
        .annotate(line_label=line_case(root), period=F("charge_period_start"), kind=CHARGE_KIND)
        .values("line_label", "period", "kind")
        .annotate(**{f"m_{name}": aggregate for name, aggregate in AGGREGATES.items()})
        .order_by()
    )
    return list(rows)


def resource_counts(root: SegmentNode, months: list[date] | None, daily_remainders: dict):
    """Exact distinct resources: ``(totals, remainders)``, each ``{(granularity, segment id,
    period): count}``; ``remainders`` are the rows a segment took that none of its children did.

    Distinct counts do not add up: one resource can have rows in two children, so a parent's
    count is not the sum of theirs. Labelling rows with the segment *at most k levels down*
    that takes them gives every level-k segment's exact count in one ``GROUP BY``: level 0 (the
    root, no CASE needed) down to the tree's depth, whose labels are the full ones. Slim passes
    over usage rows with a resource; the deepest level's daily counts come with the main pass
    (``daily_remainders``: ``{(segment id, day): count}``).
    """
    depth = tree_depth(root)
    level_of = {str(node.segment.pk): level for node, level in _levels(root)}
    totals: dict = {}
    remainders: dict = {}

    def record(granularity, level, label, period, count):
        if level == depth:
            remainders[(granularity, label, period)] = count
        if level_of.get(label) == level:
            totals[(granularity, label, period)] = count

    for (label, day), count in daily_remainders.items():
        record(Granularity.DAY, depth, label, day, count)
    usage = root_rows(root.segment, months).filter(IS_USAGE & ~Q(resource_id=""))
    passes = [(level, Granularity.DAY) for level in range(depth)]
    passes += [(level, Granularity.MONTH) for level in range(depth + 1)]
    for level, granularity in passes:
        label = line_case(root, level) if level else Value(str(root.segment.pk))
        period = (
            F("charge_period_start")
            if granularity == Granularity.DAY
            else TruncMonth("charge_period_start")
        )
        rows = (
            usage.annotate(line_label=label, period=period)
            .values("line_label", "period")
            .annotate(resources=Count("resource_id", distinct=True))
            .order_by()
        )
        for row in rows:
            record(granularity, level, row["line_label"], _as_date(row["period"]), row["resources"])
    return totals, remainders


def _levels(node: SegmentNode, level: int = 0):
    yield node, level
    for child in node.children:
        yield from _levels(child, level + 1)


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") else value


def _add(into: dict, figures: dict) -> None:
    for name in MONEY_FIELDS:
        into[name] = into.get(name, ZERO) + (figures.get(name) or ZERO)


def compute_metrics(root: SegmentNode, months: list[date] | None = None) -> list[SegmentMetric]:
    """Unsaved metric rows of every segment of the tree, both granularities."""
    daily: dict = defaultdict(dict)  # (segment id, day, kind) -> figures
    monthly: dict = defaultdict(dict)  # (segment id, month, kind) -> figures
    daily_resources: dict = defaultdict(int)  # (segment id, day) -> distinct resources
    for row in grouped_remainders(root, months):
        day = _as_date(row["period"])
        figures = {name: row[f"m_{name}"] for name in MONEY_FIELDS}
        _add(daily[(row["line_label"], day, row["kind"])], figures)
        _add(monthly[(row["line_label"], day.replace(day=1), row["kind"])], figures)
        daily_resources[(row["line_label"], day)] += row["m_resource_count"] or 0
    total_counts, remainder_counts = resource_counts(root, months, daily_resources)
    metrics: list[SegmentMetric] = []
    for granularity, remainders in ((Granularity.DAY, daily), (Granularity.MONTH, monthly)):
        for period, kind in {(period, kind) for (_, period, kind) in remainders}:
            # Resources are counted on usage rows, so only the usage line carries them.
            counted = kind == ChargeKind.USAGE
            totals = _subtree_totals(root, remainders, period, kind)
            for node in root.walk():
                label = str(node.segment.pk)
                figures = totals[node.segment.pk]
                figures["resource_count"] = (
                    total_counts.get((granularity, label, period), 0) if counted else 0
                )
                if _nonzero(figures):
                    metrics.append(
                        _metric(node.segment, Line.TOTAL, granularity, period, kind, figures)
                    )
                own = remainders.get((label, period, kind))
                if node.children and own:
                    own = {
                        **own,
                        "resource_count": remainder_counts.get((granularity, label, period), 0)
                        if counted
                        else 0,
                    }
                    if _nonzero(own):
                        metrics.append(
                            _metric(node.segment, Line.UNALLOCATED, granularity, period, kind, own)
                        )
    return metrics


def _subtree_totals(root: SegmentNode, remainders: dict, period, kind) -> dict:
    """Each segment's total for one period and kind: its remainder plus its children's totals."""
    totals: dict = {}

    def fill(node: SegmentNode) -> dict:
        figures: dict = {}
        _add(figures, remainders.get((str(node.segment.pk), period, kind), {}))
        for child in node.children:
            _add(figures, fill(child))
        totals[node.segment.pk] = figures
        return figures

    fill(root)
    return totals


def _nonzero(figures: dict) -> bool:
    return any(figures.get(name) for name in MONEY_FIELDS) or bool(figures.get("resource_count"))


def _metric(segment, line, granularity, period, kind, figures) -> SegmentMetric:
    return SegmentMetric(
        segment=segment,
        line=line,
        granularity=granularity,
        period_start=period,
        charge_kind=kind,
        resource_count=figures.get("resource_count") or 0,
        **{name: figures.get(name) or ZERO for name in MONEY_FIELDS},
    )
