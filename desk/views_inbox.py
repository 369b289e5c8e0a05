"""The column inbox: the page, one column's next page, and editing the columns."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from desk.forms import ColumnForm
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import Department
from helpdesk.http import AuthedRequest, tenant_user_required
from tickets import columns as column_services
from tickets.inbox import agent_metrics, column_next_page, inbox_columns
from tickets.models import Column
from tickets.queries import assignable_users


@require_GET
@tenant_user_required
def inbox(request: AuthedRequest) -> HttpResponse:
    column_services.columns_ensure(user=request.user)
    # Read before the columns: the page's socket is sent what changed after it.
    live_since = f"{time.time():.3f}"
    return render(
        request,
        "tickets/inbox.html",
        {
            "live_since": live_since,
            "page": "inbox",
            "views": inbox_columns(request.user),
            "metrics": agent_metrics(request.user),
            "layout": request.user.inbox_layout,
        },
    )


@require_GET
@tenant_user_required
def column_page(request: AuthedRequest, column_id: int) -> HttpResponse:
    column = get_object_or_404(Column, pk=column_id, user=request.user)
    view = column_next_page(column, request.user, request.GET.get("after", ""))
    return render(request, "tickets/inbox.html#cards", {"v": view})


def _column_context(
    request: AuthedRequest, form: ColumnForm, column: Column | None
) -> dict[str, Any]:
    return {
        "page": "inbox",
        "form": form,
        "column": column,
        "channels": ChannelKind.choices,
        "accounts": ChannelAccount.objects.order_by("kind", "name"),
        "departments": Department.objects.order_by("name"),
        "users": [u for u in assignable_users() if not u.is_bot],
        "filters": form.initial_filters(),
    }


@tenant_user_required
def column_edit(request: AuthedRequest, column_id: int | None = None) -> HttpResponse:
    column = get_object_or_404(Column, pk=column_id, user=request.user) if column_id else None
    form = ColumnForm(request.POST or None, column=column, user=request.user, prefill=request.GET)
    if request.method == "POST" and form.is_valid():
        try:
            column_services.column_save(user=request.user, column=column, **form.service_kwargs())
        except ValidationError as exc:
            form.add_error(None, " ".join(str(m) for m in exc.messages))
        else:
            return redirect("tickets:inbox")
    return render(request, "tickets/column_form.html", _column_context(request, form, column))


@require_POST
@tenant_user_required
def column_delete(request: AuthedRequest, column_id: int) -> HttpResponse:
    column = get_object_or_404(Column, pk=column_id, user=request.user)
    column_services.column_delete(column=column)
    return redirect("tickets:inbox")


@require_POST
@tenant_user_required
def column_move(request: AuthedRequest, column_id: int) -> HttpResponse:
    column = get_object_or_404(Column, pk=column_id, user=request.user)
    step = -1 if request.POST.get("direction") == "left" else 1
    column_services.column_move(user=request.user, column=column, step=step)
    return HttpResponse(status=204) if request.htmx else redirect("tickets:inbox")


@require_POST
@tenant_user_required
def columns_reorder(request: AuthedRequest) -> HttpResponse:
    try:
        ids = [int(i) for i in json.loads(request.POST.get("order", "[]"))]
    except (TypeError, ValueError):
        raise Http404 from None
    column_services.columns_reorder(user=request.user, ids=ids)
    return HttpResponse(status=204)


@require_POST
@tenant_user_required
def columns_flow(request: AuthedRequest) -> HttpResponse:
    flow = request.POST.get("flow")
    column_services.columns_apply_flow(
        user=request.user, flow=flow if flow in column_services.FLOWS else None
    )
    return redirect("tickets:inbox")


@require_POST
@tenant_user_required
def inbox_layout(request: AuthedRequest) -> HttpResponse:
    layout = request.POST.get("layout")
    if layout in ("split", "expanded"):
        request.user.inbox_layout = layout
        request.user.save(update_fields=["inbox_layout"])
    return redirect("tickets:inbox")
