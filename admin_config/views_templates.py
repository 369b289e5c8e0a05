"""Message templates: quick replies ("/" + shortcut in the composer, with variables) and
WhatsApp templates (approved by WhatsApp, with {{1}}…{{n}} placeholders)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from admin_config.crud import Column, TenantModelForm
from admin_config.crud_extra import Section
from admin_config.message_templates import (
    WA_BODY_MAX,
    WA_NAME,
    placeholder_count,
    placeholder_errors,
    unknown_variables,
)
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import Department, MessageTemplate, TemplateDepartment, WhatsAppTemplate

# The languages WhatsApp offers for templates that our customers use most.
WA_LANGUAGES = [
    ("es", "Español"),
    ("es_AR", "Español (Argentina)"),
    ("es_ES", "Español (España)"),
    ("es_MX", "Español (México)"),
    ("en", "English"),
    ("en_US", "English (US)"),
    ("en_GB", "English (UK)"),
    ("pt_BR", "Português (Brasil)"),
    ("pt_PT", "Português (Portugal)"),
    ("fr", "Français"),
    ("it", "Italiano"),
    ("de", "Deutsch"),
]


# --- quick replies ---------------------------------------------------------------------------


class TemplateForm(TenantModelForm):
    shortcut = forms.CharField(
        label=gettext_lazy("Atajo"),
        max_length=41,
        help_text=gettext_lazy("Se escribe «/» y el atajo en la respuesta, p. ej. /saludo."),
    )
    departments = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Departamentos"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Sin departamentos es global: la ven todos. Si eliges alguno, solo sus integrantes."
        ),
    )

    class Meta:
        model = MessageTemplate
        fields = ["name", "shortcut", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = Department.objects.filter(tenant_id=self.tenant_id)  # type: ignore[attr-defined]
        if self.instance.pk:
            self.initial["departments"] = list(
                TemplateDepartment.objects.filter(template=self.instance).values_list(
                    "department_id", flat=True
                )
            )

    def clean_shortcut(self) -> str:
        value = self.cleaned_data["shortcut"].strip().lstrip("/").lower()
        if not re.fullmatch(r"[a-z0-9_-]+", value) or len(value) > 40:
            raise forms.ValidationError(
                _("El atajo lleva solo letras sin tildes, números, «-» o «_» (hasta 40).")
            )
        taken = MessageTemplate.objects.filter(tenant_id=self.tenant_id, shortcut=value).exclude(
            pk=self.instance.pk
        )
        if taken.exists():
            raise forms.ValidationError(
                _("Ya existe una plantilla con el atajo /%(s)s.") % {"s": value}
            )
        return value

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        unknown = unknown_variables(body)
        if unknown:
            raise forms.ValidationError(
                ngettext(
                    "Variable desconocida: %(names)s. Usa {cliente}, {ejecutivo} o {ticket}.",
                    "Variables desconocidas: %(names)s. Usa {cliente}, {ejecutivo} o {ticket}.",
                    len(unknown),
                )
                % {"names": ", ".join("{" + n + "}" for n in unknown)}
            )
        return body


def _template_departments(template: MessageTemplate) -> dict[str, Any]:
    ids = TemplateDepartment.objects.filter(template=template).values_list(
        "department_id", flat=True
    )
    return {"departments": sorted(ids)}


def _save_departments(template: Any, form: Any) -> dict[str, Any]:
    chosen = {d.pk for d in form.cleaned_data["departments"]}
    links = TemplateDepartment.objects.filter(template=template)
    links.exclude(department_id__in=chosen).delete()
    have = set(links.values_list("department_id", flat=True))
    TemplateDepartment.objects.bulk_create(
        TemplateDepartment(tenant_id=template.tenant_id, template=template, department_id=pk)
        for pk in sorted(chosen - have)
    )
    return {"departments": sorted(chosen)}


def _departments_cell(template: MessageTemplate) -> str:
    names = [d.name for d in template.departments.all()]
    return ", ".join(names) if names else _("Todos (global)")


templates = Section(
    section="templates",
    name="templates",
    model=MessageTemplate,
    form_class=TemplateForm,
    title=gettext_lazy("Plantillas"),
    intro=gettext_lazy(
        "Respuestas rápidas: el ejecutivo escribe «/» y el atajo. Variables: {cliente}, "
        "{ejecutivo}, {ticket}."
    ),
    empty=gettext_lazy("Todavía no hay respuestas rápidas."),
    columns=[
        Column(gettext_lazy("Atajo"), lambda t: f"/{t.shortcut}"),
        Column(gettext_lazy("Nombre"), lambda t: t.name),
        Column(gettext_lazy("Departamentos"), _departments_cell),
    ],
    queryset=lambda: MessageTemplate.objects.prefetch_related("departments").order_by("shortcut"),
    list_template="admin_config/templates_list.html",
    before_extra=_template_departments,
    after_save=_save_departments,
)


# --- WhatsApp templates ----------------------------------------------------------------------


class WhatsAppTemplateForm(TenantModelForm):
    language = forms.ChoiceField(label=gettext_lazy("Idioma"), choices=WA_LANGUAGES)

    class Meta:
        model = WhatsAppTemplate
        fields = ["account", "name", "language", "category", "body", "status"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}
        help_texts = {
            "name": gettext_lazy("Minúsculas sin tildes, números y «_», como lo exige WhatsApp."),
            "body": gettext_lazy("Parámetros numerados: {{1}}, {{2}}… (hasta 1024 caracteres)."),
            "status": gettext_lazy(
                "El estado que informa WhatsApp. Solo las aprobadas se pueden enviar."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account = self.fields["account"]
        account.queryset = ChannelAccount.objects.filter(  # type: ignore[attr-defined]
            tenant_id=self.tenant_id, kind=ChannelKind.WHATSAPP
        ).order_by("name")
        account.label_from_instance = lambda a: a.name  # type: ignore[attr-defined]
        account.empty_label = None  # type: ignore[attr-defined]
        if not account.queryset.exists():  # type: ignore[attr-defined]
            account.help_text = _("Conecta primero una cuenta de WhatsApp en Canales.")
        current = self.instance.language
        if current and current not in dict(WA_LANGUAGES):
            # A code stored before (or by WhatsApp) stays selectable when editing.
            self.fields["language"].choices = [*WA_LANGUAGES, (current, current)]  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not WA_NAME.fullmatch(name):
            raise forms.ValidationError(
                _(
                    "WhatsApp solo acepta minúsculas sin tildes, números y «_» en el nombre "
                    "(p. ej. pedido_enviado)."
                )
            )
        return name

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        errors = placeholder_errors(body)
        if len(body) > WA_BODY_MAX:
            errors.append(
                _("WhatsApp acepta hasta %(max)d caracteres; este texto tiene %(n)d.")
                % {"max": WA_BODY_MAX, "n": len(body)}
            )
        if errors:
            raise forms.ValidationError(errors)
        return body

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        account, name, language = data.get("account"), data.get("name"), data.get("language")
        if account and name and language:
            taken = WhatsAppTemplate.objects.filter(
                account=account, name=name, language=language
            ).exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error(
                    "name",
                    _("Esta cuenta ya tiene la plantilla «%(name)s» en ese idioma.")
                    % {"name": name},
                )
        return data


def _status_chip(template: WhatsAppTemplate) -> str:
    return format_html(
        '<span class="chip wa-status {}">{}</span>',
        template.status.lower(),
        template.get_status_display(),
    )


whatsapp_templates = Section(
    section="templates",
    name="wa_templates",
    base="admin/templates/whatsapp/",
    model=WhatsAppTemplate,
    form_class=WhatsAppTemplateForm,
    title=gettext_lazy("Plantillas de WhatsApp"),
    intro=gettext_lazy(
        "Para iniciar una conversación o responder pasadas 24 horas. WhatsApp debe aprobarlas: "
        "solo las aprobadas se pueden enviar."
    ),
    empty=gettext_lazy("Todavía no hay plantillas de WhatsApp."),
    columns=[
        Column(gettext_lazy("Nombre"), lambda t: t.name),
        Column(gettext_lazy("Cuenta"), lambda t: t.account.name),
        Column(gettext_lazy("Idioma"), lambda t: t.language),
        Column(gettext_lazy("Categoría"), lambda t: t.get_category_display()),
        Column(gettext_lazy("Parámetros"), lambda t: placeholder_count(t.body)),
        Column(gettext_lazy("Estado"), _status_chip),
    ],
    queryset=lambda: WhatsAppTemplate.objects.select_related("account").order_by(
        "name", "language", "id"
    ),
    list_template="admin_config/templates_list.html",
)
