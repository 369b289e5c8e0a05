from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from channels_conn.models import ChannelAccount
from tickets.services import IncomingFile

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILES = 10


class ReplyForm(forms.Form):
    text = forms.CharField(required=False, max_length=20000, widget=forms.Textarea)
    reply_to = forms.IntegerField(required=False)
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
    account = forms.ModelChoiceField(queryset=ChannelAccount.objects.none(), label=_("Cuenta"))
    identity = forms.CharField(
        label=_("Cliente"),
        max_length=255,
        help_text=_("Correo, teléfono con código de país, @usuario o id del canal."),
    )
    name = forms.CharField(label=_("Nombre"), max_length=200, required=False)
    text = forms.CharField(label=_("Primer mensaje"), max_length=20000, widget=forms.Textarea)

    def __init__(self, *args: Any, accounts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts  # type: ignore[attr-defined]
