"""Reads for segments: lists per surface, metric figures, cost series for pages and unit costs."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from core.errors import ServiceError
from core.history import changes
from organizations.selectors import reachable_workspaces

from .allocation import MONEY_FIELDS, load_tree
from .models import ChargeKind, Granularity, Line, Segment, SegmentMetric, Status, TreeRefresh

ZERO = Decimal(0)
SUMMED = (*MONEY_FIELDS, "resource_count")


def segments_for_organization(organization) -> QuerySet[Segment]:
    return Segment.objects.filter(organization=organization).select_related(
        "workspace", "parent", "organization"
    )


def segments_visible(organization, workspaces) -> QuerySet[Segment]:
    """The segments a credential may see and change: its organization's, in the workspaces it
    reaches (``organizations.selectors.reachable_workspaces``). Every API surface starts here."""
    return segments_for_organization(organization).filter(workspace__in=workspaces)


def segments_for_request(request, organization) -> QuerySet[Segment]:
    """``segments_visible`` for the credential of a request (pages: a member reaches every
    workspace of the organization; API tokens may be restricted)."""
    return segments_visible(organization, reachable_workspaces(request, organization))


def segments_for_provider(segments: QuerySet[Segment], provider: str) -> QuerySet[Segment]:
    """Archera's list: the provider's segments, the system one first, children included."""
    return segments.filter(provider=provider).order_by("-is_system_generated", "created_at", "id")


# Deeper than any tree the services let one build: a cycle in stored data ends here.
MAX_TREE_DEPTH = 1000


def top_level(segment: Segment, by_id: dict | None = None, *, fresh: bool = False) -> Segment:
    """The top of a segment's tree: the one way to find it. ``by_id`` (every segment of the
    organization, see ``organization_segments_by_id``) walks the parents without queries;
    ``fresh`` reads the segment and each parent from the database (writers about to lock a tree:
    the instances they hold may predate a move), and returns the top with its id only."""
    for _ in range(MAX_TREE_DEPTH):
        if fresh:
            stored = Segment.objects.only("parent_id").filter(pk=segment.pk).first()
            if stored is None:
                return segment  # deleted meanwhile: the top of its own tree
            segment = stored
        if segment.parent_id is None:
            return segment
        known = by_id.get(segment.parent_id) if by_id is not None else None
        if known is not None:
            segment = known
        else:
            segment = Segment(pk=segment.parent_id) if fresh else segment.parent
    raise ServiceError("Segment tree is too deep.")


def top_level_segments(organization_id, provider: str | None = None) -> QuerySet[Segment]:
    """Trees that can see ``provider``'s rows: that provider's and those spanning providers
    (provider NULL; ``provider__in=[provider, None]`` would silently drop the NULL)."""
    segments = Segment.objects.filter(organization_id=organization_id, parent__isnull=True)
    if provider:
        segments = segments.filter(Q(provider=provider) | Q(provider__isnull=True))
    return segments


def top_level_segments_all() -> QuerySet[Segment]:
    return Segment.objects.filter(parent__isnull=True).only("pk", "organization_id")


def tree_of(top_id) -> list:
    """The nodes of a tree, top first (none when the top is gone)."""
    top = Segment.objects.filter(pk=top_id).first()
    return list(load_tree(top).walk()) if top is not None else []


def included_kinds(segment: Segment) -> list[str]:
    """Charge kinds the Vantage surface counts: the top-level segment's report settings decide."""
    top = top_level(segment)
    kinds = [ChargeKind.USAGE, ChargeKind.PURCHASE]
    if top.include_credits:
        kinds.append(ChargeKind.CREDIT)
    if top.include_refunds:
        kinds.append(ChargeKind.REFUND)
    if top.include_discounts:
        kinds.append(ChargeKind.DISCOUNT)
    if top.include_tax:
        kinds.append(ChargeKind.TAX)
    return [str(kind) for kind in kinds]


def _round(value) -> float:
    return float(round(value or ZERO, 6))


