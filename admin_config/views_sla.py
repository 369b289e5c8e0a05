"""SLA: the tenant's "at risk" threshold, and per account the minutes to a human answer, the
optional resolution time and the business hours its clock counts (none: around the clock).
Everything is saved in one POST, each change in the audit log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from admin_config import audit
from admin_config.sections import SECTIONS
from deskconfig.accounts import ChannelAccount
from deskconfig.models import BusinessSchedule, ConfigChange, TenantSettings
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role

SECTION = "sla"


class RiskForm(forms.ModelForm):
    sla_risk_percent = forms.IntegerField(
        label=gettext_lazy("En riesgo desde (% del SLA consumido)"),
        min_value=1,
        max_value=100,
        error_messages={
            "min_value": gettext_lazy("El porcentaje debe estar entre 1 y 100."),
            "max_value": gettext_lazy("El porcentaje debe estar entre 1 y 100."),
        },
        help_text=gettext_lazy(
            "Un ticket pasa a «en riesgo» cuando consumió este porcentaje de su SLA."
        ),
    )

    class Meta:
        model = TenantSettings
        fields = ["sla_risk_percent"]


class AccountSlaForm(forms.ModelForm):
    sla_minutes = forms.IntegerField(
        label=gettext_lazy("SLA (minutos)"),
        min_value=1,
        error_messages={"min_value": gettext_lazy("El SLA debe ser de al menos 1 minuto.")},
    )
    resolution_minutes = forms.IntegerField(
        label=gettext_lazy("Resolución (minutos)"),
        min_value=1,
        required=False,
        error_messages={
            "min_value": gettext_lazy("El tiempo de resolución debe ser de al menos 1 minuto.")
        },
    )

    class Meta:
        model = ChannelAccount
        fields = ["sla_minutes", "resolution_minutes", "schedule"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schedule = self.fields["schedule"]
        assert isinstance(schedule, forms.ModelChoiceField)
        schedule.queryset = BusinessSchedule.objects.order_by("-is_default", "name")
        schedule.empty_label = _("Sin horario (24/7)")
        schedule.error_messages["invalid_choice"] = _("Ese horario no existe.")


AccountSlaFormSet = forms.modelformset_factory(
    ChannelAccount, form=AccountSlaForm, extra=0, edit_only=True
)


def _accounts() -> Any:
    return ChannelAccount.objects.select_related("schedule").order_by("kind", "name")


@role_required(Role.ADMIN)
def sla(request: AuthedRequest) -> HttpResponse:
    tenant_id = request.user.tenant_id
    assert tenant_id is not None
    settings_row = TenantSettings.objects.first() or TenantSettings(tenant_id=tenant_id)
    if request.method == "POST":
        risk = RiskForm(request.POST, instance=settings_row)
        accounts = AccountSlaFormSet(request.POST, queryset=_accounts(), prefix="accounts")
        if risk.is_valid() and accounts.is_valid():
            _sla_save(request, risk, accounts)
            messages.success(request, _("Cambios guardados."))
            return redirect("admin_config:sla")
    else:
        risk = RiskForm(instance=settings_row)
        accounts = AccountSlaFormSet(queryset=_accounts(), prefix="accounts")
    return render(
        request,
        "admin_config/sla.html",
        {
            "page": "admin",
            "section": SECTION,
            "sections": SECTIONS,
            "risk": risk,
            "accounts": accounts,
            "has_schedules": BusinessSchedule.objects.exists(),
        },
    )


def _sla_save(request: AuthedRequest, risk: RiskForm, accounts: Any) -> None:
    """The threshold and every changed account in one transaction, each change audited."""
    with transaction.atomic():
        if risk.has_changed() or risk.instance.pk is None:
            creating = risk.instance.pk is None
            before = (
                {} if creating else audit.snapshot(TenantSettings.objects.get(pk=risk.instance.pk))
            )
            row = risk.save()
            change = audit.record(
                actor=request.user,
                section=SECTION,
                action=ConfigChange.Action.CREATE if creating else ConfigChange.Action.UPDATE,
                obj=row,
                before=before,
                after=audit.snapshot(row),
            )
            if change is not None:  # the settings row has no name of its own
                change.object_repr = _("Ajustes de SLA")
                change.save(update_fields=["object_repr"])
        for form in accounts.forms:
            if not form.has_changed():
                continue
            before = audit.snapshot(ChannelAccount.objects.get(pk=form.instance.pk))
            account = form.save()
            audit.record(
                actor=request.user,
                section=SECTION,
                action=ConfigChange.Action.UPDATE,
                obj=account,
                before=before,
                after=audit.snapshot(account),
            )
