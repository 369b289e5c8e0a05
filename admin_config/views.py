from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render

from admin_config import audit
from admin_config.sections import SECTIONS, sections_for
from deskconfig.models import ConfigChange
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role


@role_required(Role.ADMIN, Role.ANALYST)
def index(request: AuthedRequest) -> HttpResponse:
    """Admins see every section; an analyst's Admin menu is Exports only."""
    if request.user.role == Role.ANALYST:
        return redirect("exports:index")
    return render(
        request,
        "admin_config/index.html",
        {"page": "admin", "sections": sections_for(request.user.role)},
    )


@role_required(Role.ADMIN)
def audit_log(request: AuthedRequest) -> HttpResponse:
    """Every configuration change, newest first: who, when, what, before and after."""
    changes = ConfigChange.objects.select_related("actor").order_by("-at", "-id")
    section = request.GET.get("section", "")
    if section:
        changes = changes.filter(section=section)
    page = Paginator(changes, 50).get_page(request.GET.get("page"))
    titles = {s.slug: s.title for s in SECTIONS}
    audit.describe_changes(page)
    for change in page:
        change.section_title = titles.get(change.section, change.section)  # type: ignore[attr-defined]
    return render(
        request,
        "admin_config/audit.html",
        {
            "page": "admin",
            "section": "audit",
            "sections": SECTIONS,
            "changes": page,
            "filter_section": section,
        },
    )
