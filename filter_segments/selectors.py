"""Reads for saved views, and how a saved view turns back into a list page's URL query."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import F, QuerySet
from django.db.models.functions import Lower

from organizations import selectors as org_selectors

from .models import FilterSegment

SORT_FIELDS = ("created_at", "updated_at", "name")


def filter_segments_for(
    organization, module: str | None = None, search: str | None = None
) -> QuerySet[FilterSegment]:
    segments = FilterSegment.objects.filter(organization=organization).select_related("created_by")
    if module:
        segments = segments.filter(module=module)
    if search:
        segments = segments.filter(name__icontains=search)
    return segments


def ordered(
    segments: QuerySet[FilterSegment], sort_by: str = "updated_at", sort_order: str = "desc"
) -> QuerySet[FilterSegment]:
    # Names sort case-insensitively so SQLite and PostgreSQL agree; ties fall back to the id.
    key = Lower("name") if sort_by == "name" else F(sort_by)
    return segments.order_by(key.desc() if sort_order == "desc" else key.asc(), "id")


def may_change(user, segment: FilterSegment, membership=None) -> bool:
    """Any member may use a saved view; only its creator or an organization admin may change it."""
    if segment.created_by_id is not None and segment.created_by_id == getattr(user, "pk", None):
        return True
    if membership is None:
        membership = org_selectors.membership(user, segment.organization)
    return bool(membership and membership.can_manage)


def restore_query(predicates: list[dict], known: set[str]) -> tuple[str, list[dict]]:
    """The URL query a saved view stands for, and the predicates this page no longer knows."""
    kept, dropped = [], []
    for predicate in predicates if isinstance(predicates, list) else []:
        # Rows edited outside the API (admin, shell) may hold anything: drop what is not a
        # predicate instead of failing the page.
        usable = isinstance(predicate, dict) and isinstance(predicate.get("id"), str)
        if usable and predicate.get("type") in known:
            kept.append((predicate["type"], predicate["id"]))
        else:
            dropped.append(predicate if isinstance(predicate, dict) else {"type": str(predicate)})
    return urlencode(kept), dropped
