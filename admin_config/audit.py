"""The configuration audit log: every change an admin makes is recorded with the values
before and after, in the same transaction as the change itself."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from django.db import models

from admin_config.models import ConfigChange
from helpdesk.models import User

# Never written to the log, whatever the model: secrets stay secret.
SECRET_FIELDS = frozenset({"password", "credentials"})


def _plain(value: Any) -> Any:
    """A JSON-friendly rendering of a field's value."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model | None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The concrete field values of ``obj`` (foreign keys as ids), without secrets."""
    if obj is None:
        return {}
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in SECRET_FIELDS or field.name in ("id", "tenant"):
            continue
        data[field.attname] = _plain(getattr(obj, field.attname))
    if extra:
        data.update({k: _plain(v) for k, v in extra.items()})
    return data


def record(
    *,
    actor: User,
    section: str,
    action: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> ConfigChange | None:
    """Log one change. Updates that changed nothing are not logged."""
    before = before or {}
    after = after or {}
    if action == ConfigChange.Action.UPDATE:
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        if not changed:
            return None
        before = {k: before.get(k) for k in sorted(changed)}
        after = {k: after.get(k) for k in sorted(changed)}
    return ConfigChange.objects.create(
        tenant_id=actor.tenant_id,
        actor=actor,
        section=section,
        action=action,
        object_type=obj._meta.model_name or "",
        object_id=str(obj.pk or ""),
        object_repr=str(obj)[:200],
        before=before,
        after=after,
    )
