"""Request plumbing: the tenant context, the user's language and time zone, the CSP header."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
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


def content_security_policy(request: HttpRequest, *, frame_ancestors: str = "'none'") -> str:
    """Our CSP. Websockets only to our own host: ``'self'`` did not cover ws/wss in every
    browser, and ``ws: wss:`` (what it replaced) allowed any host, a way out for stolen data."""
    try:
        host = request.get_host()
    except DisallowedHost:  # the 400 page for a foreign Host gets no socket source at all
        host = ""
    sockets = ""
    if host:
        sockets = f"wss://{host}" if request.is_secure() else f"ws://{host}"
    return CSP.replace("connect-src 'self'", f"connect-src 'self' {sockets}".rstrip()).replace(
        "frame-ancestors 'none'", f"frame-ancestors {frame_ancestors}"
    )


CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # Django's admin and htmx's swap classes set a few inline styles; no inline script runs.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",  # plus our own ws/wss, per request
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
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = content_security_policy(request)
        return response
