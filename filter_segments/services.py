"""Writes for saved views: every rule lives here, for the API and the pages alike."""

from __future__ import annotations

from core.errors import ServiceError
from organizations import selectors as org_selectors

from .models import FilterSegment

EDITABLE = ("name", "module", "filters")


def _may_change(user, segment: FilterSegment) -> bool:
    if segment.created_by_id is not None and segment.created_by_id == user.pk:
        return True
    membership = org_selectors.membership(user, segment.organization)
    return bool(membership and membership.can_manage)


def filter_segment_create(organization, user, *, module: str, name: str, filters: list[dict]):
    return FilterSegment.objects.create(
        organization=organization, created_by=user, module=module, name=name, filters=filters
    )


def filter_segment_update(user, segment: FilterSegment, **changes) -> FilterSegment:
    """Partial update; any member may use a view, only its creator or an admin may change it."""
    changes = {key: value for key, value in changes.items() if key in EDITABLE}
    if not changes:
        raise ServiceError("Provide at least one of name, module, filters.", code="empty_update")
    if not _may_change(user, segment):
        raise ServiceError(
            "Only the creator of this saved view or an organization admin can change it.",
            status_code=403,
            code="permission_denied",
        )
    for key, value in changes.items():
        setattr(segment, key, value)
    segment.save()
    return segment


def filter_segment_delete(user, segment: FilterSegment) -> None:
    if not _may_change(user, segment):
        raise ServiceError(
            "Only the creator of this saved view or an organization admin can delete it.",
            status_code=403,
            code="permission_denied",
        )
    segment.delete()
