from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from channels_conn.whatsapp.templates import posted_params
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import WhatsAppTemplate
from tickets.services import IncomingFile

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILES = 10


class ReplyForm(forms.Form):
    text = forms.CharField(required=False, max_length=20000, widget=forms.Textarea)
    reply_to = forms.IntegerField(required=False)
    # Facebook and Instagram: answer a comment publicly or privately ("" = as what it answers).
    visibility = forms.ChoiceField(
        required=False, choices=[("", ""), ("public", "public"), ("private", "private")]
    )
    # Files come straight from request.FILES["files"] (several per message), checked in clean().

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        uploads = self.files.getlist("files") if self.files else []
        if len(uploads) > MAX_FILES:
            raise forms.ValidationError(_("Máximo %(n)s archivos por mensaje.") % {"n": MAX_FILES})
        for upload in uploads:
            if (upload.size or 0) > MAX_FILE_BYTES:
                raise forms.ValidationError(
                    _("«%(name)s» pesa más de 20 MB.") % {"name": upload.name}
                )
        return data

    def incoming_files(self) -> list[IncomingFile]:
        uploads = self.files.getlist("files") if self.files else []
        return [
            IncomingFile(
                name=u.name or "archivo",
                content=u.read(),
                content_type=u.content_type or "application/octet-stream",
            )
            for u in uploads
        ]


class EscalateForm(forms.Form):
    to = forms.EmailField(label=_("Correo de destino"))
    note = forms.CharField(label=_("Nota"), required=False, max_length=2000, widget=forms.Textarea)


