from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from analytics.csvsafe import csv_text
from analytics.filters import FilterForm
from analytics.models import RollupState
from analytics.panels import PANELS
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role

# Agents do not see Analítica: their own figures are in their inbox columns, and the team's
# figures are for analysts and admins (DESIGN's table of roles).
READERS = (Role.ANALYST, Role.ADMIN)


@role_required(*READERS)
def dashboard(request: AuthedRequest) -> HttpResponse:
    form = FilterForm(request.GET, tenant=request.tenant)
    f = form.filters()
    memo: dict[str, Any] = {}
    panels = {key: build(f, memo) for key, build in PANELS.items()}
    context = {
        "page": "analytics",
        "form": form,
        "f": f,
        "panels": panels,
        "presets": [
            (key, label, f.query(range=key))
            for key, label in form.fields["range"].choices  # type: ignore[attr-defined]
            if key != "custom"
        ],
        "state": RollupState.objects.first(),
    }
    template = "analytics/dashboard.html#panels" if request.htmx else "analytics/dashboard.html"
    return render(request, template, context)


@role_required(*READERS)
def panel_csv(request: AuthedRequest, panel: str) -> HttpResponse:
    if panel not in PANELS:
        raise Http404
    f = FilterForm(request.GET, tenant=request.tenant).filters()
    built = PANELS[panel](f, {})
    response = HttpResponse(
        csv_text(built.csv_headers(), built.csv_rows()), content_type="text/csv; charset=utf-8"
    )
    name = f"{_('analitica')}-{panel}-{f.start.isoformat()}-{f.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
