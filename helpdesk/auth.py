"""Login by email. Finding a user happens before any tenant is known, so it runs in bypass."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from helpdesk.identity import normalize_email
from helpdesk.lockout import attempt_admitted, attempts_reset
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
        email = normalize_email(username or kwargs.get("email"))
        if not email or password is None:
            return None
        if not attempt_admitted(request, email):
            # Over the limit: refused without checking the password (axes then answers the
            # lockout page, since Django reports this as a failed login).
            raise PermissionDenied
        with bypass_context():
            user = (
                User.objects.select_related("tenant")
                .filter(email=email, invited_at__isnull=True)
                .first()
            )
            if user is None:
                # Spend the same time as a real check, so timing does not reveal who exists.
                User().set_password(password)
                return None
            if (
                user.check_password(password)
                and self.user_can_authenticate(user)
                and not user.is_bot
            ):
                attempts_reset(request, email)
                return user
        return None

    def get_user(self, user_id: Any) -> User | None:
        with bypass_context():
            user = User.objects.select_related("tenant").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
