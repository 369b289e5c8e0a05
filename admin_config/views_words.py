"""Forbidden words: the list, and a box to test a sentence against it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from admin_config.crud import Column, TenantModelForm
from admin_config.crud_extra import Section
from deskconfig.models import ForbiddenWord
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role
from tickets.forbidden import find_forbidden, fold


class ForbiddenWordForm(TenantModelForm):
    class Meta:
        model = ForbiddenWord
        fields = ["word"]
        help_texts = {
            "word": gettext_lazy(
                "Una palabra o frase. Se busca como palabra completa, sin distinguir "
                "mayúsculas ni tildes."
            )
        }

    def clean_word(self) -> str:
        word = " ".join(self.cleaned_data["word"].split())
        if not any(c.isalnum() for c in word):
            raise forms.ValidationError(_("Escribe una palabra con al menos una letra o número."))
        # "Tonto" and "tónto" are the same word to the filter: one row is enough.
        same = [
            w
            for w in ForbiddenWord.objects.filter(tenant_id=self.tenant_id)
            .exclude(pk=self.instance.pk)
            .values_list("word", flat=True)
            if fold(w) == fold(word)
        ]
        if same:
            raise forms.ValidationError(
                _("Ya está en la lista como «%(word)s».") % {"word": same[0]}
            )
        return word


class TesterForm(forms.Form):
    label_suffix = ""

    text = forms.CharField(
        label=gettext_lazy("Frase de prueba"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _tester(request: AuthedRequest) -> dict[str, Any]:
    return {"tester": TesterForm()}


words = Section(
    section="forbidden-words",
    name="words",
    model=ForbiddenWord,
    form_class=ForbiddenWordForm,
    title=gettext_lazy("Palabras prohibidas"),
    intro=gettext_lazy(
        "Un ejecutivo no puede enviar un mensaje que las contenga: se le dice cuáles son. "
        "Se comparan palabras completas, sin distinguir mayúsculas ni tildes."
    ),
    empty=gettext_lazy("Todavía no hay palabras prohibidas."),
    columns=[Column(gettext_lazy("Palabra"), lambda w: w.word)],
    queryset=lambda: ForbiddenWord.objects.order_by("word"),
    list_template="admin_config/words_list.html",
    list_extra=_tester,
)


@role_required(Role.ADMIN)
@require_POST
def words_test(request: AuthedRequest) -> HttpResponse:
    """Which of the tenant's words a sentence contains: the htmx box's answer, or the whole
    list page with the answer when posted without JavaScript."""
    form = TesterForm(request.POST)
    context: dict[str, Any] = {"tester": form, "tested": False}
    if form.is_valid():
        context["tested"] = True
        context["found"] = find_forbidden(
            form.cleaned_data["text"], ForbiddenWord.objects.values_list("word", flat=True)
        )
    if request.htmx:
        return render(request, "admin_config/words_list.html#tester", context)
    rows = [{"obj": obj, "cells": [c.value(obj) for c in words.columns]} for obj in words._rows()]
    return render(request, words.list_template, words._context(request, rows=rows, **context))


urls = [
    *words.urls(),
    path("admin/forbidden-words/test/", words_test, name="words_test"),
]
