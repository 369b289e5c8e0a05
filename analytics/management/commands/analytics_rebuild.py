"""Recompute the analytics rollups from the ticket history, for one tenant or all."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from analytics.models import ROLLUP_TABLES
from analytics.rollup import rollup_rebuild
from helpdesk.dbroles import as_owner
from helpdesk.models import Tenant
from helpdesk.tenancy import bypass_context, tenant_context


class Command(BaseCommand):
    help = "Recompute the analytics rollups from scratch (all tenants, or --tenant <slug>)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="slug of one tenant")

    def handle(self, *args: Any, **options: Any) -> None:
        with bypass_context():
            tenants = Tenant.objects.order_by("pk")
            if options["tenant"]:
                tenants = tenants.filter(slug=options["tenant"])
                if not tenants.exists():
                    raise CommandError(f"No tenant with slug {options['tenant']!r}.")
            targets = list(tenants.values_list("pk", "slug"))
        for pk, slug in targets:
            started = time.perf_counter()
            with tenant_context(pk):
                count = rollup_rebuild(tenant_id=pk)
            with as_owner(), connection.cursor() as cursor:  # fresh statistics (owner only)
                for table in ROLLUP_TABLES:
                    cursor.execute(f"ANALYZE {table}")
            elapsed = time.perf_counter() - started
            self.stdout.write(f"{slug}: {count} tickets in {elapsed:.1f} s")
