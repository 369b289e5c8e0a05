"""Business hours: the tenant's weekly schedules with their holidays, and which one is main.

A schedule is edited on one page: its name and time zone, a weekly editor of rows (weekday,
from, to; several rows per day) and a list of holidays. The rows are plain Django formsets, so
the page works without JavaScript (one blank row is always there; app.js adds more)."""

from __future__ import annotations

import datetime
import itertools
import zoneinfo
from collections import defaultdict
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Model
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from admin_config import audit
from admin_config.crud import TenantModelForm, save_with_audit
from admin_config.sections import SECTIONS
from deskconfig.business_hours import END_OF_DAY
from deskconfig.models import BusinessInterval, BusinessSchedule, ConfigChange, Holiday
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role, validate_time_zone

SECTION = "business-hours"

WEEKDAYS = (
    (0, gettext_lazy("Lunes")),
    (1, gettext_lazy("Martes")),
    (2, gettext_lazy("Miércoles")),
    (3, gettext_lazy("Jueves")),
    (4, gettext_lazy("Viernes")),
    (5, gettext_lazy("Sábado")),
    (6, gettext_lazy("Domingo")),
)
SHORT_WEEKDAYS = (
    gettext_lazy("Lun"),
    gettext_lazy("Mar"),
    gettext_lazy("Mié"),
    gettext_lazy("Jue"),
    gettext_lazy("Vie"),
    gettext_lazy("Sáb"),
    gettext_lazy("Dom"),
)
OFFICE_HOURS = [
    {"weekday": d, "start": datetime.time(9), "end": datetime.time(18)} for d in range(5)
]


DASH = "\u2013"  # the en dash between two times


def clock(t: datetime.time) -> str:
    """09:00, and 24:00 for an interval that runs until midnight."""
    return "24:00" if t == END_OF_DAY else t.strftime("%H:%M")


def _zone_choices() -> list[tuple[str, str]]:
    return [(z, z) for z in sorted(zoneinfo.available_timezones())]


# --- forms ----------------------------------------------------------------------------------


class ScheduleForm(TenantModelForm):
    time_zone = forms.CharField(
        label=gettext_lazy("Zona horaria"),
        validators=[validate_time_zone],
        widget=forms.Select(),
    )

    class Meta:
        model = BusinessSchedule
        fields = ["name", "time_zone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].widget.choices = _zone_choices()  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        taken = BusinessSchedule.objects.filter(tenant_id=self.tenant_id, name__iexact=name)
        if taken.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("Ya hay un horario llamado «%(name)s».") % {"name": name})
        return name


class EndTimeField(forms.TimeField):
    """ "Until 00:00" is until midnight: stored as the last instant of the day."""

    def to_python(self, value: Any) -> datetime.time | None:
        t = super().to_python(value)
        return END_OF_DAY if t == datetime.time(0) else t


class EndTimeInput(forms.TimeInput):
    input_type = "time"
    supports_microseconds = True  # so END_OF_DAY (…59.999999) reaches format_value intact

    def format_value(self, value: Any) -> str | None:
        if value == END_OF_DAY:
            return "00:00"
        return super().format_value(value)


