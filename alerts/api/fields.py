"""Serializer fields this app's APIs share, stricter than DRF's defaults so that what the
OpenAPI document says is what is accepted."""

from __future__ import annotations

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
