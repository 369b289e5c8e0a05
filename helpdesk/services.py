"""Writes of the core: creating tenants and their people."""

from __future__ import annotations

from django.db import transaction

from helpdesk.models import Role, Tenant, User
from helpdesk.tenancy import bypass_context, tenant_context


def tenant_create(
    *, name: str, slug: str, time_zone: str = "America/Santiago", language: str = "es"
) -> Tenant:
    """A new tenant with its bot user (the skills bot and auto-actions act as it)."""
    with bypass_context(), transaction.atomic():
        tenant = Tenant(name=name, slug=slug, time_zone=time_zone, language=language)
        tenant.full_clean()
        tenant.save()
    with tenant_context(tenant.pk), transaction.atomic():
        bot_user_create(tenant_id=tenant.pk, handle=slug)
    return tenant


def bot_user_create(*, tenant_id: int, handle: str) -> User:
    """The tenant's bot user: it cannot log in; the skills bot and auto-actions act as it."""
    bot = User(
        tenant_id=tenant_id,
        email=f"bot+{handle}@bots.invalid",
        name="Bot",
        role=Role.AGENT,
        is_bot=True,
    )
    bot.set_unusable_password()
    bot.save()
    return bot


def tenant_bot(tenant: Tenant) -> User:
    return User.objects.get(tenant=tenant, is_bot=True)


def user_create(
    *, tenant: Tenant, email: str, name: str, role: Role, password: str | None = None
) -> User:
    with tenant_context(tenant.pk), transaction.atomic():
        return User.objects.create_user(
            email=email, password=password, name=name, tenant=tenant, role=role
        )
