"""Reads of virtual tags: what a request may see, processing status, history."""

from __future__ import annotations

import uuid

from core.history import changes
from costs.columnar.query import ROWS, select_rows
from costs.columnar.sql import Params

from .models import AsyncUpdate, VirtualTagConfig

DEFINITION = ["key", "overridable", "backfill_until", "collapsed_tag_keys", "values"]


def configs_visible(organization):
    """Virtual tags belong to the organization (as in Vantage, not to a workspace)."""
    return VirtualTagConfig.objects.filter(organization=organization).order_by("created_at", "id")


def status_of(config: VirtualTagConfig) -> dict:
    providers = [
        {"provider": state.provider, "status": state.status} for state in config.statuses.all()
    ]
    processing = any(item["status"] in ("queued", "processing") for item in providers)
    return {"token": config.token, "processing": processing, "providers": providers}


def async_update(organization, request_id: str) -> AsyncUpdate | None:
    try:
        wanted = uuid.UUID(str(request_id))
    except ValueError:
        return None
    return AsyncUpdate.objects.filter(request_id=wanted, config__organization=organization).first()


def history_of(config: VirtualTagConfig) -> list[dict]:
    """Every change, newest first: who, when, what kind, the definition before and after, and
    the money it moved over the last full month then."""
    records = config.history.select_related("history_user").order_by("history_date")
    return changes(records, DEFINITION)


def costs_by_value(config: VirtualTagConfig, start, end) -> list[dict]:
    """The cost of each value of the tag (and of untagged cost) from ``start`` to ``end``,
    largest first, per currency (BilledCost)."""
    params = Params(prefix="s")
    key = params.text(config.key)
    rows = select_rows(
        config.organization_id,
        f"SELECT ifNull(tags[{key}], '') AS value, billing_currency AS currency, "
        f"sum(billed_cost) AS amount FROM {ROWS} "
        f"WHERE charge_period_start BETWEEN {params.day(start)} AND {params.day(end)} "
        "GROUP BY value, currency ORDER BY amount DESC, value",
        params.values,
    )
    return rows
