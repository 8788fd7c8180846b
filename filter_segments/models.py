"""Saved filter presets ("saved views") of list pages, seed 002."""

import secrets
import string

from django.conf import settings
from django.db import models

from organizations.models import Organization

ID_ALPHABET = string.ascii_lowercase + string.digits
MAX_FILTERS = 50


def new_filter_segment_id() -> str:
    suffix = "".join(secrets.choice(ID_ALPHABET) for _ in range(16))
    return f"seg_{settings.COSTLINE_ENVIRONMENT}_{suffix}"


class FilterSegment(models.Model):
    """A named set of filter predicates ``{type, id, label}`` for one list page (``module``)."""

    id = models.CharField(primary_key=True, max_length=64, default=new_filter_segment_id)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="filter_segments"
    )
    module = models.CharField(max_length=64)
    name = models.CharField(max_length=80)
    filters = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "id"]
        indexes = [
            models.Index(fields=["organization", "module"], name="filter_segment_org_module")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.module})"

    @property
    def created_by_user_id(self) -> str | None:
        if self.created_by_id is None:
            return None
        return f"usr_{settings.COSTLINE_ENVIRONMENT}_{self.created_by_id}"
