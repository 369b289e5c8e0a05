from django.http import HttpResponse
from django.shortcuts import render

from helpdesk.http import AuthedRequest, tenant_user_required


@tenant_user_required
def inbox(request: AuthedRequest) -> HttpResponse:
    return render(request, "tickets/inbox.html", {"page": "inbox"})
