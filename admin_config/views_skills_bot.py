"""The skills bot page: per account on/off, texts, default department and the menu."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import models
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from admin_config.crud import save_with_audit
from admin_config.forms_skills_bot import SkillsBotForm
from admin_config.sections import SECTIONS
from deskconfig.accounts import ChannelAccount
from deskconfig.models import Department, SkillsBot, SkillsBotOption
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role
from workflow.skills_bot import menu

SECTION = "skills-bot"


def _option_names(bot: SkillsBot) -> list[str]:
    if bot.pk is None:
        return []
    return [o.department.name for o in bot.options.select_related("department")]


@role_required(Role.ADMIN)
def skills_bot_list(request: AuthedRequest) -> HttpResponse:
    """Every account with its bot's state and menu."""
    accounts = ChannelAccount.objects.select_related(
        "skills_bot", "skills_bot__default_department"
    ).order_by("kind", "name")
    rows = []
    for account in accounts:
        bot = getattr(account, "skills_bot", None)
        rows.append((account, bot, _option_names(bot) if bot else []))
    return render(
        request,
        "admin_config/skills_bot.html",
        {"page": "admin", "section": SECTION, "sections": SECTIONS, "rows": rows},
    )


def _save_options(bot: models.Model, chosen: list[Department]) -> dict[str, Any]:
    assert isinstance(bot, SkillsBot)
    SkillsBotOption.objects.filter(bot=bot).delete()
    SkillsBotOption.objects.bulk_create(
        SkillsBotOption(tenant_id=bot.tenant_id, bot=bot, department=d, position=n)
        for n, d in enumerate(chosen, start=1)
    )
    return {"options": [d.name for d in chosen]}


@role_required(Role.ADMIN)
def skills_bot_account(request: AuthedRequest, account_id: int) -> HttpResponse:
    tenant_id = request.user.tenant_id
    assert tenant_id is not None
    account = get_object_or_404(ChannelAccount.objects.all(), pk=account_id)
    bot = SkillsBot.objects.filter(account=account).first() or SkillsBot(
        tenant_id=tenant_id, account=account
    )
    departments = list(Department.objects.order_by("name"))
    if request.method == "POST":
        form = SkillsBotForm(
            request.POST, instance=bot, tenant_id=tenant_id, departments=departments
        )
        if form.is_valid():
            chosen = form.chosen()
            save_with_audit(
                actor=request.user,
                section=SECTION,
                form=form,
                extra_before={"options": _option_names(bot)} if bot.pk else None,
                after_save=lambda obj: _save_options(obj, chosen),
            )
            messages.success(request, _("Cambios guardados."))
            return redirect("admin_config:skills_bot")
    else:
        form = SkillsBotForm(instance=bot, tenant_id=tenant_id, departments=departments)
    options = [o.department for o in bot.options.select_related("department")] if bot.pk else []
    return render(
        request,
        "admin_config/skills_bot_account.html",
        {
            "page": "admin",
            "section": SECTION,
            "sections": SECTIONS,
            "form": form,
            "account": account,
            "preview": f"{bot.greeting}\n\n{menu(options)}".strip() if options else "",
        },
    )
