"""The configuration audit log: what is recorded, and who sees it."""

from __future__ import annotations

import pytest

from admin_config import audit
from deskconfig.models import ConfigChange, Department, ForbiddenWord
from helpdesk.tenancy import tenant_context
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_an_update_records_only_what_changed(cast):
    with tenant_context(cast.tenant_a.pk):
        word = ForbiddenWord.objects.create(word="tonto")
        before = audit.snapshot(word)
        word.word = "tontito"
        word.save()
        change = audit.record(
            actor=cast.admin,
            section="forbidden-words",
            action=ConfigChange.Action.UPDATE,
            obj=word,
            before=before,
            after=audit.snapshot(word),
        )
        assert change is not None
        assert change.before == {"word": "tonto"} and change.after == {"word": "tontito"}
        same = audit.snapshot(word)
        assert (
            audit.record(
                actor=cast.admin,
                section="forbidden-words",
                action=ConfigChange.Action.UPDATE,
                obj=word,
                before=same,
                after=same,
            )
            is None
        )


def test_secrets_never_reach_the_log(cast):
    assert "password" not in audit.snapshot(cast.admin)


def test_the_log_page_shows_this_tenants_changes_only(cast):
    for tenant, actor, text in (
        (cast.tenant_a, cast.admin, "palabra-de-a"),
        (cast.tenant_b, cast.outsider, "palabra-de-b"),
    ):
        with tenant_context(tenant.pk):
            word = ForbiddenWord.objects.create(word=text)
            audit.record(
                actor=actor,
                section="forbidden-words",
                action=ConfigChange.Action.CREATE,
                obj=word,
                after=audit.snapshot(word),
            )
    page = client_for(cast.admin).get("/admin/audit/").content.decode()
    assert "palabra-de-a" in page and "palabra-de-b" not in page
    assert cast.admin.name in page
    other = client_for(cast.outsider).get("/admin/audit/").content.decode()
    assert "palabra-de-b" in other and "palabra-de-a" not in other


def test_the_log_page_names_fields_and_shows_before_and_after(cast):
    with tenant_context(cast.tenant_a.pk):
        before = audit.snapshot(cast.agent)
        cast.agent.max_open_tickets = 12
        cast.agent.save()
        change = audit.record(
            actor=cast.admin,
            section="users",
            action=ConfigChange.Action.UPDATE,
            obj=cast.agent,
            before=before,
            after=audit.snapshot(cast.agent),
        )
        assert change is not None
        values = audit.changed_values(change)
    assert [(v.label, v.before, v.after) for v in values] == [
        ("máximo de tickets abiertos", "10", "12")
    ]
    page = client_for(cast.admin).get("/admin/audit/").content.decode()
    assert "Máximo de tickets abiertos" in page and "max_open_tickets" not in page
    assert ">Usuarios<" in page  # the section's name, not its slug


def test_coded_values_show_their_labels(cast):
    change = ConfigChange(
        section="assignments",
        action=ConfigChange.Action.UPDATE,
        object_type="user",
        before={"Chat web · Chat": "manual", "role": "agent"},
        after={"Chat web · Chat": "auto", "role": "admin"},
    )
    shown = {v.label: (v.before, v.after) for v in audit.changed_values(change)}
    assert shown["Chat web · Chat"] == ("Manual", "Automática")
    assert shown["rol"][1] in {"Administrador", "Administradora"}


def test_the_log_names_links_by_name_and_times_in_the_tenants_zone(cast):
    """Fields without a Spanish name of their own, departments by name (one query for the
    page, a deleted one marked), and times in the tenant's zone instead of UTC ISO strings."""
    with tenant_context(cast.tenant_a.pk):
        sales = Department.objects.create(tenant=cast.tenant_a, name="Ventas")
        gone = Department.objects.create(tenant=cast.tenant_a, name="Antigua")
        gone_id = gone.pk
        gone.delete()
        ConfigChange.objects.create(
            tenant=cast.tenant_a,
            actor=cast.admin,
            section="users",
            action=ConfigChange.Action.UPDATE,
            object_type="user",
            object_id=str(cast.agent.pk),
            object_repr=str(cast.agent),
            before={"departments": [gone_id], "invited_at": None},
            after={"departments": [sales.pk], "invited_at": "2026-03-01T15:30:00+00:00"},
        )
    cast.tenant_a.time_zone = "America/Santiago"
    cast.tenant_a.save()
    page = client_for(cast.admin).get("/admin/audit/").content.decode()
    assert "Departamentos" in page and "Invitación enviada" in page
    assert "Invited at" not in page and ">departments<" not in page
    assert "Ventas" in page and f"#{gone_id} (eliminado)" in page
    assert "1 Mar 2026, 12:30" in page and "2026-03-01T15:30" not in page
