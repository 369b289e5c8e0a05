from typing import Any

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.core import checks
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = _("Núcleo")

    def ready(self) -> None:
        from helpdesk import rls, tenancy  # noqa: F401 - registers the connection hook

        post_migrate.connect(rls.on_post_migrate, sender=self)
        # Django records last_login with a plain save, which row-level security refuses while a
        # login request has no tenant yet: ours does the same write in the user's context.
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(record_last_login, dispatch_uid="helpdesk_update_last_login")
        checks.register(check_database_roles, checks.Tags.security, deploy=True)
        checks.register(check_field_encryption_key, checks.Tags.security)


def check_database_roles(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    from helpdesk.rls import app_role_name

    if app_role_name() is None:
        return [
            checks.Warning(
                "The application connects as the role that owns the tables.",
                hint="Set DATABASE_URL to a role that is not the owner (nor superuser, nor "
                "BYPASSRLS) and DATABASE_OWNER_URL to the owner, which runs migrations.",
                id="helpdesk.W001",
            )
        ]
    return []


def check_field_encryption_key(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """Outside DEBUG the channel credentials need their own key: refuse to start without a
    usable one, instead of answering 500 at the first credential read."""
    from cryptography.fernet import Fernet
    from django.conf import settings

    if settings.DEBUG or settings.TESTING:
        return []  # development and tests derive a key from SECRET_KEY (helpdesk.crypto)
    hint = (
        "Generate one with: python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())' and keep it: it decrypts the stored secrets."
    )
    key = settings.FIELD_ENCRYPTION_KEY
    if not key:
        return [
            checks.Error(
                "FIELD_ENCRYPTION_KEY is not set: channel credentials can be neither stored "
                "nor read.",
                hint=hint,
                id="helpdesk.E001",
            )
        ]
    try:
        Fernet(key)
    except (ValueError, TypeError):
        return [
            checks.Error(
                "FIELD_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes).",
                hint=hint,
                id="helpdesk.E002",
            )
        ]
    return []


def record_last_login(sender: Any, user: Any, **kwargs: Any) -> None:
    from django.utils import timezone

    from helpdesk.tenancy import bypass_context, tenant_context

    context = tenant_context(user.tenant_id) if user.tenant_id else bypass_context()
    with context:
        type(user).objects.filter(pk=user.pk).update(last_login=timezone.now())
