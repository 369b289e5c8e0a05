"""The export form: what to export, the date range, and the filters, validated inside the
request's tenant. Its output is the JSON a job stores (the inbox columns' filter keys plus the
message filters), read back by ``exports.queries``."""

from __future__ import annotations

import calendar
import datetime
import zoneinfo
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import Department, MetadataField
from exports.models import ExportFormat, ExportKind
from helpdesk.models import Tenant, User
from tickets.filters import NO_DEPARTMENT
from tickets.metadata import clean_values
from tickets.models import DeliveryStatus, Direction, TicketStatus

DEFAULT_DAYS = 7
TRI = [("", _("No considerar")), ("1", _("Sí")), ("0", _("No"))]
ASSIGNEE_CHOICES = [
    ("", _("No considerar")),
    ("me", _("A mí")),
    ("nobody", _("A nadie")),
    ("anyone", _("A cualquiera (personas y bot)")),
    ("human", _("A cualquier persona")),
    ("bot", _("Al bot")),
    ("users", _("A estas personas:")),
]
SLA_CHOICES = [("ok", _("A tiempo")), ("risk", _("En riesgo")), ("breached", _("Vencido"))]
AUTHOR_CHOICES = [
    ("", _("No considerar")),
    ("customer", _("El cliente")),
    ("agent", _("Un ejecutivo")),
    ("bot", _("El bot")),
    ("users", _("Estas personas:")),
]
DATE_FIELDS = [("created", _("Fecha de creación")), ("updated", _("Fecha de actualización"))]
NOT_OURS = _("No existe en tu empresa: %(value)s.")
NOT_AN_ID = _("«%(pk)s» no es un valor válido.")


def tenant_today(tenant: Tenant) -> datetime.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(tenant.time_zone)).date()


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, or that month's last day when it has no such day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def range_errors(date_from: datetime.date, date_to: datetime.date) -> list[str]:
    """Why a range cannot be exported (empty when it can): at most two months, in order."""
    if date_to < date_from:
        return [str(_("La fecha final es anterior a la inicial."))]
    if date_to > add_months(date_from, 2):
        return [str(_("El rango puede ser de dos meses como máximo."))]
    return []


def _tri(value: str) -> bool | None:
    return {"1": True, "0": False}.get(value)


class ExportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Qué exportar"), choices=ExportKind.choices)
    format = forms.ChoiceField(label=_("Formato"), choices=ExportFormat.choices)
    date_field = forms.ChoiceField(label=_("Según"), choices=DATE_FIELDS, required=False)
    date_from = forms.DateField(label=_("Desde"))
    date_to = forms.DateField(label=_("Hasta"))
    # Filters shared by both kinds.
    channels = forms.MultipleChoiceField(
        label=_("Canales"), choices=ChannelKind.choices, required=False
    )
    accounts = forms.ModelMultipleChoiceField(
        label=_("Cuentas"),
        queryset=ChannelAccount.objects.none(),
        required=False,
        error_messages={"invalid_choice": NOT_OURS, "invalid_pk_value": NOT_AN_ID},
    )
    customer_identity = forms.CharField(
        label=_("Cliente (correo, teléfono, @usuario…)"), required=False, max_length=255
    )
    # Ticket filters: those of an inbox column.
    assignee_mode = forms.ChoiceField(
        label=_("Asignado a"), choices=ASSIGNEE_CHOICES, required=False
    )
    assignee_users = forms.ModelMultipleChoiceField(
        label=_("Personas"),
        queryset=User.objects.none(),
        required=False,
        error_messages={"invalid_choice": NOT_OURS, "invalid_pk_value": NOT_AN_ID},
    )
    status = forms.MultipleChoiceField(
        label=_("Estado"), choices=TicketStatus.choices, required=False
    )
    awaiting = forms.ChoiceField(label=_("Espera nuestra respuesta"), choices=TRI, required=False)
    addressed = forms.ChoiceField(label=_("Abordado"), choices=TRI, required=False)
    has_comments = forms.ChoiceField(
        label=_("Con comentarios internos"), choices=TRI, required=False
    )
    has_metadata = forms.ChoiceField(label=_("Con tipificación"), choices=TRI, required=False)
    important = forms.BooleanField(label=_("Solo importantes"), required=False)
    departments = forms.MultipleChoiceField(label=_("Departamentos"), required=False)
    sla = forms.MultipleChoiceField(label=_("SLA"), choices=SLA_CHOICES, required=False)
    metadata_field = forms.ModelChoiceField(
        label=_("Campo de tipificación"),
        queryset=MetadataField.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("Ese campo no existe en tu empresa.")},
    )
    metadata_value = forms.CharField(label=_("Valor"), required=False, max_length=1000)
    # Message filters.
    direction = forms.ChoiceField(
        label=_("Dirección"), choices=[("", _("No considerar")), *Direction.choices], required=False
    )
    public = forms.ChoiceField(label=_("Público"), choices=TRI, required=False)
    mention = forms.ChoiceField(label=_("Mención"), choices=TRI, required=False)
    author = forms.ChoiceField(label=_("Autor"), choices=AUTHOR_CHOICES, required=False)
    author_users = forms.ModelMultipleChoiceField(
        label=_("Personas"),
        queryset=User.objects.none(),
        required=False,
        error_messages={"invalid_choice": NOT_OURS, "invalid_pk_value": NOT_AN_ID},
    )
    delivery = forms.MultipleChoiceField(
        label=_("Estado de entrega"), choices=DeliveryStatus.choices, required=False
    )

    def __init__(self, data: Any = None, *, tenant: Tenant) -> None:
        today = tenant_today(tenant)
        initial = {
            "kind": ExportKind.TICKETS,
            "format": ExportFormat.CSV,
            "date_field": "created",
            "date_from": today - datetime.timedelta(days=DEFAULT_DAYS - 1),
            "date_to": today,
        }
        super().__init__(data, initial=initial)
        self.tenant = tenant
        # Every id the form accepts is one of this tenant's: another tenant's is an error.
        people = User.objects.filter(tenant=tenant, is_active=True).order_by("name")
        self.fields["accounts"].queryset = ChannelAccount.objects.filter(  # type: ignore[attr-defined]
            tenant=tenant
        ).order_by("kind", "name")
        self.fields["assignee_users"].queryset = people  # type: ignore[attr-defined]
        self.fields["author_users"].queryset = people.filter(is_bot=False)  # type: ignore[attr-defined]
        self.fields["metadata_field"].queryset = MetadataField.objects.filter(  # type: ignore[attr-defined]
            tenant=tenant, target=MetadataField.Target.TICKET
        ).order_by("position", "id")
        departments = Department.objects.filter(tenant=tenant).order_by("name")
        self.fields["departments"].choices = [  # type: ignore[attr-defined]
            (str(d.pk), d.name) for d in departments
        ] + [(str(NO_DEPARTMENT), _("Sin departamento"))]
        self.fields["departments"].error_messages["invalid_choice"] = NOT_OURS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            for message in range_errors(start, end):
                self.add_error("date_to", message)
        identity = (data.get("customer_identity") or "").strip()
        data["customer"] = None
        if identity:
            from tickets.queries import search

            found = search(tenant_id=self.tenant.pk, query=identity)
            if found.customers:
                data["customer"] = found.customers[0].pk
            else:
                self.add_error(
                    "customer_identity",
                    _("No encontramos un cliente con «%(q)s».") % {"q": identity},
                )
        field = data.get("metadata_field")
        if field is not None:
            try:
                value = clean_values([field], {field.key: data.get("metadata_value")})
            except ValidationError as exc:
                self.add_error("metadata_value", exc.messages)
            else:
                if field.key not in value:
                    self.add_error("metadata_value", _("Escribe el valor a buscar."))
                data["metadata"] = value
        return data

    def filters(self) -> dict[str, Any]:
        """The job's filter JSON: the inbox column keys plus the export's own."""
        d = self.cleaned_data
        out: dict[str, Any] = {}
        if d["channels"]:
            out["channels"] = sorted(d["channels"])
        if d["accounts"]:
            out["accounts"] = sorted(a.pk for a in d["accounts"])
        if d["customer"] is not None:
            out["customer"] = d["customer"]
        if d["kind"] == ExportKind.TICKETS:
            out.update(self._ticket_filters())
        else:
            out.update(self._message_filters())
        return out

    def _ticket_filters(self) -> dict[str, Any]:
        d = self.cleaned_data
        out: dict[str, Any] = {"date_field": d.get("date_field") or "created"}
        if d["assignee_mode"]:
            out["assignee"] = {"mode": d["assignee_mode"]}
            if d["assignee_mode"] == "users":
                out["assignee"]["users"] = sorted(u.pk for u in d["assignee_users"])
        if d["status"]:
            out["status"] = sorted(d["status"])
        for name in ("awaiting", "addressed", "has_comments", "has_metadata"):
            value = _tri(d[name])
            if value is not None:
                out[name] = value
        if d["important"]:
            out["important"] = True
        if d["departments"]:
            out["departments"] = sorted(int(v) for v in d["departments"])
        if d["sla"]:
            out["sla"] = sorted(d["sla"])
        if d.get("metadata"):
            out["metadata"] = d["metadata"]
        return out

    def _message_filters(self) -> dict[str, Any]:
        d = self.cleaned_data
        out: dict[str, Any] = {}
        if d["direction"]:
            out["direction"] = d["direction"]
        for name in ("public", "mention"):
            value = _tri(d[name])
            if value is not None:
                out[name] = value
        if d["author"]:
            out["author"] = {"kind": d["author"]}
            if d["author"] == "users":
                out["author"]["users"] = sorted(u.pk for u in d["author_users"])
        if d["delivery"]:
            out["delivery"] = sorted(d["delivery"])
        return out


class RetentionForm(forms.Form):
    retention_days = forms.IntegerField(
        label=_("Días de retención"),
        min_value=1,
        max_value=90,
        help_text=_("Los archivos se borran pasado este número de días."),
    )
