from django.http import HttpResponse
from django.shortcuts import render

from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role


@role_required(Role.ANALYST, Role.ADMIN)
def dashboard(request: AuthedRequest) -> HttpResponse:
    return render(request, "analytics/dashboard.html", {"page": "analytics"})
