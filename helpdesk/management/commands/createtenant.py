"""Create a tenant, its bot and (optionally) its first administrator."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from helpdesk.models import Role, Tenant
from helpdesk.services import tenant_create, user_create
from helpdesk.tenancy import bypass_context


class Command(BaseCommand):
    help = "Create a tenant (company) with its bot user and, optionally, its first admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("name")
        parser.add_argument("--time-zone", default="America/Santiago")
        parser.add_argument("--language", default="es", choices=["es", "en"])
        parser.add_argument("--admin-email")
        parser.add_argument("--admin-name", default="Administrador")
        parser.add_argument("--admin-password", help="asked for when omitted")

    def handle(self, *args: Any, **opts: Any) -> None:
        with bypass_context():
            if Tenant.objects.filter(slug=opts["slug"]).exists():
                raise CommandError(f"A tenant with slug {opts['slug']!r} exists already.")
        try:
            tenant = tenant_create(
                name=opts["name"],
                slug=opts["slug"],
                time_zone=opts["time_zone"],
                language=opts["language"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Tenant {tenant.slug} created (id {tenant.pk})."))
        if opts["admin_email"]:
            password = opts["admin_password"] or getpass.getpass("Password for the admin: ")
            user_create(
                tenant=tenant,
                email=opts["admin_email"],
                name=opts["admin_name"],
                role=Role.ADMIN,
                password=password,
            )
            self.stdout.write(self.style.SUCCESS(f"Admin {opts['admin_email']} created."))
