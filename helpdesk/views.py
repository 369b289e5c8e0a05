"""The shell's own pages: login, preferences, notifications, help and the health check."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST, require_safe

from helpdesk import health
from helpdesk.forms import EmailAuthenticationForm, PreferencesForm, TenantPasswordResetForm
from helpdesk.http import AuthedRequest, tenant_user_required
from helpdesk.middleware import LANGUAGE_COOKIE
from helpdesk.models import Notification, User
from helpdesk.tenancy import bypass_context, tenant_context


def _as_user(user: User) -> Any:
    """The context a write to this user's own row needs, before the request has one."""
    return tenant_context(user.tenant_id) if user.tenant_id else bypass_context()


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    form_class = TenantPasswordResetForm


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def get_user(self, uidb64: str) -> Any:
        with bypass_context():
            return super().get_user(uidb64)

    def form_valid(self, form: Any) -> HttpResponse:
        with _as_user(form.user):
            return super().form_valid(form)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    if getattr(request.user, "tenant_id", None) is None and request.user.is_superuser:
        return redirect("admin:index")
    return redirect("tickets:inbox")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Language from the user menu or the login page; remembered on the user and in a cookie."""
    language = request.POST.get("language", "")
    if language not in {"es", "en"}:
        language = "es"
    user = request.user
    if user.is_authenticated and getattr(user, "tenant_id", None):
        user.language = language  # type: ignore[union-attr]
        user.save(update_fields=["language"])  # type: ignore[union-attr]
    response = redirect(safe_next(request))
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@require_POST
@tenant_user_required
def set_theme(request: AuthedRequest) -> HttpResponse:
    form = PreferencesForm(
        {"language": request.user.language, "dark_mode": request.POST.get("dark_mode", "")},
        instance=request.user,
    )
    if form.is_valid():
        form.save()
    return redirect(safe_next(request))


def safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.headers.get("referer") or "/"
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return "/"


def _notifications_panel(request: AuthedRequest, *, all_read: bool = False) -> HttpResponse:
    items = Notification.objects.filter(user=request.user).order_by("-created_at", "-id")[:20]
    return render(
        request,
        "helpdesk/partials/notifications.html",
        {"notifications": items, "all_read": all_read},
    )


@tenant_user_required
def notifications(request: AuthedRequest) -> HttpResponse:
    return _notifications_panel(request)


@require_POST
@tenant_user_required
def notifications_read(request: AuthedRequest) -> HttpResponse:
    Notification.objects.filter(user=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return _notifications_panel(request, all_read=True)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Public: liveness only (the process answers), nothing about our components and no work
    an anonymous flood could multiply (the workers' ping waits a second). The detail is for
    the platform operator or whoever holds ``HEALTHZ_TOKEN`` (the deployment's probe)."""
    if not health.detail_allowed(request):
        return JsonResponse({"ok": True})
    report = health.check_all(connection)
    return JsonResponse(report, status=200 if report["ok"] else 503)
