"""What every page of the shell needs: the menu for the user's role and the bell's count."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Notification, Role


def _nav(role: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [{"key": "inbox", "label": _("Bandeja"), "url": "tickets:inbox"}]
    if role in (Role.AGENT, Role.ADMIN):
        items.append({"key": "publishing", "label": _("Publicaciones"), "url": "publishing:posts"})
    if role in (Role.ANALYST, Role.ADMIN):
        items.append({"key": "analytics", "label": _("Analítica"), "url": "analytics:dashboard"})
    if role == Role.ADMIN:
        items.append({"key": "admin", "label": _("Administración"), "url": "admin_config:index"})
    elif role == Role.ANALYST:
        items.append({"key": "admin", "label": _("Administración"), "url": "exports:index"})
    items.append({"key": "help", "label": _("Ayuda"), "url": "help"})
    return items


def shell(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated or getattr(user, "tenant_id", None) is None:
        return {}
    return {
        "nav_items": _nav(user.role),  # type: ignore[union-attr]
        "unread_notifications": SimpleLazyObject(
            lambda: Notification.objects.filter(user=user, read_at__isnull=True).count()
        ),
    }
