"""Tenancy, enforced twice: scoped managers in code, row-level security in PostgreSQL.

These tests run connected as the application's role, as production does."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import IntegrityError, ProgrammingError, connection, transaction

from helpdesk.models import Notification, TenantModel, User
from helpdesk.rls import POLICY, tenant_models
from helpdesk.tenancy import bypass_context, current_tenant_id, no_tenant_context, tenant_context
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        return cursor.fetchone()[0]


@pytest.fixture
def notifications(cast):
    with bypass_context():
        NotificationFactory.create_batch(3, user=cast.agent)
        NotificationFactory.create_batch(2, user=cast.outsider)
    return cast


def test_the_application_role_is_subject_to_row_level_security():
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        superuser, bypassrls = cursor.fetchone()
        cursor.execute("SELECT current_user")
        role = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s",
            [role],
        )
        owned = cursor.fetchone()[0]
    assert role == settings.DATABASE_APP_ROLE
    assert not superuser and not bypassrls
    assert owned == 0, "the application role must not own the tables"


def test_raw_sql_without_tenant_context_sees_no_rows(notifications):
    table = Notification._meta.db_table
    with no_tenant_context():
        assert _count(table) == 0
        assert _count(User._meta.db_table) == 0
    with bypass_context():
        assert _count(table) == 5


def test_raw_sql_in_a_tenant_context_sees_only_that_tenant(notifications):
    cast = notifications
    table = Notification._meta.db_table
    with tenant_context(cast.tenant_a.pk):
        assert _count(table) == 3
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT DISTINCT tenant_id FROM "{table}"')
            assert [r[0] for r in cursor.fetchall()] == [cast.tenant_a.pk]
    with tenant_context(cast.tenant_b.pk):
        assert _count(table) == 2


def test_inserting_a_row_of_another_tenant_fails(cast):
    table = Notification._meta.db_table
    with tenant_context(cast.tenant_a.pk), pytest.raises(ProgrammingError) as err:  # noqa: SIM117
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{table}" (tenant_id, user_id, text, url, created_at)'
                " VALUES (%s, %s, 'x', '', now())",
                [cast.tenant_b.pk, cast.outsider.pk],
            )
    assert "row-level security" in str(err.value)


def test_updating_rows_into_another_tenant_fails(notifications):
    cast = notifications
    with tenant_context(cast.tenant_a.pk), pytest.raises(ProgrammingError):  # noqa: SIM117
        with transaction.atomic():
            Notification.objects.update(tenant_id=cast.tenant_b.pk)


def test_scoped_manager_filters_on_the_context_tenant(notifications):
    cast = notifications
    with tenant_context(cast.tenant_a.pk):
        assert current_tenant_id() == cast.tenant_a.pk
        assert Notification.objects.count() == 3
        assert "tenant_id" in str(Notification.objects.all().query)
        assert User.objects.filter(email=cast.outsider.email).count() == 0
    with tenant_context(cast.tenant_b.pk):
        assert Notification.objects.count() == 2
    assert current_tenant_id() is None


def test_contexts_nest_and_restore(cast):
    with tenant_context(cast.tenant_a.pk):
        with tenant_context(cast.tenant_b.pk):
            assert current_tenant_id() == cast.tenant_b.pk
            assert User.objects.filter(email=cast.outsider.email).exists()
        assert current_tenant_id() == cast.tenant_a.pk
        assert not User.objects.filter(email=cast.outsider.email).exists()
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('app.tenant_id', true)")
            assert cursor.fetchone()[0] == str(cast.tenant_a.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        assert cursor.fetchone()[0] == ""


def test_new_rows_take_the_context_tenant(cast):
    with tenant_context(cast.tenant_a.pk):
        note = Notification.objects.create(user=cast.agent, text="hola")
    assert note.tenant_id == cast.tenant_a.pk


def test_every_tenant_model_has_a_non_null_tenant_key_and_a_forced_policy():
    models = tenant_models()
    names = {m._meta.label for m in models}
    assert {"helpdesk.User", "helpdesk.Notification"} <= names
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            field = model._meta.get_field("tenant")
            if model is not User:  # platform operators are the only users without a tenant
                assert not field.null, f"{model._meta.label}.tenant must not be null"
                assert issubclass(model, TenantModel), f"{model._meta.label} must use TenantModel"
            cursor.execute(
                "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s",
                [table],
            )
            enabled, forced = cursor.fetchone()
            assert enabled and forced, f"{table}: row-level security must be enabled and forced"
            cursor.execute(
                "SELECT qual, with_check FROM pg_policies WHERE tablename = %s AND policyname = %s",
                [table, POLICY],
            )
            row = cursor.fetchone()
            assert row is not None, f"{table} has no {POLICY} policy"
            assert "app.tenant_id" in row[0] and "app.tenant_id" in row[1]


def test_every_model_with_tenant_data_is_a_tenant_model():
    """A model that points to a tenant-owned model must be tenant-owned itself."""
    from django.apps import apps

    tenant_labels = {m._meta.label for m in tenant_models()}
    # Django's groups and permissions serve platform operators only; tenant users have none.
    # Login sessions exist before anyone logs in, as django.contrib.sessions' did: no tenant.
    platform = {
        "helpdesk.Tenant",
        "helpdesk.User_groups",
        "helpdesk.User_user_permissions",
        "helpdesk.UserSession",
    }
    # A signed Meta webhook that is not JSON names no tenant: kept for the operators only.
    platform.add("channels_conn.MetaRejectedWebhook")
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label
        if (
            model._meta.app_label
            not in {"helpdesk", "tickets", "channels_conn", "admin_config", "analytics"}
            or label in platform
        ):
            continue
        assert label in tenant_labels, f"{label} belongs to a tenant but has no tenant key"


def test_tenant_foreign_key_cannot_be_null(cast):
    with bypass_context(), pytest.raises(IntegrityError), transaction.atomic():
        Notification.all_tenants.create(user=cast.agent, text="x", tenant=None)
