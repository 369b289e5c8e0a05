"""Login by email. Finding a user happens before any tenant is known, so it runs in bypass."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from helpdesk.models import User
from helpdesk.tenancy import bypass_context


class EmailBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        email = (username or kwargs.get("email") or "").strip().lower()
        if not email or password is None:
            return None
        with bypass_context():
            user = User.objects.select_related("tenant").filter(email=email).first()
            if user is None:
                # Spend the same time as a real check, so timing does not reveal who exists.
                User().set_password(password)
                return None
            if (
                user.check_password(password)
                and self.user_can_authenticate(user)
                and not user.is_bot
            ):
                return user
        return None

    def get_user(self, user_id: Any) -> User | None:
        with bypass_context():
            user = User.objects.select_related("tenant").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
