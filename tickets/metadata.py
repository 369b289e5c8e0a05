"""Validating metadata values (customer fields and ticket typification) against their fields."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from deskconfig.models import FieldType, MetadataField


def active_fields(target: str) -> list[MetadataField]:
    return list(MetadataField.objects.filter(target=target, active=True).order_by("position", "id"))


def _clean_one(field: MetadataField, raw: Any) -> Any:
    if raw in (None, "", []):
        return None
    kind = field.field_type
    if kind == FieldType.TEXT:
        return str(raw).strip()[:1000] or None
    if kind == FieldType.NUMBER:
        try:
            number = Decimal(str(raw).replace(",", "."))
            # NaN and infinities are not numbers a person means (and JSON cannot hold them);
            # a huge exponent makes `% 1` raise InvalidOperation too.
            if not number.is_finite():
                raise InvalidOperation
            fraction = number % 1
        except InvalidOperation:
            raise ValidationError(_("«%(v)s» no es un número."), params={"v": raw}) from None
        return float(number) if fraction else int(number)
    if kind == FieldType.DATE:
        try:
            return datetime.date.fromisoformat(str(raw)).isoformat()
        except ValueError:
            raise ValidationError(
                _("«%(v)s» no es una fecha (AAAA-MM-DD)."), params={"v": raw}
            ) from None
    if kind == FieldType.BOOL:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "si", "sí", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise ValidationError(_("Elige Sí o No."))
    if kind == FieldType.CHOICE:
        if raw not in field.choices:
            raise ValidationError(_("«%(v)s» no es una de las opciones."), params={"v": raw})
        return raw
    if kind == FieldType.MULTI:
        values = raw if isinstance(raw, list) else [raw]
        unknown = [v for v in values if v not in field.choices]
        if unknown:
            raise ValidationError(
                _("No son opciones válidas: %(v)s."), params={"v": ", ".join(map(str, unknown))}
            )
        return [v for v in field.choices if v in values] or None
    raise ValidationError(_("Tipo de campo desconocido."))


def clean_values(
    fields: list[MetadataField], data: dict[str, Any], *, enforce_required: bool = False
) -> dict[str, Any]:
    """Values keyed by field key, validated; raises ValidationError keyed by field key."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field in fields:
        try:
            value = _clean_one(field, data.get(field.key))
        except ValidationError as exc:
            errors[field.key] = exc.messages
            continue
        if value is None:
            if enforce_required and field.required:
                errors[field.key] = [_("«%(f)s» es obligatorio.") % {"f": field.label}]
            continue
        cleaned[field.key] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def missing_required(fields: list[MetadataField], values: dict[str, Any]) -> list[str]:
    return [f.label for f in fields if f.required and values.get(f.key) in (None, "", [])]
