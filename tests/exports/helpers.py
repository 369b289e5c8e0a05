"""Building export jobs the way the page does (form → filters → job) and reading their rows."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import QueryDict
from django.utils import timezone

from exports.forms import ExportForm, tenant_today
from exports.models import ExportJob
from exports.queries import export_spec
from helpdesk.models import User


def post(data: dict[str, Any]) -> QueryDict:
    q = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, list | tuple):
            q.setlist(key, [str(v) for v in value])
        else:
            q[key] = str(value)
    return q


def form_for(user: User, **data: Any) -> ExportForm:
    today = tenant_today(user.tenant)  # type: ignore[arg-type]
    base = {
        "kind": "tickets",
        "format": "csv",
        "date_field": "created",
        "date_from": (today - datetime.timedelta(days=6)).isoformat(),
        "date_to": today.isoformat(),
    }
    return ExportForm(post(base | data), tenant=user.tenant)  # type: ignore[arg-type]


def job_for(user: User, **data: Any) -> ExportJob:
    form = form_for(user, **data)
    assert form.is_valid(), form.errors
    d = form.cleaned_data
    return ExportJob.objects.create(
        tenant_id=user.tenant_id,
        created_by=user,
        kind=d["kind"],
        format=d["format"],
        filters=form.filters(),
        date_from=d["date_from"],
        date_to=d["date_to"],
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )


def rows(job: ExportJob) -> list[tuple[Any, ...]]:
    return list(export_spec(job).queryset)
