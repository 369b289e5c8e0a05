"""Encryption at rest for secrets (channel credentials): Fernet with FIELD_ENCRYPTION_KEY."""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet() -> Fernet:
    key: str | bytes = settings.FIELD_ENCRYPTION_KEY
    if not key:
        if not (settings.DEBUG or settings.TESTING):
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is required outside DEBUG")
        # Development and tests only: a key derived from the (development) SECRET_KEY.
        key = base64.urlsafe_b64encode(hashlib.sha256(settings.SECRET_KEY.encode()).digest())
    return Fernet(key)


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("stored secret cannot be decrypted with this key") from exc


class EncryptedJSONField(models.TextField):
    """A dict stored as a Fernet token. Never rendered back: forms must not include it."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value in (None, ""):
            return {}
        return json.loads(decrypt(value))  # type: ignore[arg-type]

    def to_python(self, value: Any) -> Any:
        if isinstance(value, dict):
            return value
        if value in (None, ""):
            return {}
        return json.loads(decrypt(value))

    def get_prep_value(self, value: Any) -> str:
        return encrypt(json.dumps(value or {}, sort_keys=True))
