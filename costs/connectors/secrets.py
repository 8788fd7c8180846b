"""Credentials of a source, encrypted at rest with Fernet under a key derived from SECRET_KEY."""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from core.errors import ServiceError


def _fernet() -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"costline.connectors.secrets"
    ).derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(values: dict[str, str]) -> str:
    """A token of the non-empty ``values``; '' when there are none."""
    values = {name: value for name, value in values.items() if value}
    return _fernet().encrypt(json.dumps(values).encode()).decode() if values else ""


def decrypt(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise ServiceError(
            "The source's saved credentials cannot be read (SECRET_KEY changed?); save them again.",
            field="source",
        ) from None
