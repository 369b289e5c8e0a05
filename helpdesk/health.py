"""The state of what the application needs: the database, Redis and the Celery workers."""

from __future__ import annotations

from typing import Any

import redis
from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare


def detail_allowed(request: HttpRequest) -> bool:
    """A logged-in platform operator, or ``Authorization: Bearer <HEALTHZ_TOKEN>``."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_superuser:
        return True
    token = settings.HEALTHZ_TOKEN
    sent = request.headers.get("Authorization", "")
    return bool(token) and constant_time_compare(sent, f"Bearer {token}")


def _database(connection: Any) -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def _redis() -> dict[str, Any]:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        client.ping()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def _workers() -> dict[str, Any]:
    from helpdesk.celery import app

    try:
        replies = app.control.ping(timeout=1.0) or []
    except Exception as exc:
        return {"ok": False, "count": 0, "error": type(exc).__name__}
    return {"ok": bool(replies), "count": len(replies)}


def check_all(connection: Any) -> dict[str, Any]:
    database = _database(connection)
    cache = _redis()
    workers = _workers() if cache["ok"] else {"ok": False, "count": 0, "error": "redis down"}
    return {
        "ok": database["ok"] and cache["ok"] and workers["ok"],
        "database": database,
        "redis": cache,
        "celery": workers,
    }
