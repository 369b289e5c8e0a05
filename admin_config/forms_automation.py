"""Forms of the automatic actions page: the tenant's reopen window and each account's actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from admin_config.crud import TenantModelForm
from deskconfig.models import AccountAutomation, TenantSettings

MAX_HOURS = 720  # 30 days


def _hours_field(label: Any, help_text: Any, *, minimum: int) -> forms.IntegerField:
    out_of_range = (
        _("Indica un número de horas entre 0 y 720.")
        if minimum == 0
        else _("Indica un número de horas entre 1 y 720.")
    )
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        required=minimum == 0,
        min_value=minimum,
        max_value=MAX_HOURS,
        error_messages={
            "min_value": out_of_range,
            "max_value": out_of_range,
            "invalid": _("Indica un número entero de horas."),
            "required": _("Indica un número de horas (0 para no reabrir)."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class ReopenWindowForm(TenantModelForm):
    reopen_window_hours = _hours_field(
        _("Ventana de reapertura (horas)"),
        _(
            "Si el cliente escribe dentro de estas horas tras el cierre, se reabre el mismo "
            "ticket. 0: siempre se abre un ticket nuevo."
        ),
        minimum=0,
    )

    class Meta:
        model = TenantSettings
        fields = ["reopen_window_hours"]


class AccountAutomationForm(TenantModelForm):
    close_after_hours = _hours_field(
        _("Cerrar tickets abordados sin respuesta del cliente tras (horas)"),
        _("Horas sin actividad en el ticket. Vacío: no se cierran solos."),
        minimum=1,
    )
    ignore_after_hours = _hours_field(
        _("Ignorar tickets no abordados tras (horas)"),
        _("Horas sin actividad en el ticket. Vacío: no se ignoran solos."),
        minimum=1,
    )

    class Meta:
        model = AccountAutomation
        fields = [
            "welcome_enabled",
            "welcome_text",
            "out_of_hours_enabled",
            "out_of_hours_text",
            "close_after_hours",
            "close_message",
            "ignore_after_hours",
        ]
        labels = {
            "welcome_enabled": _("Responder cuando se abre un ticket"),
            "welcome_text": _("Texto de bienvenida"),
            "out_of_hours_enabled": _("Responder fuera del horario de atención"),
            "out_of_hours_text": _("Texto fuera de horario"),
            "close_message": _("Mensaje de cierre (opcional)"),
        }
        help_texts = {
            "welcome_text": _("Variables: {cliente}, {ticket}."),
            "close_message": _("Lo envía el bot justo antes de cerrar."),
        }
        widgets = {
            "welcome_text": forms.Textarea(attrs={"rows": 3}),
            "out_of_hours_text": forms.Textarea(attrs={"rows": 3}),
            "close_message": forms.Textarea(attrs={"rows": 3}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for enabled, text in (
            ("welcome_enabled", "welcome_text"),
            ("out_of_hours_enabled", "out_of_hours_text"),
        ):
            data[text] = (data.get(text) or "").strip()
            if data.get(enabled) and not data[text]:
                self.add_error(text, _("Escribe el texto: la respuesta está activada."))
        data["close_message"] = (data.get("close_message") or "").strip()
        if data["close_message"] and not data.get("close_after_hours"):
            self.add_error(
                "close_after_hours",
                _("Indica tras cuántas horas cerrar, o borra el mensaje de cierre."),
            )
        return data
