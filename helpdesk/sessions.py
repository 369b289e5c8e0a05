"""The session engine (``SESSION_ENGINE = "helpdesk.sessions"``): Django's database sessions,
stored in :class:`helpdesk.models.UserSession` with the signed-in person's id in a column."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DBStore

from helpdesk.models import UserSession


class SessionStore(DBStore):
    @classmethod
    def get_model_class(cls) -> type[UserSession]:
        return UserSession

    def create_model_instance(self, data: dict[str, Any]) -> UserSession:
        session = super().create_model_instance(data)
        user_id = data.get(SESSION_KEY)
        session.user_id = int(user_id) if user_id is not None else None  # type: ignore[attr-defined]
        return session  # type: ignore[return-value]


def sessions_end(*, user_id: int) -> int:
    """End every session of one person: an indexed delete, nothing decoded."""
    deleted, _by_model = UserSession.objects.filter(user_id=user_id).delete()
    return deleted
