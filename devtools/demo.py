"""The demo tenants. Each issue adds its part so the demo always shows every feature."""

from __future__ import annotations

from dataclasses import dataclass

from analytics.rollup import rollup_refresh
from devtools import demo_tickets as tickets_demo
from helpdesk.models import Role, Tenant, User
from helpdesk.services import tenant_create, user_create
from helpdesk.tenancy import bypass_context, tenant_context

DEMO_PASSWORD = "demo1234"  # noqa: S105 - development data, printed at start


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: Role


DEMO_TENANTS: dict[str, tuple[str, list[DemoUser]]] = {
    "demo": (
        "Tienda Demo",
        [
            DemoUser("admin@demo.test", "Camila Rojas", Role.ADMIN),
            DemoUser("analyst@demo.test", "Diego Fuentes", Role.ANALYST),
            DemoUser("agent@demo.test", "Valentina Muñoz", Role.AGENT),
            DemoUser("agent2@demo.test", "Matías González", Role.AGENT),
        ],
    ),
    "acme": (
        "Acme Chile",
        [DemoUser("admin@acme.test", "Javiera Soto", Role.ADMIN)],
    ),
}


def seed() -> list[str]:
    """Create what is missing of the demo; running it again changes nothing."""
    created: list[str] = []
    for slug, (name, people) in DEMO_TENANTS.items():
        with bypass_context():
            tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            tenant = tenant_create(name=name, slug=slug)
            created.append(f"tenant {slug}")
        with tenant_context(tenant.pk):
            for person in people:
                if not User.objects.filter(email=person.email).exists():
                    user_create(
                        tenant=tenant,
                        email=person.email,
                        name=person.name,
                        role=person.role,
                        password=DEMO_PASSWORD,
                    )
                    created.append(person.email)
        created += tickets_demo.seed(tenant)
        # Analítica reads rollups; fold the seeded history in now so a fresh demo shows its
        # figures at once instead of «se están calculando» until the first beat run.
        with tenant_context(tenant.pk):
            rollup_refresh(tenant_id=tenant.pk)
    return created
