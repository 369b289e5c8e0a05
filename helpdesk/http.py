"""The request type our views receive, and the role checks every page uses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django_htmx.middleware import HtmxDetails

from helpdesk.models import Role, Tenant, User


class AuthedRequest(HttpRequest):
    """A request from a logged-in tenant user (what `role_required` guarantees)."""

    user: User  # type: ignore[assignment]
    tenant: Tenant
    htmx: HtmxDetails


View = Callable[..., HttpResponseBase]


def role_required(*roles: Role) -> Callable[[View], View]:
    """Logged in, a member of a tenant, and one of ``roles`` (all roles when none are given).

    Anonymous users go to the login page; a wrong role is a 403, whatever the menu showed.
    """

    allowed = set(roles) or set(Role)

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            role = getattr(user, "role", None)
            if getattr(user, "tenant_id", None) is None or role not in allowed:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


tenant_user_required = role_required()
