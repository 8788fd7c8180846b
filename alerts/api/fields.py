"""Serializer fields this app's APIs share, stricter than DRF's defaults so that what the
OpenAPI document says is what is accepted."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true`` or ``false`` only: DRF's BooleanField also reads ``0``, ``1``, ``"yes"``…,
    which the document (``type: boolean``) does not allow."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)


def email_list(**kwargs) -> serializers.ListField:
    """A list of email addresses (``format: email`` in the document)."""
    return serializers.ListField(child=serializers.EmailField(max_length=254), **kwargs)


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": r"^\d{0,18}(?:\.\d{0,10})?$",
        "nullable": True,
        "description": "0 or more; required unless the condition is anomaly (null or an empty "
        "text for none).",
    }
)
class ThresholdField(serializers.DecimalField):
    """A threshold of 0 or more, written as text ("250", "12.5")."""

    def __init__(self, **kwargs):
        super().__init__(
            max_digits=28, decimal_places=10, min_value=0, coerce_to_string=True, **kwargs
        )
