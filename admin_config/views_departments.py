"""The Departments page (Admin only): name and members; tickets, templates, routing rules and
the skills bot point at departments."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db import IntegrityError, models
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from admin_config.crud import TenantModelForm, delete_with_audit, save_with_audit
from admin_config.sections import SECTIONS
from deskconfig.models import (
    Department,
    DepartmentMembership,
    MessageTemplate,
    SkillsBotOption,
    TemplateDepartment,
)
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role, User
from workflow import assignment

SECTION = "departments"


class DepartmentForm(TenantModelForm):
    members = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Integrantes"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Las personas activas del equipo que atienden este departamento."),
    )

    class Meta:
        model = Department
        fields = ["name"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            is_active=True, is_bot=False
        ).order_by("name")
        if self.instance.pk:
            self.initial["members"] = _member_ids(self.instance)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        same = Department.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if same.exists():
            raise forms.ValidationError(_("Ya existe un departamento con ese nombre."))
        return name


def _member_ids(department: Department) -> list[int]:
    return sorted(
        DepartmentMembership.objects.filter(department=department).values_list("user_id", flat=True)
    )


def _save_members(form: DepartmentForm) -> Any:
    def after_save(obj: models.Model) -> dict[str, Any]:
        wanted = {u.pk for u in form.cleaned_data["members"]}
        # Only the active people shown on the form are touched: a deactivated member keeps
        # their row, so reactivating them restores their departments.
        shown = set(form.fields["members"].queryset.values_list("pk", flat=True))  # type: ignore[attr-defined]
        DepartmentMembership.objects.filter(department=obj, user_id__in=shown - wanted).delete()
        have = set(_member_ids(obj))  # type: ignore[arg-type]
        DepartmentMembership.objects.bulk_create(
            DepartmentMembership(tenant_id=form.tenant_id, department_id=obj.pk, user_id=pk)
            for pk in sorted(wanted - have)
        )
        # New members may be eligible for the department's queued tickets.
        tenant_id = form.tenant_id
        assignment.drain_queue(tenant_id)  # after the commit
        return {"members": _member_ids(obj)}  # type: ignore[arg-type]

    return after_save


def _context(**extra: Any) -> dict[str, Any]:
    return {"page": "admin", "section": SECTION, "sections": SECTIONS, **extra}


@role_required(Role.ADMIN)
def department_list(request: AuthedRequest) -> HttpResponse:
    from tickets.models import TicketStatus

    departments = Department.objects.annotate(
        open_tickets=models.Count(
            "tickets", filter=models.Q(tickets__status=TicketStatus.OPEN), distinct=True
        )
    ).order_by("name")
    members: dict[int, list[User]] = {}
    for m in (
        DepartmentMembership.objects.filter(user__is_active=True, user__is_bot=False)
        .select_related("user")
        .order_by("user__name")
    ):
        members.setdefault(m.department_id, []).append(m.user)
    rows = [(d, members.get(d.pk, [])) for d in departments]
    return render(request, "admin_config/departments.html", _context(rows=rows))


@role_required(Role.ADMIN)
def department_form(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(Department, pk=pk) if pk else None
    tenant_id = request.user.tenant_id or 0
    form = DepartmentForm(request.POST or None, instance=instance, tenant_id=tenant_id)
    if request.method == "POST" and form.is_valid():
        before = {"members": _member_ids(instance)} if instance else None
        try:
            save_with_audit(
                actor=request.user,
                section=SECTION,
                form=form,
                extra_before=before,
                after_save=_save_members(form),
            )
        except IntegrityError:
            form.add_error("name", _("Ya existe un departamento con ese nombre."))
        else:
            messages.success(request, _("Cambios guardados."))
            return redirect("admin_config:departments")
    return render(request, "admin_config/departments_form.html", _context(form=form, obj=instance))


@role_required(Role.ADMIN)
def department_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    """GET: what deleting means; POST: delete (the tickets stay, without a department)."""
    department = get_object_or_404(Department, pk=pk)
    if request.method == "POST":
        name = str(department)
        delete_with_audit(actor=request.user, section=SECTION, obj=department)
        messages.success(
            request,
            _("«%(name)s» eliminado. Sus tickets siguen existiendo, sin departamento.")
            % {"name": name},
        )
        return redirect("admin_config:departments")
    from tickets.models import Ticket

    only_here = (
        TemplateDepartment.objects.filter(department=department)
        .values_list("template_id", flat=True)
        .distinct()
    )
    templates_becoming_global = (
        MessageTemplate.objects.filter(pk__in=only_here)
        .annotate(n=models.Count("departments"))
        .filter(n=1)
        .count()
    )
    context = _context(
        obj=department,
        tickets=Ticket.objects.filter(department=department).count(),
        templates=templates_becoming_global,
        bot_options=SkillsBotOption.objects.filter(department=department).count(),
        members=len(_member_ids(department)),
    )
    return render(request, "admin_config/departments_delete.html", context)
