"""Helpers shared by the tests of the administration's list pages."""

from __future__ import annotations

from typing import Any

from django.test import Client

from deskconfig.models import ConfigChange
from helpdesk.models import Tenant
from helpdesk.tenancy import tenant_context
from tests.conftest import Cast


def changes(tenant: Tenant, section: str) -> list[ConfigChange]:
    """The audit entries of ``section`` in ``tenant``, oldest first."""
    with tenant_context(tenant.pk):
        return list(
            ConfigChange.objects.filter(section=section)
            .select_related("actor")
            .order_by("at", "id")
        )


def make(cast: Cast, model: type[Any], tenant: Tenant | None = None, **fields: Any) -> Any:
    """A row of ``model`` in ``tenant`` (tenant A by default), created as that tenant."""
    tenant = tenant or cast.tenant_a
    with tenant_context(tenant.pk):
        return model.objects.create(tenant=tenant, **fields)


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def assert_refused_to_non_admins(cast: Cast, client_for: Any, urls: list[str]) -> None:
    for user in (cast.agent, cast.analyst):
        client = client_for(user)
        for url in urls:
            assert client.get(url).status_code == 403, (user.role, url)
            assert client.post(url, {}).status_code == 403, (user.role, url)
