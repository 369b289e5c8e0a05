"""The cast of every access test: an admin, an analyst and an agent of tenant A, and an
outsider of tenant B. Rows are created in the bypass context, as a platform operator would."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast as cast_to

import pytest
from django.test import Client

from helpdesk.models import Role, Tenant, User
from helpdesk.tenancy import bypass_context, tenant_context
from tests.factories import PASSWORD, TenantFactory, UserFactory


@dataclass
class Cast:
    tenant_a: Tenant
    tenant_b: Tenant
    admin: User
    analyst: User
    agent: User
    outsider: User
    password: str = PASSWORD


@pytest.fixture(autouse=True)
def _login_attempts_forgotten() -> Iterator[None]:
    """The login gate counts attempts in Redis, which outlives each test's transaction: a
    lockout must not leak into the next test."""
    from django.core.cache import cache

    def forget() -> None:
        client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        for key in client.scan_iter(match="*login:attempts:*"):
            client.delete(key)

    forget()
    yield
    forget()


@pytest.fixture
def bypass() -> Iterator[None]:
    with bypass_context():
        yield


@pytest.fixture
def cast(db: None) -> Cast:
    with bypass_context():
        a = cast_to(Tenant, TenantFactory(name="Tienda A", slug="tienda-a"))
        b = cast_to(Tenant, TenantFactory(name="Tienda B", slug="tienda-b"))

        def user(tenant: Tenant, role: Role, email: str) -> User:
            return cast_to(User, UserFactory(tenant=tenant, role=role, email=email))

        return Cast(
            tenant_a=a,
            tenant_b=b,
            admin=user(a, Role.ADMIN, "admin@a.test"),
            analyst=user(a, Role.ANALYST, "analyst@a.test"),
            agent=user(a, Role.AGENT, "agent@a.test"),
            outsider=user(b, Role.ADMIN, "admin@b.test"),
        )


@pytest.fixture
def in_a(cast: Cast) -> Iterator[Cast]:
    """The test body runs as tenant A (row-level security and scoped managers)."""
    with tenant_context(cast.tenant_a.pk):
        yield cast


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """``.delay()`` runs the task here and now (configuration, not a mock)."""
    from helpdesk.celery import app

    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = before


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
