"""The assignments page: who receives tickets of which account (automatic, manual or none)."""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from admin_config.assignment_matrix import SECTION, cells_from_post, matrix_read, matrix_save
from admin_config.sections import SECTIONS
from deskconfig.models import AssignmentMode
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def assignments(request: AuthedRequest) -> HttpResponse:
    """The matrix of people by accounts, saved in one POST (only the cells sent change)."""
    matrix = matrix_read()
    errors: list[str] = []
    if request.method == "POST":
        cells, errors = cells_from_post(request.POST, matrix)
        if not errors:
            try:
                changed = matrix_save(actor=request.user, matrix=matrix, cells=cells)
            except IntegrityError:
                errors = [
                    _("Otra persona cambió la matriz al mismo tiempo: revisa y guarda otra vez.")
                ]
            else:
                if changed:
                    messages.success(
                        request,
                        ngettext("Un cambio guardado.", "%(n)d cambios guardados.", changed)
                        % {"n": changed},
                    )
                else:
                    messages.info(request, _("No había cambios que guardar."))
                return redirect("admin_config:assignments")
        matrix = matrix_read()
    return render(
        request,
        "admin_config/assignments.html",
        {
            "page": "admin",
            "section": SECTION,
            "sections": SECTIONS,
            "matrix": matrix,
            "modes": AssignmentMode.choices,
            "errors": errors,
        },
        status=400 if errors else 200,
    )
