"""The automatic actions page: the tenant's reopen window and each account's actions."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from admin_config.crud import save_with_audit
from admin_config.forms_automation import AccountAutomationForm, ReopenWindowForm
from admin_config.sections import SECTIONS
from deskconfig.accounts import ChannelAccount
from deskconfig.models import AccountAutomation, BusinessSchedule, TenantSettings
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role

SECTION = "auto-actions"


def _settings(tenant_id: int) -> TenantSettings:
    return TenantSettings.objects.first() or TenantSettings(tenant_id=tenant_id)


@role_required(Role.ADMIN)
def automation_list(request: AuthedRequest) -> HttpResponse:
    """The reopen window (editable here) and every account with a summary of its actions."""
    tenant_id = request.user.tenant_id
    assert tenant_id is not None
    settings = _settings(tenant_id)
    if request.method == "POST":
        form = ReopenWindowForm(request.POST, instance=settings, tenant_id=tenant_id)
        if form.is_valid():
            save_with_audit(actor=request.user, section=SECTION, form=form)
            messages.success(request, _("Cambios guardados."))
            return redirect("admin_config:automation")
    else:
        form = ReopenWindowForm(instance=settings, tenant_id=tenant_id)
    accounts = ChannelAccount.objects.select_related("automation").order_by("kind", "name")
    rows = [(a, getattr(a, "automation", None)) for a in accounts]
    return render(
        request,
        "admin_config/automation.html",
        {"page": "admin", "section": SECTION, "sections": SECTIONS, "form": form, "rows": rows},
    )


@role_required(Role.ADMIN)
def automation_account(request: AuthedRequest, account_id: int) -> HttpResponse:
    tenant_id = request.user.tenant_id
    assert tenant_id is not None
    account = get_object_or_404(ChannelAccount.objects.all(), pk=account_id)
    automation = AccountAutomation.objects.filter(account=account).first() or AccountAutomation(
        tenant_id=tenant_id, account=account
    )
    if request.method == "POST":
        form = AccountAutomationForm(request.POST, instance=automation, tenant_id=tenant_id)
        if form.is_valid():
            save_with_audit(
                actor=request.user,
                section=SECTION,
                form=form,
                after_save=lambda obj: {"account": account.name},
                extra_before={"account": account.name} if automation.pk else None,
            )
            messages.success(request, _("Cambios guardados."))
            return redirect("admin_config:automation")
    else:
        form = AccountAutomationForm(instance=automation, tenant_id=tenant_id)
    return render(
        request,
        "admin_config/automation_account.html",
        {
            "page": "admin",
            "section": SECTION,
            "sections": SECTIONS,
            "form": form,
            "account": account,
            "has_schedule": BusinessSchedule.objects.exists(),
        },
    )
