"""Writes for saved views: every rule lives here, for the API and the pages alike."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from core.errors import ServiceError

from . import selectors
from .models import FilterSegment

EDITABLE = ("name", "module", "filters")


def _ensure_may_change(user, segment: FilterSegment, verb: str) -> None:
    if not selectors.may_change(user, segment):
        # Django's PermissionDenied: a 403 with DRF's {"detail"} body in the API, 403 in pages.
        raise PermissionDenied(
            f"Only the creator of this saved view or an organization admin can {verb} it."
        )


def filter_segment_create(
    organization, user, *, module: str, name: str, filters: list[dict]
) -> FilterSegment:
    return FilterSegment.objects.create(
        organization=organization, created_by=user, module=module, name=name, filters=filters
    )


@transaction.atomic
def filter_segment_update(user, segment: FilterSegment, **changes) -> FilterSegment:
    """Partial update of name, module and/or filters; at least one must be given."""
    changes = {key: value for key, value in changes.items() if key in EDITABLE}
    if not changes:
        raise ServiceError(
            "Provide at least one of name, module, filters.",
            field="non_field_errors",
            code="empty_update",
        )
    _ensure_may_change(user, segment, "change")
    for key, value in changes.items():
        setattr(segment, key, value)
    segment.save(update_fields=[*changes, "updated_at"])
    return segment


def filter_segment_delete(user, segment: FilterSegment) -> None:
    _ensure_may_change(user, segment, "delete")
    segment.delete()
