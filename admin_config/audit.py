"""The configuration audit log: every change an admin makes is recorded with the values
before and after, in the same transaction as the change itself."""

from __future__ import annotations

import datetime
import decimal
import uuid
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext

from deskconfig.models import AssignmentMode, ConfigChange
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


# --- Reading the log --------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangedValue:
    """One line of a change as the log page shows it: the field's label, before and after."""

    label: str
    before: str
    after: str


def _models_by_name() -> dict[str, type[models.Model]]:
    return {m._meta.model_name or "": m for m in apps.get_models()}


def _label(model: type[models.Model] | None, key: str) -> str:
    if model is not None:
        for field in model._meta.concrete_fields:
            if key in (field.name, field.attname):
                return str(field.verbose_name)
        try:
            return str(model._meta.get_field(key).verbose_name)  # type: ignore[union-attr]
        except (FieldDoesNotExist, AttributeError):
            pass
    return key.removesuffix("_id").replace("_", " ")


def _shown(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return gettext("sí") if value else gettext("no")
    if isinstance(value, list | tuple):
        return ", ".join(_shown(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_shown(v)}" for k, v in value.items())
    return str(value)


def _choices(model: type[models.Model] | None, key: str, section: str) -> dict[str, str]:
    """The labels of a field's coded values (e.g. "auto" is "Automática")."""
    if model is not None:
        for field in model._meta.concrete_fields:
            if key in (field.name, field.attname) and field.choices:
                return {str(v): str(label) for v, label in field.flatchoices}
    if section == "assignments":  # one key per account, the value is the mode there
        return {str(v): str(label) for v, label in AssignmentMode.choices}
    return {}


def changed_values(change: ConfigChange) -> list[ChangedValue]:
    """The fields of one logged change with readable labels and values, in a stable order."""
    model = _models_by_name().get(change.object_type)
    before = change.before or {}
    after = change.after or {}
    keys = list(after) + [k for k in before if k not in after]
    values = []
    for key in keys:
        choices = _choices(model, key, change.section)

        def shown(data: dict[str, Any], key: str = key, choices: dict[str, str] = choices) -> str:
            if key not in data:
                return ""
            value = data[key]
            return choices.get(str(value), _shown(value)) if choices else _shown(value)

        values.append(
            ChangedValue(label=_label(model, key), before=shown(before), after=shown(after))
        )
    return values