def shape_figures(period_key: str, period: date, figures: dict) -> dict:
    """One metrics item as both APIs show it: money as numbers rounded to 6 decimals."""
    list_cost = figures.get("list_cost") or ZERO
    effective = figures.get("effective_cost") or ZERO
    # Savings are the usage rows' on-demand cost minus what that usage cost: purchase rows are
    # never savings (their amortized share is already in the usage rows' effective cost).
    usage_effective = figures.get("usage_effective_cost") or ZERO
    eligible = figures.get("eligible_list_cost") or ZERO
    committed_list = figures.get("committed_list_cost") or ZERO
    coverage = committed_list / eligible if eligible else ZERO
    label = period.strftime("%Y-%m") if period_key == "month" else period.isoformat()
    return {
        period_key: label,
        "billed_cost": _round(figures.get("billed_cost")),
        "effective_cost": _round(effective),
        "list_cost": _round(list_cost),
        "on_demand_cost": _round(figures.get("on_demand_cost")),
        "committed_cost": _round(figures.get("committed_cost")),
        "savings": _round((figures.get("on_demand_cost") or ZERO) - usage_effective),
        "coverage": _round(coverage),
        "usage_quantity": _round(figures.get("usage_quantity")),
        "resource_count": int(figures.get("resource_count") or 0),
    }


USAGE_EFFECTIVE_COST = Sum("effective_cost", filter=Q(charge_kind=ChargeKind.USAGE))


def _grouped(metrics: QuerySet[SegmentMetric], *by: str) -> list[dict]:
    # The usage sum comes first: once ``effective_cost`` names the total, it shadows the column.
    sums = {"usage_effective_cost": USAGE_EFFECTIVE_COST, **{name: Sum(name) for name in SUMMED}}
    return list(metrics.values(*by).annotate(**sums).order_by(*by))


def monthly_metrics(segment_ids, *, kinds: list[str] | None = None) -> dict:
    """``{segment id: [monthly items ascending]}`` of the total line, every charge by default."""
    metrics = SegmentMetric.objects.filter(
        segment_id__in=list(segment_ids), line=Line.TOTAL, granularity=Granularity.MONTH
    )
    if kinds is not None:
        metrics = metrics.filter(charge_kind__in=kinds)
    result: dict = defaultdict(list)
    for row in _grouped(metrics, "segment_id", "period_start"):
        result[row["segment_id"]].append(shape_figures("month", row["period_start"], row))
    return result


def daily_metrics(segment: Segment, start: date, end: date) -> list[dict]:
    """Archera's daily rows (every charge) between two days, both included."""
    metrics = SegmentMetric.objects.filter(
        segment=segment,
        line=Line.TOTAL,
        granularity=Granularity.DAY,
        period_start__gte=start,
        period_start__lte=end,
    )
    return [
        shape_figures("date", row["period_start"], row) for row in _grouped(metrics, "period_start")
    ]


def cost_lines(
    segment: Segment, granularity: str, start: date | None = None, end: date | None = None
) -> list[dict]:
    """The segment's cost series with report settings applied: its own line, one per child,
    and its unallocated line; each ``{"segment", "token", "line", "points": [...]}``."""
    children = list(segment.children.order_by("priority", "created_at"))
    kinds = included_kinds(segment)
    cost_field = "effective_cost" if top_level(segment).amortize else "billed_cost"
    metrics = SegmentMetric.objects.filter(
        segment_id__in=[segment.pk, *(child.pk for child in children)],
        granularity=granularity,
        charge_kind__in=kinds,
    )
    if start:
        metrics = metrics.filter(period_start__gte=start)
    if end:
        metrics = metrics.filter(period_start__lte=end)
    metrics = metrics.filter(Q(line=Line.TOTAL) | Q(segment=segment, line=Line.UNALLOCATED))
    series: dict = defaultdict(list)
    for row in _grouped(metrics, "segment_id", "line", "period_start"):
        item = shape_figures(
            "month" if granularity == Granularity.MONTH else "date", row["period_start"], row
        )
        item["cost"] = _round(row[cost_field])
        series[(row["segment_id"], row["line"])].append(item)
    lines = [_line(segment, Line.TOTAL, series)]
    lines += [_line(child, Line.TOTAL, series) for child in children]
    if children and segment.track_unallocated:
        lines.append(_line(segment, Line.UNALLOCATED, series))
    return lines


def _line(segment: Segment, line: str, series: dict) -> dict:
    return {
        "segment": segment.name if line == Line.TOTAL else f"{segment.name} (unallocated)",
        "token": segment.token,
        "line": line,
        "points": series.get((segment.pk, line), []),
    }


