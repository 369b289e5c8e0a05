"""The Exportaciones page (analysts and admins): the form, the list with live progress, the
retention setting (admins) and the download."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from admin_config.sections import sections_for
from exports import queries, services
from exports.forms import ExportForm, RetentionForm
from exports.models import ExportFormat, ExportJob, ExportStatus
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role

LIST_SIZE = 50


def _jobs(request: AuthedRequest) -> list[ExportJob]:
    jobs = list(queries.jobs_for(request.user)[:LIST_SIZE])
    for job in jobs:
        job.progress = services.job_progress(job)  # type: ignore[attr-defined]
    return jobs


def _page(
    request: AuthedRequest, form: ExportForm, retention: RetentionForm | None = None
) -> HttpResponse:
    jobs = _jobs(request)
    is_admin = request.user.role == Role.ADMIN
    if is_admin and retention is None:
        retention = RetentionForm(
            initial={"retention_days": services.retention_days(request.user.tenant_id or 0)}
        )
    return render(
        request,
        "exports/index.html",
        {
            "page": "admin",
            "section": "exports",
            "sections": sections_for(request.user.role),
            "layout": "admin_config/layout.html" if is_admin else "exports/analyst_layout.html",
            "form": form,
            "retention": retention,
            "jobs": jobs,
            "polling": queries.has_active(jobs),
        },
    )


@role_required(Role.ANALYST, Role.ADMIN)
def index(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        form = ExportForm(request.POST, tenant=request.tenant)
        if form.is_valid():
            data = form.cleaned_data
            services.export_request(
                user=request.user,
                kind=data["kind"],
                fmt=data["format"],
                date_from=data["date_from"],
                date_to=data["date_to"],
                filters=form.filters(),
            )
            messages.success(request, _("Exportación en cola. Aparece abajo cuando esté lista."))
            return redirect("exports:index")
        return _page(request, form)
    return _page(request, ExportForm(tenant=request.tenant))


@require_GET
@role_required(Role.ANALYST, Role.ADMIN)
def job_list(request: AuthedRequest) -> HttpResponse:
    """The list alone: the page polls it while an export is queued or running."""
    jobs = _jobs(request)
    return render(
        request,
        "exports/index.html#jobs",
        {"jobs": jobs, "polling": queries.has_active(jobs)},
    )


@role_required(Role.ADMIN)
@require_POST
def retention(request: AuthedRequest) -> HttpResponse:
    form = RetentionForm(request.POST)
    if not form.is_valid():
        return _page(request, ExportForm(tenant=request.tenant), form)
    services.export_settings_save(user=request.user, retention=form.cleaned_data["retention_days"])
    messages.success(request, _("Retención guardada. Se aplica a las próximas exportaciones."))
    return redirect("exports:index")


@require_GET
@role_required(Role.ANALYST, Role.ADMIN)
def download(request: AuthedRequest, token: str) -> FileResponse:
    # Scoped to the tenant (another tenant's token is a 404) and, for an analyst, to their own.
    job = get_object_or_404(queries.jobs_for(request.user), token=token)
    path = services.job_path(job)
    if job.status != ExportStatus.DONE or not path.exists():
        raise Http404
    services.export_download_record(user=request.user, job=job)
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=job.download_name,
        content_type="text/csv; charset=utf-8"
        if job.format == ExportFormat.CSV
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
