from django.http import HttpResponse
from django.shortcuts import redirect, render

from admin_config.sections import sections_for
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role


@role_required(Role.ADMIN, Role.ANALYST)
def index(request: AuthedRequest) -> HttpResponse:
    """Admins see every section; an analyst's Admin menu is Exports only."""
    if request.user.role == Role.ANALYST:
        return redirect("analytics:exports")
    return render(
        request,
        "admin_config/index.html",
        {"page": "admin", "sections": sections_for(request.user.role)},
    )
