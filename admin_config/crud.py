"""Building blocks shared by the administration pages: a tenant-aware model form, the write
services that save or delete a row together with its audit entry, and a small declarative
section (list, create, edit, delete) for the pages that are plain lists of rows.

Pages with more to them (the assignment matrix, business hours, the skills bot...) use the
form and the services and write their own views.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.db import IntegrityError, models, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from admin_config import audit
from admin_config.sections import SECTIONS
from deskconfig.models import ConfigChange
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role, User


class TenantModelForm(forms.ModelForm):
    """A model form for a tenant-owned row: the tenant is set before validation so the
    (tenant, ...) unique constraints are checked as form errors, not database errors."""

    def __init__(self, *args: Any, tenant_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant_id = tenant_id
        self.instance.tenant_id = tenant_id

    def _get_validation_exclusions(self) -> set[str]:
        exclusions: set[str] = set(super()._get_validation_exclusions())  # type: ignore[misc]
        exclusions.discard("tenant")
        return exclusions


def save_with_audit(
    *,
    actor: User,
    section: str,
    form: forms.ModelForm,
    extra_before: dict[str, Any] | None = None,
    after_save: Callable[[models.Model], dict[str, Any] | None] | None = None,
) -> models.Model:
    """Save a valid form and log the change in one transaction. ``after_save`` may save
    related rows (e.g. many-to-many links) and return extra values for the log."""
    creating = form.instance.pk is None
    before = (
        {} if creating else audit.snapshot(type(form.instance).objects.get(pk=form.instance.pk))
    )
    if extra_before:
        before.update(extra_before)
    with transaction.atomic():
        obj = form.save()
        extra = after_save(obj) if after_save else None
        audit.record(
            actor=actor,
            section=section,
            action=ConfigChange.Action.CREATE if creating else ConfigChange.Action.UPDATE,
            obj=obj,
            before=before,
            after=audit.snapshot(obj, extra),
        )
    return obj


def delete_with_audit(*, actor: User, section: str, obj: models.Model) -> None:
    with transaction.atomic():
        before = audit.snapshot(obj)
        audit.record(
            actor=actor, section=section, action=ConfigChange.Action.DELETE, obj=obj, before=before
        )
        obj.delete()


@dataclass
class Column:
    label: str | Promise
    value: Callable[[Any], Any]


@dataclass
class CrudSection:
    """A plain list-of-rows admin page: ``/admin/<section>/`` lists, ``new/`` creates,
    ``<pk>/`` edits and ``<pk>/delete/`` (POST) deletes, each change audited.

    ``section`` is the slug in ``sections.py`` (the URL, the menu, the audit log); ``name``
    the URL name in the ``admin_config`` namespace (``name``, ``name_new``, ``name_edit``,
    ``name_delete``)."""

    section: str
    name: str
    model: type[models.Model]
    form_class: type[TenantModelForm]
    columns: list[Column]
    title: str | Promise
    intro: str | Promise = ""
    empty: str | Promise = ""
    queryset: Callable[[], Iterable[Any]] | None = None
    list_template: str = "admin_config/crud_list.html"
    form_template: str = "admin_config/crud_form.html"
    # Extra context for the list page (e.g. a tester box), given the request.
    list_extra: Callable[[AuthedRequest], dict[str, Any]] | None = None
    form_kwargs: Callable[[AuthedRequest], dict[str, Any]] = field(default=lambda request: {})
    after_save: Callable[[models.Model, forms.ModelForm], dict[str, Any] | None] | None = None
    delete_refused: Callable[[models.Model], str | None] | None = None
    # Extra "before" values for the audit log of an edit (e.g. a template's departments).
    before_extra: Callable[[Any], dict[str, Any]] | None = None

    def _rows(self) -> Iterable[Any]:
        return self.queryset() if self.queryset else self.model.objects.all()  # type: ignore[attr-defined]

    def _context(self, request: AuthedRequest, **extra: Any) -> dict[str, Any]:
        return {
            "page": "admin",
            "section": self.section,
            "sections": SECTIONS,
            "crud": self,
            **extra,
        }

    def list_view(self, request: AuthedRequest) -> HttpResponse:
        rows = [{"obj": obj, "cells": [c.value(obj) for c in self.columns]} for obj in self._rows()]
        extra = self.list_extra(request) if self.list_extra else {}
        return render(request, self.list_template, self._context(request, rows=rows, **extra))

    def form_view(self, request: AuthedRequest, pk: int | None = None) -> HttpResponse:
        instance = get_object_or_404(self.model.objects.all(), pk=pk) if pk else None  # type: ignore[attr-defined]
        kwargs = {"tenant_id": request.user.tenant_id, **self.form_kwargs(request)}
        if request.method == "POST":
            form = self.form_class(request.POST, instance=instance, **kwargs)
            if form.is_valid():
                hook = self.after_save
                after = (lambda obj: hook(obj, form)) if hook else None
                before = self.before_extra(instance) if instance and self.before_extra else None
                try:
                    save_with_audit(
                        actor=request.user,
                        section=self.section,
                        form=form,
                        extra_before=before,
                        after_save=after,
                    )
                except IntegrityError:
                    form.add_error(None, _("Ya existe un registro igual."))
                else:
                    messages.success(request, _("Cambios guardados."))
                    return redirect(f"admin_config:{self.name}")
        else:
            form = self.form_class(instance=instance, **kwargs)
        return render(request, self.form_template, self._context(request, form=form, obj=instance))

    def delete_view(self, request: AuthedRequest, pk: int) -> HttpResponse:
        obj = get_object_or_404(self.model.objects.all(), pk=pk)  # type: ignore[attr-defined]
        refused = self.delete_refused(obj) if self.delete_refused else None
        if refused:
            messages.error(request, refused)
        else:
            delete_with_audit(actor=request.user, section=self.section, obj=obj)
            messages.success(request, _("«%(obj)s» eliminado.") % {"obj": obj})
        return redirect(f"admin_config:{self.name}")

    def urls(self) -> list[URLPattern]:
        admin_only = role_required(Role.ADMIN)
        base, name = f"admin/{self.section}/", self.name
        return [
            path(base, admin_only(self.list_view), name=name),
            path(f"{base}new/", admin_only(self.form_view), name=f"{name}_new"),
            path(f"{base}<int:pk>/", admin_only(self.form_view), name=f"{name}_edit"),
            path(
                f"{base}<int:pk>/delete/",
                admin_only(require_POST(self.delete_view)),
                name=f"{name}_delete",
            ),
        ]
