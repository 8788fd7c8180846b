"""What a filter would take: the live validation behind POST /api/v1/filters/validate."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from costs.columnar.query import ROWS, select_rows
from costs.columnar.sql import Params
from costs.selectors import months_between
from organizations.models import Organization

from .errors import FilterError
from .sql import to_sql
from .structured import parse_structured, render_structured
from .tree import Node, providers_of, to_json
from .vql import parse_vql, render_vql

PREVIEW_DAYS = 30


def matching_costs(
    organization: Organization,
    node: Node,
    *,
    days: int = PREVIEW_DAYS,
    today: datetime.date | None = None,
) -> tuple[int, Decimal]:
    """Count and billed cost of the organization's cost rows that ``node`` selects, over the
    ``days`` usage days that end with ``today`` (UTC), both included: one query over the
    columnar store (the raw rows: a filter may test resource-level columns)."""
    today = today or timezone.now().date()
    start = today - datetime.timedelta(days=days - 1)
    params = Params()
    condition = to_sql(node, params)
    first, last = params.day(start), params.day(today)
    totals = select_rows(
        organization.pk,
        f"SELECT count() AS rows, sum(billed_cost) AS cost FROM {ROWS} "
        f"WHERE charge_period_start BETWEEN {first} AND {last} AND ({condition})",
        params.values,
        months=months_between(start, today),
    )[0]
    return totals["rows"], totals["cost"] or Decimal("0")


def filter_preview(
    organization: Organization,
    *,
    vql: str | None = None,
    filters=None,
    provider: str | None = None,
    today: datetime.date | None = None,
) -> dict:
    """Parse a filter in either syntax (with the rules of creating a segment from it) and
    describe it: canonical tree, both renderings, and what it selects over the last 30 days.
    Raises FilterError."""
    if vql is not None:
        node = parse_vql(vql)
        filters_json = render_structured(node, omit_provider=False)
    else:
        if provider is None:
            raise FilterError(
                "Structured filters need a provider (aws, azure or gcp).",
                code="missing_provider",
                field="provider",
            )
        node = parse_structured(filters, provider)
        filters_json = render_structured(node, omit_provider=True)
    rows, cost = matching_costs(organization, node, today=today)
    providers = providers_of(node)
    return {
        "tree": to_json(node),
        "vql": render_vql(node),
        "filters": filters_json,
        "provider": next(iter(providers)) if len(providers) == 1 else None,
        "matching_rows": rows,
        "matching_cost": float(round(cost, 6)),
    }
