from typing import Any

from django.core.management.base import BaseCommand

from devtools import demo


class Command(BaseCommand):
    help = "Create the demo tenants (demo, acme) and their users; idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        created = demo.seed()
        if created:
            self.stdout.write(self.style.SUCCESS("Demo data created: " + ", ".join(created)))
        else:
            self.stdout.write("Demo data already present.")
        self.stdout.write(
            f"Demo logins (password {demo.DEMO_PASSWORD}): "
            + ", ".join(p.email for _n, people in demo.DEMO_TENANTS.values() for p in people)
        )
