"""Metadata fields: the custom fields of customers and of tickets (typification)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from admin_config.crud import Column, TenantModelForm
from admin_config.crud_extra import Section, next_position
from deskconfig.models import FieldType, MetadataField

WITH_CHOICES = {FieldType.CHOICE, FieldType.MULTI}


class MetadataFieldForm(TenantModelForm):
    key = forms.CharField(
        label=gettext_lazy("Clave"),
        max_length=50,
        required=False,
        help_text=gettext_lazy(
            "Identificador interno (minúsculas, números, «-» o «_»). Vacío: se toma del nombre. "
            "No cambia después de crear el campo."
        ),
    )
    choices_text = forms.CharField(
        label=gettext_lazy("Opciones"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("Solo para selección: una opción por línea."),
    )

    class Meta:
        model = MetadataField
        fields = ["target", "label", "key", "field_type", "required", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(
            ["target", "label", "key", "field_type", "choices_text", "required", "active"]
        )
        self.fields["target"].choices = MetadataField.Target.choices  # type: ignore[attr-defined]
        self.fields["field_type"].choices = FieldType.choices  # type: ignore[attr-defined]
        if self.instance.pk:
            # Stored values are keyed by it: renaming would orphan them.
            self.fields["key"].disabled = True
            self.initial["choices_text"] = "\n".join(self.instance.choices or [])

    def clean_key(self) -> str:
        if self.instance.pk:
            return self.instance.key
        raw = self.cleaned_data.get("key", "").strip()
        key = raw or slugify(self.data.get("label", "")).replace("-", "_")[:50]
        if raw and slugify(raw) != raw:
            raise forms.ValidationError(
                _("La clave lleva solo minúsculas sin tildes, números, «-» o «_».")
            )
        if not key:
            raise forms.ValidationError(_("Escribe una clave (o un nombre con letras)."))
        return key

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind = data.get("field_type")
        lines = [line.strip() for line in data.get("choices_text", "").splitlines()]
        choices = list(dict.fromkeys(line for line in lines if line))
        if kind in WITH_CHOICES and not choices:
            self.add_error("choices_text", _("Escribe las opciones, una por línea."))
        elif kind and kind not in WITH_CHOICES and choices:
            self.add_error(
                "choices_text", _("Solo los campos de selección llevan opciones: déjalo vacío.")
            )
        elif any(len(c) > 100 for c in choices):
            self.add_error("choices_text", _("Cada opción puede tener hasta 100 caracteres."))
        data["choices"] = choices if kind in WITH_CHOICES else []
        key, target = data.get("key"), data.get("target")
        if key and target:
            taken = MetadataField.objects.filter(
                tenant_id=self.tenant_id, target=target, key=key
            ).exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error(
                    "key" if not self.instance.pk else None,
                    _("Ya hay un campo con la clave «%(key)s» para %(target)s.")
                    % {"key": key, "target": MetadataField.Target(target).label.lower()},
                )
        return data

    def _get_validation_exclusions(self) -> set[str]:
        # The (tenant, target, key) uniqueness is checked in clean() with a clearer message.
        return {*super()._get_validation_exclusions(), "key"}

    def save(self, commit: bool = True) -> MetadataField:
        field = self.instance
        field.choices = self.cleaned_data["choices"]
        if field.pk is None or "target" in self.changed_data:
            # A new field (or one moved to the other list) goes to the end of its list.
            field.position = next_position(
                MetadataField.objects.filter(target=self.cleaned_data["target"])
            )
        return super().save(commit)  # type: ignore[no-any-return]


def _siblings(field: MetadataField) -> QuerySet[MetadataField]:
    return MetadataField.objects.filter(target=field.target)


def _choices_cell(field: MetadataField) -> str:
    return ", ".join(field.choices) if field.choices else ""


metadata = Section(
    section="metadata",
    name="metadata",
    model=MetadataField,
    form_class=MetadataFieldForm,
    title=gettext_lazy("Campos de metadata"),
    intro=gettext_lazy(
        "Datos propios de tus clientes y la tipificación de los tickets. Un campo de ticket "
        "obligatorio debe completarse antes de cerrar."
    ),
    empty=gettext_lazy("Todavía no hay campos."),
    columns=[
        Column(gettext_lazy("Nombre"), lambda f: f.label),
        Column(gettext_lazy("Clave"), lambda f: f.key),
        Column(gettext_lazy("Tipo"), lambda f: f.get_field_type_display()),
        Column(gettext_lazy("Opciones"), _choices_cell),
        Column(gettext_lazy("Obligatorio"), lambda f: _("Sí") if f.required else _("No")),
        Column(gettext_lazy("Activo"), lambda f: _("Sí") if f.active else _("No")),
    ],
    queryset=lambda: MetadataField.objects.order_by("target", "position", "id"),
    list_template="admin_config/metadata_list.html",
    ordered_within=_siblings,
)
