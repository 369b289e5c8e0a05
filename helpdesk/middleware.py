"""Request plumbing: the tenant context, the user's language and time zone, the CSP header."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from helpdesk.tenancy import bypass_context, no_tenant_context, tenant_context

Handler = Callable[[HttpRequest], HttpResponse]

PLATFORM_ADMIN_PREFIX = "/djadmin/"


class TenantMiddleware:
    """Run each request in its user's tenant context; the tenant never comes from the URL.

    Platform operators (superusers without a tenant) get the bypass context, and only inside
    Django's admin. Anonymous requests run with no tenant: tenant tables show no rows.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        tenant_id = getattr(user, "tenant_id", None) if user.is_authenticated else None
        request.tenant = user.tenant if tenant_id else None  # type: ignore[attr-defined, union-attr]
        if tenant_id:
            zone = request.tenant.time_zone  # type: ignore[attr-defined]
            timezone.activate(zoneinfo.ZoneInfo(zone))
            try:
                with tenant_context(tenant_id):
                    return self.get_response(request)
            finally:
                timezone.deactivate()
        if (
            user.is_authenticated
            and user.is_superuser
            and request.path.startswith(PLATFORM_ADMIN_PREFIX)
        ):
            with bypass_context():
                return self.get_response(request)
        with no_tenant_context():
            return self.get_response(request)


LANGUAGE_COOKIE = "helpdesk_language"


class UserLanguageMiddleware:
    """Spanish first: the user's choice, else their tenant's language, else a cookie, else es."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = self._language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response

    @staticmethod
    def _language(request: HttpRequest) -> str:
        supported = {code for code, _name in settings.LANGUAGES}
        user = request.user
        candidates = []
        if user.is_authenticated:
            candidates.append(getattr(user, "language", ""))
            tenant = getattr(request, "tenant", None)
            candidates.append(tenant.language if tenant else "")
        candidates.append(request.COOKIES.get(LANGUAGE_COOKIE, ""))
        for code in candidates:
            if code in supported:
                return code
        return settings.LANGUAGE_CODE


CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # Django's admin and htmx's swap classes set a few inline styles; no inline script runs.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self' ws: wss:",
        "media-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response
