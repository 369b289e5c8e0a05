"""`migrate`, connected as the owner role (DATABASE_OWNER_URL) and in the RLS bypass context."""

from typing import Any

from django.core.management.commands import migrate

from helpdesk.dbroles import as_owner
from helpdesk.tenancy import bypass_context


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        with as_owner(options.get("database") or "default"), bypass_context():
            super().handle(*args, **options)
