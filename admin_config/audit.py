"""The configuration audit log: every change an admin makes is recorded with the values
before and after, in the same transaction as the change itself."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy

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


# Keys whose model field has no Spanish name of its own (Django made one from the attribute)
# or that are not fields at all (the links a form saves beside the row).
KEY_LABELS = {
    "invited_at": gettext_lazy("Invitación enviada"),
    "last_assigned_at": gettext_lazy("Última asignación"),
    "departments": gettext_lazy("Departamentos"),
    "accounts": gettext_lazy("Cuentas"),
    "account_id": gettext_lazy("Cuenta"),
    "department_id": gettext_lazy("Departamento"),
    "user_id": gettext_lazy("Persona"),
    "schedule_id": gettext_lazy("Horario"),
    "created_at": gettext_lazy("Creado"),
    "uuid": gettext_lazy("Identificador"),
    "intervals": gettext_lazy("Intervalos"),
    "holidays": gettext_lazy("Feriados"),
    "options": gettext_lazy("Opciones"),
}

# Keys that hold ids of other rows: shown by the rows' names.
RELATED_KEYS: dict[str, tuple[str, str]] = {
    "departments": ("admin_config", "Department"),
    "accounts": ("channels_conn", "ChannelAccount"),
}


def _label(model: type[models.Model] | None, key: str) -> str:
    if key in KEY_LABELS:
        return str(KEY_LABELS[key])
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


def _related_model(model: type[models.Model] | None, key: str) -> type[models.Model] | None:
    """The model whose ids ``key`` holds (a foreign key, or a list of links), if any."""
    if key in RELATED_KEYS:
        return apps.get_model(*RELATED_KEYS[key])
    if model is not None:
        for field in model._meta.concrete_fields:
            if key == field.attname and field.is_relation and field.related_model:
                return field.related_model  # type: ignore[return-value]
    return None


def _ids(value: Any) -> list[str]:
    values = value if isinstance(value, list | tuple) else [value]
    return [str(v) for v in values if isinstance(v, int) and not isinstance(v, bool)]


def _when(value: Any, tz: datetime.tzinfo) -> str | None:
    """A logged ISO time in the tenant's zone, as people write it; None when not a time."""
    if not isinstance(value, str) or len(value) < 16 or value[4:5] != "-" or "T" not in value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        return None
    return date_format(timezone.localtime(moment, tz), "j M Y, H:i")


class _Names:
    """The names of the rows a page of changes refers to by id: one query per model."""

    def __init__(self) -> None:
        self.wanted: dict[type[models.Model], set[str]] = {}
        self.names: dict[type[models.Model], dict[str, str]] = {}

    def want(self, model: type[models.Model], ids: list[str]) -> None:
        self.wanted.setdefault(model, set()).update(ids)

    def load(self) -> None:
        for model, ids in self.wanted.items():
            rows = model._default_manager.filter(pk__in=[int(i) for i in ids])
            self.names[model] = {str(row.pk): str(row) for row in rows}

    def shown(self, model: type[models.Model], value: Any) -> str:
        names = self.names.get(model, {})
        ids = _ids(value)
        # A row deleted since is still named by its id, marked as gone.
        return ", ".join(names.get(i, gettext("#%(id)s (eliminado)") % {"id": i}) for i in ids)


def _keys(change: ConfigChange) -> list[str]:
    after, before = change.after or {}, change.before or {}
    return list(after) + [k for k in before if k not in after]


def describe_changes(changes: Iterable[ConfigChange]) -> None:
    """Set ``.values`` on each change: readable labels, coded values by their names, related
    rows by their names (read in one query per model for the whole page), times in the
    current (the tenant's) time zone."""
    models_by_name = _models_by_name()
    names = _Names()
    changes = list(changes)
    for change in changes:
        model = models_by_name.get(change.object_type)
        for key in _keys(change):
            related = _related_model(model, key)
            if related is not None:
                for data in (change.before or {}, change.after or {}):
                    names.want(related, _ids(data.get(key)))
    names.load()
    for change in changes:
        change.values = changed_values(change, names=names)  # type: ignore[attr-defined]


def changed_values(change: ConfigChange, *, names: _Names | None = None) -> list[ChangedValue]:
    """The fields of one logged change with readable labels and values, in a stable order."""
    model = _models_by_name().get(change.object_type)
    before = change.before or {}
    after = change.after or {}
    zone = timezone.get_current_timezone()
    values = []
    for key in _keys(change):
        choices = _choices(model, key, change.section)
        related = _related_model(model, key) if names is not None else None

        def shown(
            data: dict[str, Any],
            key: str = key,
            choices: dict[str, str] = choices,
            related: type[models.Model] | None = related,
        ) -> str:
            if key not in data:
                return ""
            value = data[key]
            if choices:
                return choices.get(str(value), _shown(value))
            if related is not None and names is not None and _ids(value):
                return names.shown(related, value)
            return _when(value, zone) or _shown(value)

        values.append(
            ChangedValue(label=_label(model, key), before=shown(before), after=shown(after))
        )
    return values
