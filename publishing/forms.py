"""The forms of the publishing page (fields listed explicitly; accounts limited to the user's)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from deskconfig.accounts import ChannelAccount
from publishing.models import PublishingSettings
from publishing.services import Image

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class AccountChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.get_kind_display()} · {obj.name}"


class PostForm(forms.Form):
    text = forms.CharField(
        label=_("Texto"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "data-x-counter": "1"}),
        help_text=_("En X caben 280 caracteres; cada enlace cuenta 23 y los emojis cuentan 2."),
    )
    image = forms.ImageField(label=_("Imagen (opcional)"), required=False)
    publish_at = forms.DateTimeField(
        label=_("Publicar el"),
        input_formats=[DATETIME_LOCAL],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=_("En la zona horaria de tu empresa."),
    )

    def image_value(self) -> Image | None:
        upload = self.cleaned_data.get("image")
        if not upload:
            return None
        return Image(
            name=str(upload.name)[:100],
            content=upload.read(),
            content_type=str(getattr(upload, "content_type", "") or ""),
        )


class NewPostForm(PostForm):
    accounts = AccountChoice(
        label=_("Cuentas"),
        queryset=ChannelAccount.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, accounts: QuerySet[ChannelAccount], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["accounts"]
        assert isinstance(field, AccountChoice)
        field.queryset = accounts
        self.order_fields(["accounts", "text", "image", "publish_at"])


class EditPostForm(PostForm):
    remove_image = forms.BooleanField(label=_("Quitar la imagen"), required=False)


class SettingsForm(forms.ModelForm):
    class Meta:
        model = PublishingSettings
        fields = ["missed_after_minutes"]