class NewTicketForm(forms.Form):
    account = forms.ModelChoiceField(
        queryset=ChannelAccount.objects.none(), label=_("Cuenta"), empty_label=_("Elige una cuenta")
    )
    identity = forms.CharField(
        label=_("Cliente"),
        max_length=255,
        help_text=_("Correo, teléfono con código de país, @usuario o id del canal."),
    )
    name = forms.CharField(label=_("Nombre"), max_length=200, required=False)
    text = forms.CharField(
        label=_("Primer mensaje"), max_length=20000, widget=forms.Textarea, required=False
    )
    # On WhatsApp the first message is an approved template; its {{n}} parameters arrive as
    # ``param-<template id>-<n>`` (see channels_conn.whatsapp.templates.posted_params).
    template = forms.ModelChoiceField(
        queryset=WhatsAppTemplate.objects.none(),
        label=_("Plantilla de WhatsApp"),
        required=False,
        error_messages={"invalid_choice": _("Elige una plantilla aprobada de la lista.")},
    )

    def __init__(self, *args: Any, accounts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts  # type: ignore[attr-defined]
        # The tenant's approved templates only: another tenant's id is an invalid choice.
        self.fields["template"].queryset = WhatsAppTemplate.objects.filter(  # type: ignore[attr-defined]
            status=WhatsAppTemplate.Status.APPROVED
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        account = data.get("account")
        template = data.get("template")
        data["params"] = []
        if account is None:
            return data
        if account.kind == ChannelKind.WHATSAPP:
            if template is None:
                if "template" not in self.errors:
                    self.add_error(
                        "template",
                        _("Por WhatsApp el primer mensaje es una plantilla aprobada: elige una."),
                    )
            elif template.account_id != account.pk:
                self.add_error("template", _("Esa plantilla es de otra cuenta de WhatsApp."))
            else:
                data["params"] = posted_params(self.data, template)
        else:
            data["template"] = None
            if not (data.get("text") or "").strip():
                self.add_error("text", _("Escribe el primer mensaje."))
        return data

    def chosen_template_id(self) -> int | None:
        """The template the person picked (to show it again with its parameters)."""
        value = str(self.data.get("template", "") or "") if self.is_bound else ""
        return int(value) if value.isdigit() else None

    def posted_params(self) -> list[str]:
        template_id = self.chosen_template_id()
        if template_id is None:
            return []
        prefix = f"param-{template_id}-"
        numbered = {
            int(key.removeprefix(prefix)): str(value)
            for key, value in self.data.items()
            if key.startswith(prefix) and key.removeprefix(prefix).isdigit()
        }
        return [numbered.get(n, "") for n in range(1, max(numbered, default=0) + 1)]


TRI = [("", _("No considerar")), ("1", _("Sí")), ("0", _("No"))]


def _tri(value: str) -> bool | None:
    return {"1": True, "0": False}.get(value)


class ColumnForm(forms.Form):
    """A column's settings and filters. Filter fields left empty mean "No considerar"."""

    name = forms.CharField(label=_("Nombre"), max_length=60)
    kind = forms.ChoiceField(label=_("Muestra"), choices=[])
    sort = forms.ChoiceField(label=_("Orden"), choices=[], required=False)
    sound = forms.BooleanField(label=_("Sonido con mensajes nuevos"), required=False)
    desktop_notify = forms.BooleanField(label=_("Notificación de escritorio"), required=False)

    def __init__(
        self, data: Any = None, *, column: Any = None, user: Any = None, prefill: Any = None
    ) -> None:
        from tickets.models import ColumnKind, ColumnSort

        # A new column may come prefilled from a link (Analítica's numbers open the tickets
        # behind them as a column to save): the same field names as the form posts.
        self.prefill = prefill if column is None and prefill else None
        initial = {"name": self.prefill.get("name", "")[:60]} if self.prefill else {}
        if column is not None:
            initial = {
                "name": column.name,
                "kind": column.kind,
                "sort": column.sort,
                "sound": column.sound,
                "desktop_notify": column.desktop_notify,
            }
        super().__init__(data, initial=initial)
        self.user = user  # whose tenant the customer filter is looked up in
        self.column = column
        self.fields["kind"].choices = ColumnKind.choices  # type: ignore[attr-defined]
        self.fields["sort"].choices = ColumnSort.choices  # type: ignore[attr-defined]

    def initial_filters(self) -> dict[str, Any]:
        if self.data:
            return self._filters_from_post()
        if self.prefill is not None:
            return self._filters_from_post(self.prefill)
        return dict(self.column.filters) if self.column is not None else {"status": ["open"]}

    data: Any  # a QueryDict when bound

    def _ints(self, name: str, d: Any = None) -> list[int]:
        d = self.data if d is None else d
        return [int(v) for v in d.getlist(name) if str(v).isdigit()]

    def _filters_from_post(self, d: Any = None) -> dict[str, Any]:
        d = self.data if d is None else d
        filters: dict[str, Any] = {
            "channels": d.getlist("channels"),
            "accounts": self._ints("accounts", d),
            "status": d.getlist("status"),
            "departments": self._ints("departments", d),
            "sla": d.getlist("sla"),
            "date_from": d.get("date_from") or None,
            "date_to": d.get("date_to") or None,
        }
        mode = d.get("assignee_mode") or ""
        if mode:
            filters["assignee"] = {"mode": mode, "users": self._ints("assignee_users", d)}
        for name in ("has_metadata", "awaiting", "has_comments", "addressed", "public", "mention"):
            value = _tri(d.get(name, ""))
            if value is not None:
                filters[name] = value
        if d.get("important") == "1":
            filters["important"] = True
        if d.get("published_by") in ("agent", "bot"):
            filters["published_by"] = d["published_by"]
        identity = (d.get("customer_identity") or "").strip()
        if identity:
            from tickets.queries import search

            found = search(tenant_id=self.user.tenant_id, query=identity)
            if found.customers:
                filters["customer"] = found.customers[0].pk
            else:
                self.add_error(None, _("No encontramos un cliente con «%(q)s».") % {"q": identity})
        return filters

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "kind": data["kind"],
            "filters": self._filters_from_post(),
            "sort": data.get("sort") or "updated",
            "sound": data["sound"],
            "desktop_notify": data["desktop_notify"],
        }