class IntervalForm(forms.Form):
    weekday = forms.TypedChoiceField(
        label=gettext_lazy("Día"),
        choices=[("", "—"), *WEEKDAYS],
        coerce=int,
    )
    start = forms.TimeField(
        label=gettext_lazy("Desde"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    end = EndTimeField(
        label=gettext_lazy("Hasta"),
        widget=EndTimeInput(format="%H:%M"),
        help_text=gettext_lazy("00:00 = hasta medianoche."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None and start >= end:
            raise forms.ValidationError(_("La hora de inicio debe ser anterior a la de término."))
        return data


class HolidayForm(forms.Form):
    date = forms.DateField(
        label=gettext_lazy("Fecha"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    name = forms.CharField(label=gettext_lazy("Nombre"), max_length=100)


class RowsFormSet(forms.BaseFormSet):
    """Every row may be left blank (it is then ignored), not only the extra ones."""

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {"empty_permitted": True, "use_required_attribute": False}

    def rows(self) -> list[dict[str, Any]]:
        """The cleaned, filled, not removed rows."""
        return [
            {k: v for k, v in f.cleaned_data.items() if k != "DELETE"}
            for f in self.forms
            if f.cleaned_data and not (self.can_delete and self._should_delete_form(f))  # type: ignore[attr-defined]
        ]


class IntervalFormSet(RowsFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        by_day: dict[int, list[tuple[datetime.time, datetime.time]]] = defaultdict(list)
        for row in self.rows():
            by_day[row["weekday"]].append((row["start"], row["end"]))
        for weekday, spans in sorted(by_day.items()):
            spans.sort()
            for (s1, e1), (s2, e2) in itertools.pairwise(spans):
                if s2 < e1:
                    raise forms.ValidationError(
                        _("Los tramos del %(day)s se superponen: %(a)s y %(b)s.")
                        % {
                            "day": str(WEEKDAYS[weekday][1]).lower(),
                            "a": f"{clock(s1)}{DASH}{clock(e1)}",
                            "b": f"{clock(s2)}{DASH}{clock(e2)}",
                        }
                    )


class HolidayFormSet(RowsFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[datetime.date] = set()
        for row in self.rows():
            if row["date"] in seen:
                raise forms.ValidationError(
                    _("El feriado del %(date)s está repetido.")
                    % {"date": row["date"].strftime("%d-%m-%Y")}
                )
            seen.add(row["date"])


Intervals = cast(
    type[IntervalFormSet],
    forms.formset_factory(IntervalForm, formset=IntervalFormSet, extra=1, can_delete=True),
)
Holidays = cast(
    type[HolidayFormSet],
    forms.formset_factory(HolidayForm, formset=HolidayFormSet, extra=1, can_delete=True),
)


# --- reads ----------------------------------------------------------------------------------


def week_summary(schedule: BusinessSchedule) -> list[tuple[str, str]]:
    """("Lun", "09:00-13:00, 14:00-18:00") for each day with hours (prefetched intervals)."""
    by_day: dict[int, list[str]] = defaultdict(list)
    for i in sorted(schedule.intervals.all(), key=lambda i: (i.weekday, i.start)):
        by_day[i.weekday].append(f"{clock(i.start)}{DASH}{clock(i.end)}")
    return [(str(SHORT_WEEKDAYS[d]), ", ".join(spans)) for d, spans in sorted(by_day.items())]


def _rows_snapshot(schedule: BusinessSchedule) -> dict[str, Any]:
    """The schedule's intervals and holidays, as the audit log shows them."""
    return {
        "intervals": [
            f"{SHORT_WEEKDAYS[i.weekday]} {clock(i.start)}{DASH}{clock(i.end)}"
            for i in schedule.intervals.order_by("weekday", "start")
        ],
        "holidays": [f"{h.date.isoformat()} {h.name}" for h in schedule.holidays.order_by("date")],
    }


def _context(**extra: Any) -> dict[str, Any]:
    return {"page": "admin", "section": SECTION, "sections": SECTIONS, **extra}


# --- views ----------------------------------------------------------------------------------


@role_required(Role.ADMIN)
def schedule_list(request: AuthedRequest) -> HttpResponse:
    schedules = BusinessSchedule.objects.prefetch_related("intervals", "holidays", "accounts")
    rows = [
        {
            "obj": s,
            "week": week_summary(s),
            "holidays": len(s.holidays.all()),
            "accounts": [str(a) for a in s.accounts.all()],
        }
        for s in schedules.order_by("-is_default", "name")
    ]
    return render(request, "admin_config/hours.html", _context(rows=rows))


@role_required(Role.ADMIN)
def schedule_form(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    schedule = get_object_or_404(BusinessSchedule.objects.all(), pk=pk) if pk else None
    tenant_id = request.user.tenant_id
    assert tenant_id is not None
    if request.method == "POST":
        form = ScheduleForm(request.POST, instance=schedule, tenant_id=tenant_id)
        intervals = Intervals(request.POST, prefix="intervals")
        holidays = Holidays(request.POST, prefix="holidays")
        if form.is_valid() and intervals.is_valid() and holidays.is_valid():
            saved = _schedule_save(request, form, intervals.rows(), holidays.rows())
            messages.success(request, _("Horario «%(name)s» guardado.") % {"name": saved})
            return redirect("admin_config:hours")
    else:
        form = ScheduleForm(
            instance=schedule,
            tenant_id=tenant_id,
            initial=None if schedule else {"time_zone": request.tenant.time_zone},
        )
        if schedule is None:
            interval_rows: list[dict[str, Any]] = OFFICE_HOURS
            holiday_rows: list[dict[str, Any]] = []
        else:
            interval_rows = list(
                schedule.intervals.order_by("weekday", "start").values("weekday", "start", "end")
            )
            holiday_rows = list(schedule.holidays.order_by("date").values("date", "name"))
        intervals = Intervals(prefix="intervals", initial=interval_rows)
        holidays = Holidays(prefix="holidays", initial=holiday_rows)
    return render(
        request,
        "admin_config/hours_form.html",
        _context(form=form, intervals=intervals, holidays=holidays, obj=schedule),
    )


def _schedule_save(
    request: AuthedRequest,
    form: ScheduleForm,
    intervals: list[dict[str, Any]],
    holidays: list[dict[str, Any]],
) -> Model:
    """The schedule, its rows replaced, and one audit entry with the rows before and after.
    The tenant's first schedule becomes its main one."""
    schedule = form.instance
    before = {} if schedule.pk is None else _rows_snapshot(schedule)
    tenant_id = form.tenant_id

    def replace_rows(obj: Model) -> dict[str, Any]:
        assert isinstance(obj, BusinessSchedule)
        obj.intervals.all().delete()
        obj.holidays.all().delete()
        BusinessInterval.objects.bulk_create(
            BusinessInterval(tenant_id=tenant_id, schedule=obj, **row) for row in intervals
        )
        Holiday.objects.bulk_create(
            Holiday(tenant_id=tenant_id, schedule=obj, **row) for row in holidays
        )
        if not BusinessSchedule.objects.filter(is_default=True).exists():
            obj.is_default = True
            obj.save(update_fields=["is_default"])
        return _rows_snapshot(obj)

    return save_with_audit(
        actor=request.user,
        section=SECTION,
        form=form,
        extra_before=before,
        after_save=replace_rows,
    )


@role_required(Role.ADMIN)
@require_POST
def schedule_make_main(request: AuthedRequest, pk: int) -> HttpResponse:
    """This schedule becomes the main one (the one of accounts without their own)."""
    with transaction.atomic():
        schedule = get_object_or_404(BusinessSchedule.objects.select_for_update(), pk=pk)
        if not schedule.is_default:
            for previous in BusinessSchedule.objects.select_for_update().filter(is_default=True):
                _set_main(request, previous, False)
            _set_main(request, schedule, True)
    messages.success(request, _("«%(name)s» es ahora el horario principal.") % {"name": schedule})
    return redirect("admin_config:hours")


def _set_main(request: AuthedRequest, schedule: BusinessSchedule, main: bool) -> None:
    before = audit.snapshot(schedule)
    schedule.is_default = main
    schedule.save(update_fields=["is_default"])
    audit.record(
        actor=request.user,
        section=SECTION,
        action=ConfigChange.Action.UPDATE,
        obj=schedule,
        before=before,
        after=audit.snapshot(schedule),
    )


@role_required(Role.ADMIN)
@require_POST
def schedule_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    """Refused while accounts use the schedule: their SLA would silently become 24/7."""
    schedule = get_object_or_404(BusinessSchedule.objects.all(), pk=pk)
    users = [str(a) for a in schedule.accounts.all()]
    if users:
        messages.error(
            request,
            _(
                "No se puede eliminar «%(name)s»: lo usan %(accounts)s. "
                "Asígnales otro horario en SLA primero."
            )
            % {"name": schedule, "accounts": ", ".join(users)},
        )
    else:
        with transaction.atomic():
            audit.record(
                actor=request.user,
                section=SECTION,
                action=ConfigChange.Action.DELETE,
                obj=schedule,
                before=audit.snapshot(schedule, _rows_snapshot(schedule)),
            )
            schedule.delete()
        messages.success(request, _("«%(obj)s» eliminado.") % {"obj": schedule})
    return redirect("admin_config:hours")
