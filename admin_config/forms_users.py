"""Forms of the people pages: invite / edit a person, the invitation's password, and each
person's own notification preferences."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _

from admin_config.users import PersonData, email_taken
from deskconfig.models import Department, DepartmentMembership
from helpdesk.identity import normalize_email
from helpdesk.models import Role, User

MAX_WORKLOAD = 500


class PersonForm(forms.Form):
    """Invite (``instance`` None) or edit one person of the tenant."""

    name = forms.CharField(label=_("Nombre"), max_length=150)
    email = forms.EmailField(label=_("Correo"), max_length=254)
    role = forms.ChoiceField(label=_("Rol"), choices=Role.choices, initial=Role.AGENT)
    departments = forms.ModelMultipleChoiceField(
        label=_("Departamentos"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    max_open_tickets = forms.IntegerField(
        label=_("Máximo de tickets abiertos"),
        min_value=0,
        max_value=MAX_WORKLOAD,
        initial=10,
        help_text=_("Cuántos tickets abiertos puede tener asignados a la vez (0: ninguno)."),
    )

    def __init__(self, *args: Any, instance: User | None = None, **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "email": instance.email,
                "role": instance.role,
                "max_open_tickets": instance.max_open_tickets,
                "departments": list(
                    DepartmentMembership.objects.filter(user=instance).values_list(
                        "department_id", flat=True
                    )
                ),
            }
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.fields["departments"].queryset = Department.objects.order_by("name")  # type: ignore[attr-defined]

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        if email_taken(email, exclude_pk=self.instance.pk if self.instance else None):
            # Never say which tenant has it: the address is simply not available.
            raise forms.ValidationError(_("Ese correo ya está en uso."))
        return str(email)

    def data_for_service(self) -> PersonData:
        d = self.cleaned_data
        return PersonData(
            name=d["name"],
            email=d["email"],
            role=d["role"],
            departments=tuple(d["departments"]),
            max_open_tickets=d["max_open_tickets"],
        )


class InvitationPasswordForm(SetPasswordForm):
    """The invited person's first password, checked by the project's password validators."""

    error_messages = {"password_mismatch": _("Las dos contraseñas no coinciden.")}


class NotificationPreferencesForm(forms.ModelForm):
    """What a person chooses for themselves: emails they get, and their language."""

    language = forms.ChoiceField(
        label=_("Idioma"),
        required=False,
        choices=[("", _("El de mi empresa")), ("es", "Español"), ("en", "English")],
    )

    class Meta:
        model = User
        fields = ["email_on_assignment", "email_on_mention", "email_on_sla_breach", "language"]
        labels = {
            "email_on_assignment": _("Cuando me asignan un ticket"),
            "email_on_mention": _("Cuando me mencionan en un comentario"),
            "email_on_sla_breach": _("Cuando vence el SLA de un ticket mío"),
        }
