"""Serializer fields stricter than DRF's defaults, so that what the OpenAPI document says is
what is accepted: DRF reads ``0`` as ``"0"`` in a list of strings and ``"5"`` as ``5`` in an
integer field, which the document (``type: string`` / ``type: integer``) does not allow."""

from __future__ import annotations

from rest_framework import serializers


class TextField(serializers.CharField):
    """A JSON string only (used for list items, where no number-to-text reading is documented)."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON whole number only: not ``"5"``, ``5.5`` or ``true``."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and not data.is_integer():
            self.fail("invalid")
        return super().to_internal_value(data)


class NumberDecimalField(serializers.DecimalField):
    """A JSON number only, read exactly (through its text) as a Decimal: not ``"5"`` or ``true``,
    as Vantage documents amounts as numbers."""

    default_error_messages = {"invalid": "Must be a number."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true`` or ``false`` only: DRF's BooleanField also reads ``0``, ``1``, ``"yes"``…"""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid")
