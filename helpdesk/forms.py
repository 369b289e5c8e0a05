from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from helpdesk.identity import normalize_email
from helpdesk.models import User
from helpdesk.tenancy import bypass_context


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Correo"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": _(
            "El correo o la contraseña no son correctos. Revísalos e inténtalo otra vez."
        ),
        "inactive": _("Esta cuenta está desactivada. Pide ayuda a tu administrador."),
    }


class TenantPasswordResetForm(PasswordResetForm):
    """Finds the user by email before any tenant is known, hence the bypass."""

    def get_users(self, email: str) -> Iterator[Any]:
        with bypass_context():
            users = list(
                User.objects.filter(
                    email=normalize_email(email),
                    invited_at__isnull=True,
                    is_active=True,
                    is_bot=False,
                )
            )
        return (u for u in users if u.has_usable_password())


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["language", "dark_mode"]
