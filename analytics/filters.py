"""The dashboard's date range and filters, read from the URL (so a view can be shared).

Ids are looked up inside the request's tenant: another tenant's id is simply not an option
(a form error, never a figure)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import Department
from helpdesk.models import Tenant, User

MAX_DAYS = 366
PRESETS = {"today": 1, "7d": 7, "30d": 30}


@dataclass(frozen=True)
class Filters:
    """What every panel shows: local days ``start``..``end`` (inclusive) in ``tz``, narrowed
    by the dimensions that are set."""

    tz: ZoneInfo
    start: datetime.date
    end: datetime.date
    preset: str = "30d"
    channel: str = ""
    account: int | None = None
    department: int | None = None
    agent: int | None = None

    @property
    def since(self) -> datetime.datetime:
        return datetime.datetime.combine(self.start, datetime.time(), self.tz)

    @property
    def until(self) -> datetime.datetime:
        return datetime.datetime.combine(
            self.end + datetime.timedelta(days=1), datetime.time(), self.tz
        )

    @property
    def days(self) -> list[datetime.date]:
        n = (self.end - self.start).days + 1
        return [self.start + datetime.timedelta(days=i) for i in range(n)]

    def dimensions(self, agent_field: str = "agent_id") -> Q:
        """The dimension filters as a Q on a rollup table (both share the column names)."""
        q = Q()
        if self.channel:
            q &= Q(channel=self.channel)
        if self.account is not None:
            q &= Q(account_id=self.account)
        if self.department is not None:
            q &= Q(department_id=self.department)
        if self.agent is not None:
            q &= Q(**{agent_field: self.agent})
        return q

    @property
    def dimension_items(self) -> list[tuple[str, Any]]:
        """The dimension filters that are set, as (name, value) pairs for hidden inputs."""
        return [
            (name, getattr(self, name))
            for name in ("channel", "account", "department", "agent")
            if getattr(self, name) not in (None, "")
        ]

    def query(self, **changes: Any) -> str:
        """The URL query of these filters (with ``changes``), for links and CSV downloads."""
        from urllib.parse import urlencode

        values: dict[str, Any] = {"range": self.preset}
        if changes.get("range", self.preset) == "custom":
            values |= {"from": self.start.isoformat(), "to": self.end.isoformat()}
        for name in ("channel", "account", "department", "agent"):
            if getattr(self, name) not in (None, ""):
                values[name] = getattr(self, name)
        values |= changes
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


class FilterForm(forms.Form):
    range = forms.ChoiceField(
        label=_("Período"),
        required=False,
        choices=[
            ("today", _("Hoy")),
            ("7d", _("7 días")),
            ("30d", _("30 días")),
            ("custom", _("Personalizado")),
        ],
    )
    start = forms.DateField(
        label=_("Desde"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Hasta"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    channel = forms.ChoiceField(label=_("Canal"), required=False)
    account = forms.TypedChoiceField(
        label=_("Cuenta"), required=False, coerce=int, empty_value=None
    )
    department = forms.TypedChoiceField(
        label=_("Departamento"), required=False, coerce=int, empty_value=None
    )
    agent = forms.TypedChoiceField(
        label=_("Ejecutivo"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, data: Any, *, tenant: Tenant) -> None:
        data = data.copy()
        # The URL says from/to (readable when shared); the form's fields are start/end.
        for url_name, field in (("from", "start"), ("to", "end")):
            if url_name in data:
                data[field] = data[url_name]
        super().__init__(data)
        self.tenant = tenant
        everyone: list[tuple[Any, Any]] = [("", _("Todos"))]
        people = User.objects.filter(tenant=tenant, is_bot=False).order_by("name")
        options: dict[str, list[tuple[Any, Any]]] = {
            "channel": [*everyone, *ChannelKind.choices],
            "account": [
                *everyone,
                *ChannelAccount.objects.order_by("name").values_list("pk", "name"),
            ],
            "department": [
                *everyone,
                *Department.objects.order_by("name").values_list("pk", "name"),
            ],
            "agent": [*everyone, *people.values_list("pk", "name")],
        }
        for name, choices in options.items():
            choice_field = self.fields[name]
            assert isinstance(choice_field, forms.ChoiceField)
            choice_field.choices = choices
        for name in ("channel", "account", "department", "agent"):
            self.fields[name].error_messages["invalid_choice"] = _(
                "Ese filtro no existe (quizás se eliminó): se muestran todos."
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("range") == "custom":
            start, end = data.get("start"), data.get("end")
            if start is None or end is None:
                raise forms.ValidationError(_("Indica las dos fechas del período personalizado."))
            if end < start:
                raise forms.ValidationError(_("La fecha final es anterior a la inicial."))
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(_("El período puede ser de un año como máximo."))
        return data

    def filters(self) -> Filters:
        """The valid filters; what is invalid falls back to the last 30 days, unfiltered."""
        tz = ZoneInfo(self.tenant.time_zone)
        today = timezone.now().astimezone(tz).date()
        self.is_valid()
        data = self.cleaned_data  # the fields that are valid, also when another one is not
        preset = data.get("range") or "30d"
        custom_ok = not self.non_field_errors() and data.get("start") and data.get("end")
        if preset == "custom" and custom_ok:
            start, end = data["start"], data["end"]
        else:
            preset = preset if preset in PRESETS else "30d"
            start, end = today - datetime.timedelta(days=PRESETS[preset] - 1), today
        return Filters(
            tz=tz,
            start=start,
            end=end,
            preset=preset,
            channel=data.get("channel") or "",
            account=data.get("account"),
            department=data.get("department"),
            agent=data.get("agent"),
        )
