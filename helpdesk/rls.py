"""Row-level security on every tenant-owned table, applied automatically after each migrate.

A table is tenant-owned when its model has a ``tenant`` foreign key to ``helpdesk.Tenant``
(every subclass of ``TenantModel``, and ``User``). For each of them, after every ``migrate``,
this module makes sure that:

* row-level security is enabled and FORCEd (so the table's owner is subject to it too);
* the policy ``tenant_isolation`` exists: a row is visible and writable only when its
  ``tenant_id`` equals the session setting ``app.tenant_id``, or when ``app.bypass_rls`` is on;
* the application role may read and write it.

Adding a new tenant table therefore needs nothing beyond subclassing ``TenantModel``: the next
``migrate`` protects it, and ``tests/test_tenancy.py`` fails if one is missed.

The settings are read through ``(SELECT current_setting(...))`` so PostgreSQL evaluates them once
per query (an InitPlan), not once per row.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connections, models

POLICY = "tenant_isolation"
POLICY_EXPR = (
    "(tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::bigint)"
    " OR (SELECT current_setting('app.bypass_rls', true)) = 'on')"
)


def tenant_models() -> list[type[models.Model]]:
    """Every concrete model with a ``tenant`` foreign key to Tenant."""
    tenant_model = apps.get_model("helpdesk", "Tenant")
    found = []
    for model in apps.get_models():
        if model._meta.abstract or model._meta.proxy or not model._meta.managed:
            continue
        try:
            field = model._meta.get_field("tenant")
        except Exception:  # noqa: S112 - FieldDoesNotExist: not a tenant table
            continue
        if getattr(field, "related_model", None) is tenant_model:
            found.append(model)
    return found


def app_role_name() -> str | None:
    """The role the application connects as, when it differs from the migrating role."""
    app_user = settings.DATABASE_APP_ROLE or None
    owner_user = settings.DATABASE_OWNER.get("USER") or None
    if not app_user or app_user == owner_user:
        return None
    return str(app_user)


def apply_policies(using: str = "default") -> None:
    conn = connections[using]
    with conn.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_policies WHERE policyname = %s", [POLICY])
        have_policy = {row[0] for row in cursor.fetchall()}
        for model in tenant_models():
            table = model._meta.db_table
            qtable = conn.ops.quote_name(table)
            cursor.execute(f"ALTER TABLE {qtable} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {qtable} FORCE ROW LEVEL SECURITY")
            if table not in have_policy:
                cursor.execute(
                    f"CREATE POLICY {POLICY} ON {qtable}"
                    f" USING {POLICY_EXPR} WITH CHECK {POLICY_EXPR}"
                )
        role = app_role_name()
        if role is not None:
            qrole = conn.ops.quote_name(role)
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone():
                cursor.execute(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public"
                    f" TO {qrole}"
                )
                cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {qrole}")


def on_post_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    # post_migrate fires once per app and all migrations are applied by then: once is enough.
    # `flush` (between transactional tests) sends it too, connected as the application role,
    # which may not alter tables: only the owner's connection applies the policies.
    if sender.label != "helpdesk":
        return
    role = app_role_name()
    if role is not None and connections[using].settings_dict.get("USER") == role:
        return
    apply_policies(using)