def segment_cost_series(
    segment: Segment, granularity: str, start: date, end: date
) -> dict[date, Decimal]:
    """The segment's cost per period (report settings applied), for unit costs and charts."""
    kinds = included_kinds(segment)
    cost_field = "effective_cost" if top_level(segment).amortize else "billed_cost"
    rows = (
        SegmentMetric.objects.filter(
            segment=segment,
            line=Line.TOTAL,
            granularity=granularity,
            charge_kind__in=kinds,
            period_start__gte=start,
            period_start__lte=end,
        )
        .values("period_start")
        .annotate(cost=Sum(cost_field))
    )
    return {row["period_start"]: row["cost"] or ZERO for row in rows}


def tree_rows(organization) -> tuple[list[dict], date | None]:
    """The organization's segments as an indented tree, each with last month's cost and trend
    (change against the month before), for the segment list page. Two queries."""
    segments = list(segments_for_organization(organization).order_by("priority", "created_at"))
    months = sorted(
        set(
            SegmentMetric.objects.filter(
                segment__organization=organization, granularity=Granularity.MONTH
            ).values_list("period_start", flat=True)
        )
    )
    last, previous = (months[-1] if months else None), (months[-2] if len(months) > 1 else None)
    costs: dict = {}
    if last:
        for row in (
            SegmentMetric.objects.filter(
                segment__organization=organization,
                line=Line.TOTAL,
                granularity=Granularity.MONTH,
                period_start__in=[m for m in (last, previous) if m],
            )
            .values("segment_id", "period_start", "charge_kind")
            .annotate(billed_cost=Sum("billed_cost"), effective_cost=Sum("effective_cost"))
        ):
            costs[(row["segment_id"], row["period_start"], row["charge_kind"])] = row
    by_parent: dict = defaultdict(list)
    for segment in segments:
        by_parent[segment.parent_id].append(segment)
    by_id = {segment.pk: segment for segment in segments}

    def cost(segment, month):
        if month is None:
            return None
        top = top_level(segment, by_id)
        cost_field = "effective_cost" if top.amortize else "billed_cost"
        return sum(
            (
                costs[(segment.pk, month, kind)][cost_field] or ZERO
                for kind in included_kinds(top)
                if (segment.pk, month, kind) in costs
            ),
            ZERO,
        )

    rows: list[dict] = []

    def visit(segment, depth):
        current, before = cost(segment, last), cost(segment, previous)
        trend = None
        if current is not None and before:
            trend = float((current - before) / abs(before) * 100)
        rows.append(
            {
                "segment": segment,
                "depth": depth,
                "last_month_cost": current,
                "trend_percent": trend,
                "has_children": bool(by_parent[segment.pk]),
            }
        )
        for child in by_parent[segment.pk]:
            visit(child, depth + 1)

    roots = sorted(by_parent[None], key=lambda s: (not s.is_system_generated, s.created_at))
    for root in roots:
        visit(root, 0)
    return rows, last


HISTORY_FIELDS = ["name", "description", "filter_tree", "parent_id", "priority", "provider"]


def history_of(segment: Segment) -> list[dict]:
    """Every change of the segment's definition, newest first (``core.history.changes``)."""
    records = segment.history.select_related("history_user").order_by("history_date")
    return changes(records, HISTORY_FIELDS)


def organization_segments_by_id(organization) -> dict:
    """Every segment of the organization by id, in one query: lists walk parents and find
    tops in memory instead of one query per level per segment."""
    return {segment.pk: segment for segment in Segment.objects.filter(organization=organization)}


def tree_refreshes_stuck() -> tuple[QuerySet, QuerySet[Segment]]:
    """Refresh work nobody is doing (``tree_refreshes_recover`` acts on it): tree refresh
    requests waiting ``WORK_STALE_SECONDS`` or more, and top segments left ``new`` that long
    with no request pending. Failed trees are not included (they show their reason)."""
    stale = timezone.now() - timedelta(seconds=settings.WORK_STALE_SECONDS)
    waiting = (
        TreeRefresh.objects.filter(
            requested__gt=F("done"), requested_at__lt=stale, top__parent__isnull=True
        )
        .exclude(top__status=Status.FAILED)
        .select_related("top")
    )
    pending = TreeRefresh.objects.filter(requested__gt=F("done")).values("top_id")
    unrequested = Segment.objects.filter(
        parent__isnull=True, status=Status.NEW, updated_at__lt=stale
    ).exclude(pk__in=pending)
    return waiting, unrequested
