"""The skills bot's form: on/off, texts, default department and the ordered departments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from admin_config.crud import TenantModelForm
from deskconfig.models import Department, SkillsBot

MAX_POSITION = 99


@dataclass
class OptionRow:
    """One department in the form's list: whether it is offered, and its number."""

    department: Department
    include: forms.BoundField
    position: forms.BoundField


class SkillsBotForm(TenantModelForm):
    """Besides the bot's own fields, two fields per department of the tenant:
    ``dept-<id>`` (offered or not) and ``pos-<id>`` (its number in the list)."""

    class Meta:
        model = SkillsBot
        fields = ["enabled", "greeting", "retry_text", "confirm_text", "default_department"]
        labels = {
            "enabled": _("Bot activo en esta cuenta"),
            "greeting": _("Saludo"),
            "retry_text": _("Texto cuando no entiende la respuesta"),
            "confirm_text": _("Texto cuando el cliente elige"),
            "default_department": _("Departamento por defecto"),
        }
        help_texts = {
            "greeting": _("Va antes de la lista numerada de departamentos."),
            "retry_text": _(
                "Se envía con la lista otra vez, hasta dos veces; después el ticket va al "
                "departamento por defecto."
            ),
            "confirm_text": _(
                "Confirma la elección; {departamento} se reemplaza por el nombre. Vacío: "
                "«Te comunicamos con {departamento}. En breve te atenderá una persona.»"
            ),
            "default_department": _(
                "Si el cliente no elige. Vacío: el ticket queda sin departamento."
            ),
        }
        widgets = {
            "greeting": forms.Textarea(attrs={"rows": 3}),
            "retry_text": forms.Textarea(attrs={"rows": 2}),
            "confirm_text": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, departments: list[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.departments = departments
        default = self.fields["default_department"]
        assert isinstance(default, forms.ModelChoiceField)
        default.queryset = Department.objects.order_by("name")
        default.empty_label = _("Ninguno")
        current = (
            {o.department_id: o.position for o in self.instance.options.all()}
            if self.instance.pk
            else {}
        )
        for d in departments:
            self.fields[f"dept-{d.pk}"] = forms.BooleanField(
                label=d.name, required=False, initial=d.pk in current
            )
            self.fields[f"pos-{d.pk}"] = forms.IntegerField(
                label=_("Número de %(name)s") % {"name": d.name},
                required=False,
                min_value=1,
                max_value=MAX_POSITION,
                initial=current.get(d.pk),
                error_messages={
                    "min_value": _("Usa un número entre 1 y 99."),
                    "max_value": _("Usa un número entre 1 y 99."),
                    "invalid": _("Usa un número entre 1 y 99."),
                },
                widget=forms.NumberInput(attrs={"class": "pos", "inputmode": "numeric"}),
            )
        # Offered departments first, in their order; then the others by name.
        self.departments.sort(key=lambda d: (d.pk not in current, current.get(d.pk, 0), d.name))

    def option_rows(self) -> list[OptionRow]:
        return [OptionRow(d, self[f"dept-{d.pk}"], self[f"pos-{d.pk}"]) for d in self.departments]

    def chosen(self) -> list[Department]:
        """The offered departments in the order the admin gave (numbers, then the page order)."""
        data = self.cleaned_data
        picked = [
            (data.get(f"pos-{d.pk}") or MAX_POSITION + 1, index, d)
            for index, d in enumerate(self.departments)
            if data.get(f"dept-{d.pk}")
        ]
        return [d for _pos, _index, d in sorted(picked, key=lambda t: (t[0], t[1]))]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("greeting", "retry_text"):
            data[name] = (data.get(name) or "").strip()
        if data.get("enabled"):
            if not data["greeting"]:
                self.add_error("greeting", _("Escribe el saludo: el bot está activo."))
            if not data["retry_text"]:
                self.add_error(
                    "retry_text", _("Escribe qué dice el bot cuando no entiende la respuesta.")
                )
            if not any(data.get(f"dept-{d.pk}") for d in self.departments):
                self.add_error(None, _("Elige al menos un departamento para la lista del bot."))
        return data
