"""Virtual tags (Vantage's VirtualTagConfig): a tag key whose values Costline computes.

A config holds its values in precedence order (the first whose filter matches a cost row wins),
each a VQL filter plus one way of naming the matching cost: a fixed ``name``, fixed
``percentages`` that split it, a business metric's label shares, or another cost's shares by tag
(``cost_metric``). Values and collapsed keys are stored as one JSON list each: they are only
ever read and replaced whole, and the history (django-simple-history) then records every change
of the definition in one row, with who made it and how much money it moved.

The tag is applied where cost rows are read (``virtual_tags.expand``): every reader that reads
``tags`` sees it as one more tag, so VQL, groupings, segments and reports need no special case.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from core.history import history_user
from organizations.models import Organization


def new_config_token() -> str:
    return "vtag_" + secrets.token_hex(8)


def new_value_token() -> str:
    return "vtag_val_" + secrets.token_hex(8)


class VirtualTagConfig(models.Model):
    token = models.CharField(max_length=32, unique=True, default=new_config_token, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    overridable = models.BooleanField(
        default=False, help_text="Whether the virtual tag wins over a provider tag of the same key."
    )
    backfill_until = models.DateField(
        help_text="The first month the tag applies to (cost rows before it are left as they are)."
    )
    collapsed_tag_keys = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"key": "CostCenter", "providers": ["aws"], "filter": null}, ...]',
    )
    values = models.JSONField(
        default=list, blank=True, help_text="The values in precedence order (Vantage's shape)."
    )
    money_moved = models.JSONField(
        default=list,
        blank=True,
        help_text="What the last change moved over the last full month: "
        '[{"from": ..., "to": ..., "amount": "..."}].',
    )
    computed_shares = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="Shares computed from data by Celery, per value token and day (or month): "
        '{"vtag_val_...": {"2026-09-01": [["acme", "0.25"], ...]}}.',
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The history keeps the definition and what a change moved, not the data-derived shares.
    history = HistoricalRecords(
        excluded_fields=["updated_at", "computed_shares"], get_user=history_user
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="virtual_tag_key_unique")
        ]
        verbose_name = "virtual tag"

    def __str__(self) -> str:
        return self.key


class VirtualTagStatus(models.Model):
    """The processing state of a config for one provider (Vantage's provider statuses)."""

    class State(models.TextChoices):
        QUEUED = "queued"
        PROCESSING = "processing"
        COMPLETE = "complete"
        FAILED = "failed"

    config = models.ForeignKey(VirtualTagConfig, on_delete=models.CASCADE, related_name="statuses")
    provider = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider"]
        constraints = [
            models.UniqueConstraint(
                fields=["config", "provider"], name="virtual_tag_status_provider"
            )
        ]
        verbose_name_plural = "virtual tag statuses"

    def __str__(self) -> str:
        return f"{self.config.key} / {self.provider}: {self.status}"


class AsyncUpdate(models.Model):
    """An update asked for through ``PUT .../async``: checked at once, saved by Celery."""

    class State(models.TextChoices):
        PENDING = "pending"
        COMPLETED = "completed"
        FAILED = "failed"

    request_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    config = models.ForeignKey(VirtualTagConfig, on_delete=models.CASCADE, related_name="+")
    changes = models.JSONField(default=dict)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.request_id} ({self.status})"
