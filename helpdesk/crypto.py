"""Encryption at rest for secrets (channel credentials): Fernet with FIELD_ENCRYPTION_KEY.

A stored secret is decrypted only where it is read: loading its row (a ticket page loads its
account) keeps the token sealed, and reading the attribute (``account.credentials``) decrypts
it then, into a plain dict. Pages that show no secret never decrypt one, so a key that cannot
read a secret (rotated, or another deployment's) breaks only what needs that secret, and that
says so (``SecretUnreadable``); ``stored_secret`` lets a page check it without decrypting."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.query_utils import DeferredAttribute


class SecretUnreadable(ImproperlyConfigured):
    """A stored secret this key cannot decrypt: it was encrypted with another key."""


def _fernet() -> Fernet:
    return _fernet_for(settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY)


@cache
def _fernet_for(key: str | bytes, secret_key: str) -> Fernet:
    if not key:
        if not (settings.DEBUG or settings.TESTING):
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is required outside DEBUG")
        # Development and tests only: a key derived from the (development) SECRET_KEY.
        key = base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest())
    return Fernet(key)


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("stored secret cannot be decrypted with this key") from exc


class SealedSecret(Mapping[str, Any]):
    """A stored secret dict as loaded: the token, decrypted on its first read. Its repr never
    shows the content."""

    __slots__ = ("_opened", "token")

    def __init__(self, token: str) -> None:
        self.token = token
        self._opened: dict[str, Any] | None = None

    def open(self) -> dict[str, Any]:
        """The secret (raises ``SecretUnreadable`` when this key cannot decrypt it)."""
        if self._opened is None:
            self._opened = dict(json.loads(decrypt(self.token)))
        return self._opened

    def readable(self) -> bool:
        """Whether this key opens the secret, checked on the token's signature alone (the
        secret itself is not decrypted)."""
        try:
            _fernet().extract_timestamp(self.token.encode())
        except InvalidToken:
            return False
        return True

    def __getitem__(self, key: str) -> Any:
        return self.open()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.open())

    def __len__(self) -> int:
        return len(self.open())

    def __repr__(self) -> str:
        return "<SealedSecret>"


class SealedAttribute(DeferredAttribute):
    """The field's attribute: reading it decrypts the loaded token once (a plain dict from
    then on); assigning stores the new value as it is."""

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, SealedSecret):
            value = instance.__dict__[self.field.attname] = value.open()
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


def stored_secret(instance: models.Model, name: str) -> Any:
    """The field's value as loaded, without decrypting it: a ``SealedSecret`` until something
    read the attribute, a dict after (or once assigned)."""
    field = instance._meta.get_field(name)
    attname = field.attname  # type: ignore[union-attr]
    if attname not in instance.__dict__:  # deferred: load the token alone
        manager = type(instance)._base_manager
        value = manager.filter(pk=instance.pk).values_list(attname, flat=True).first()
        instance.__dict__[attname] = value if value is not None else {}
    return instance.__dict__[attname]


class EncryptedJSONField(models.TextField):
    """A dict stored as a Fernet token and decrypted when the attribute is read (see the
    module docstring). Never rendered back: forms must not include it."""

    descriptor_class = SealedAttribute

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value in (None, ""):
            return {}
        return SealedSecret(value)  # type: ignore[arg-type]

    def to_python(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            return value
        if value in (None, ""):
            return {}
        return SealedSecret(value)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        # The value as loaded: saving a row whose secret nobody read must not decrypt it.
        return stored_secret(model_instance, self.name)

    def get_prep_value(self, value: Any) -> str:
        if isinstance(value, SealedSecret):
            return value.token  # unchanged: saved back as it was, without decrypting it
        data = dict(value or {})
        if not data:
            return ""  # nothing secret: nothing that a later key could fail to read
        return encrypt(json.dumps(data, sort_keys=True))
