"""Routing rules: the ordered list, the form, and a tester that says which rule a sample
message would match and what it would do."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from admin_config.crud import Column, TenantModelForm
from admin_config.crud_extra import Section, next_position
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import Department, RoutingRule
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role, User
from tickets.forbidden import fold
from workflow import routing

KEYWORD_MAX = 100


def _accounts(tenant_id: int) -> QuerySet[ChannelAccount]:
    return ChannelAccount.objects.filter(tenant_id=tenant_id).order_by("kind", "name")


def _agents(tenant_id: int) -> QuerySet[User]:
    """Who a rule may send tickets to: the tenant's active people who work tickets."""
    return User.objects.filter(
        tenant_id=tenant_id, is_active=True, is_bot=False, role__in=[Role.AGENT, Role.ADMIN]
    ).order_by("name")


class RoutingRuleForm(TenantModelForm):
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Canales"),
        choices=ChannelKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Cualquiera de los marcados. Ninguno: todos los canales."),
    )
    accounts = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Cuentas"),
        queryset=ChannelAccount.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Cualquiera de las marcadas. Ninguna: todas las cuentas."),
    )
    keywords = forms.CharField(
        label=gettext_lazy("Palabras clave"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "Una por línea; basta con una. Se buscan como palabras completas en el primer "
            "mensaje (y el asunto), sin distinguir mayúsculas ni tildes. Vacío: cualquier mensaje."
        ),
    )

    class Meta:
        model = RoutingRule
        fields = ["name", "active", "set_department", "mark_important", "assign_to"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(
            [
                "name",
                "active",
                "channels",
                "accounts",
                "keywords",
                "set_department",
                "mark_important",
                "assign_to",
            ]
        )
        accounts = self.fields["accounts"]
        accounts.queryset = _accounts(self.tenant_id)  # type: ignore[attr-defined]
        self.fields["set_department"].queryset = Department.objects.filter(  # type: ignore[attr-defined]
            tenant_id=self.tenant_id
        )
        self.fields["set_department"].empty_label = _("(sin cambio)")  # type: ignore[attr-defined]
        self.fields["assign_to"].queryset = _agents(self.tenant_id)  # type: ignore[attr-defined]
        self.fields["assign_to"].empty_label = _("(el motor de asignación decide)")  # type: ignore[attr-defined]
        rule = self.instance
        if rule.pk:
            self.initial.update(
                channels=rule.channels,
                accounts=[a for a in rule.accounts],
                keywords="\n".join(rule.keywords),
            )

    def clean_keywords(self) -> list[str]:
        lines = [" ".join(line.split()) for line in self.cleaned_data["keywords"].splitlines()]
        # "Cotización" and "cotizacion" match the same words: keep the first spelling.
        by_fold: dict[str, str] = {}
        for line in lines:
            if line:
                by_fold.setdefault(fold(line), line)
        keywords = list(by_fold.values())
        too_long = [k for k in keywords if len(k) > KEYWORD_MAX]
        if too_long:
            raise forms.ValidationError(
                _("Cada palabra clave puede tener hasta %(n)d caracteres.") % {"n": KEYWORD_MAX}
            )
        no_letters = [k for k in keywords if not any(c.isalnum() for c in k)]
        if no_letters:
            raise forms.ValidationError(
                _("Estas líneas no tienen letras ni números: %(k)s.") % {"k": ", ".join(no_letters)}
            )
        return keywords

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not (data.get("set_department") or data.get("mark_important") or data.get("assign_to")):
            raise forms.ValidationError(
                _("Elige al menos una acción: un departamento, marcar importante o un ejecutivo.")
            )
        return data

    def save(self, commit: bool = True) -> RoutingRule:
        rule = self.instance
        rule.channels = list(self.cleaned_data["channels"])
        rule.accounts = sorted(a.pk for a in self.cleaned_data["accounts"])
        rule.keywords = self.cleaned_data["keywords"]
        if rule.pk is None:
            rule.position = next_position(RoutingRule.objects.all())
        return super().save(commit)  # type: ignore[no-any-return]


def describe_conditions(rule: RoutingRule, account_names: dict[int, str]) -> list[str]:
    parts = []
    if rule.channels:
        labels = dict(ChannelKind.choices)
        parts.append(
            _("Canal: %(v)s") % {"v": ", ".join(str(labels.get(c, c)) for c in rule.channels)}
        )
    if rule.accounts:
        names = [account_names[a] for a in rule.accounts if a in account_names]
        parts.append(_("Cuenta: %(v)s") % {"v": ", ".join(names) or "—"})
    if rule.keywords:
        parts.append(_("Palabras: %(v)s") % {"v": ", ".join(rule.keywords)})
    return parts or [_("Cualquier ticket nuevo")]


def describe_actions(rule: RoutingRule) -> list[str]:
    parts = []
    if rule.set_department is not None:
        parts.append(_("Departamento: %(v)s") % {"v": rule.set_department.name})
    if rule.mark_important:
        parts.append(_("Marcar importante"))
    if rule.assign_to is not None:
        parts.append(_("Asignar a %(v)s") % {"v": rule.assign_to})
    return parts


class TesterForm(forms.Form):
    label_suffix = ""

    account = forms.ModelChoiceField(
        label=gettext_lazy("Cuenta"),
        queryset=ChannelAccount.objects.none(),
        required=False,
        empty_label=gettext_lazy("(cualquiera)"),
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Canal"),
        choices=[("", gettext_lazy("(el de la cuenta)")), *ChannelKind.choices],
        required=False,
    )
    text = forms.CharField(
        label=gettext_lazy("Primer mensaje"),
        max_length=4000,
        required=False,  # rules by channel or account alone are tested without one
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, tenant_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        accounts = _accounts(tenant_id)
        self.fields["account"].queryset = accounts  # type: ignore[attr-defined]
        # The form as it first shows must test something: the first account is chosen.
        first = accounts.first()
        if first is not None and not self.is_bound:
            self.initial.setdefault("account", first.pk)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("account") and not data.get("channel"):
            raise forms.ValidationError(_("Elige una cuenta o un canal."))
        return data

    def sample(self) -> routing.Sample:
        account = self.cleaned_data["account"]
        kind = account.kind if account else self.cleaned_data["channel"]
        return routing.Sample(
            kind=kind, account_id=account.pk if account else None, text=self.cleaned_data["text"]
        )


def _list_extra(request: AuthedRequest) -> dict[str, Any]:
    return {"tester": TesterForm(tenant_id=request.tenant.pk)}


def _rules_for_list() -> list[RoutingRule]:
    """The rules in order, each with its conditions in words (two queries in all)."""
    rules = list(
        RoutingRule.objects.select_related("set_department", "assign_to").order_by("position", "id")
    )
    names = {a.pk: a.name for a in ChannelAccount.objects.all()}
    for rule in rules:
        rule.conditions_text = describe_conditions(rule, names)  # type: ignore[attr-defined]
    return rules


rules = Section(
    section="routing",
    name="routing",
    model=RoutingRule,
    form_class=RoutingRuleForm,
    title=gettext_lazy("Reglas de enrutamiento"),
    intro=gettext_lazy(
        "Se revisan en orden con el primer mensaje de cada ticket nuevo; gana la primera regla "
        "activa que coincide. Un ticket existente no se vuelve a enrutar."
    ),
    empty=gettext_lazy("Todavía no hay reglas: los tickets nuevos van al motor de asignación."),
    columns=[
        Column(gettext_lazy("Regla"), lambda r: r.name),
        Column(gettext_lazy("Si"), lambda r: r.conditions_text),
        Column(gettext_lazy("Entonces"), describe_actions),
    ],
    queryset=_rules_for_list,
    list_template="admin_config/routing_list.html",
    list_extra=_list_extra,
    ordered_within=lambda rule: RoutingRule.objects.all(),
)


@role_required(Role.ADMIN)
@require_POST
def routing_test(request: AuthedRequest) -> HttpResponse:
    """Which rule a sample first message would match, and what it would do."""
    form = TesterForm(request.POST, tenant_id=request.tenant.pk)
    context: dict[str, Any] = {"tester": form, "tested": False}
    if form.is_valid():
        sample = form.sample()
        match = routing.first_match(routing.active_rules(), sample)
        context.update(
            tested=True,
            match=match,
            actions=describe_actions(match) if match else [],
            keywords=routing.matched_keywords(match, sample.text) if match else [],
        )
    if request.htmx:
        return render(request, "admin_config/routing_list.html#tester", context)
    rows = [{"obj": obj, "cells": [c.value(obj) for c in rules.columns]} for obj in rules._rows()]
    return render(request, rules.list_template, rules._context(request, rows=rows, **context))


urls = [*rules.urls(), path("admin/routing/test/", routing_test, name="routing_test")]
