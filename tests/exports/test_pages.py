"""The Exportaciones page: bad input gets a clear error and no job; who sees which exports;
the download checks tenant, role and owner and is written to the audit log; the retention
setting; the expiry sweep; and the list that polls while an export is being built."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import ConfigChange, Department, FieldType, MetadataField
from exports.forms import tenant_today
from exports.models import ExportJob, ExportStatus
from exports.services import export_run, exports_expire, job_path, progress_key
from helpdesk.tenancy import bypass_context, tenant_context
from tests.conftest import client_for
from tests.exports.conftest import Desk
from tests.exports.helpers import job_for

pytestmark = pytest.mark.django_db


def _post(client, desk: Desk, **data):
    today = tenant_today(desk.cast.tenant_a)
    base = {
        "kind": "tickets",
        "format": "csv",
        "date_field": "created",
        "date_from": (today - datetime.timedelta(days=6)).isoformat(),
        "date_to": today.isoformat(),
    }
    return client.post("/admin/exports/", base | data)


def _jobs() -> int:
    with bypass_context():
        return ExportJob.all_tenants.count()


@pytest.fixture
def b_ids(desk):
    """Ids that exist, but in tenant B."""
    with tenant_context(desk.cast.tenant_b.pk):
        account = ChannelAccount.objects.create(kind=ChannelKind.EMAIL, name="De B")
        department = Department.objects.create(name="Depto B")
        field = MetadataField.objects.create(
            target="ticket", key="motivo", label="Motivo B", field_type=FieldType.TEXT
        )
    return {"account": account.pk, "department": department.pk, "field": field.pk}


def test_the_form_opens_with_the_last_seven_days(desk):
    page = client_for(desk.cast.analyst).get("/admin/exports/").content.decode()
    today = tenant_today(desk.cast.tenant_a)
    assert f'value="{today.isoformat()}"' in page
    assert f'value="{(today - datetime.timedelta(days=6)).isoformat()}"' in page
    assert "Soporte correo" in page and "Ventas" in page and "Motivo" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"date_from": "2026-01-01", "date_to": "2026-03-02"}, "dos meses como máximo"),
        ({"date_from": "2026-03-10", "date_to": "2026-03-01"}, "anterior a la inicial"),
        ({"date_from": "mañana"}, "Introduzca una fecha válida"),
        ({"format": "pdf"}, "Escoja una opción válida"),
        ({"customer_identity": "nadie@nada.test"}, "No encontramos un cliente"),
    ],
)
def test_bad_input_is_an_error_in_the_form_and_no_job(desk, data, message):
    response = _post(client_for(desk.cast.analyst), desk, **data)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body and "no se creó la exportación" in body
    assert _jobs() == 0


def test_two_months_to_the_day_is_allowed(desk):
    client = client_for(desk.cast.analyst)
    response = _post(client, desk, date_from="2026-01-31", date_to="2026-03-31")
    assert response.status_code == 302 and _jobs() == 1


@pytest.mark.parametrize("which", ["account", "department", "field", "user"])
def test_an_id_of_another_tenant_is_an_error(desk, b_ids, which):
    data = {
        "account": {"accounts": [b_ids["account"]]},
        "department": {"departments": [b_ids["department"]]},
        "field": {"metadata_field": b_ids["field"], "metadata_value": "x"},
        "user": {"assignee_mode": "users", "assignee_users": [desk.cast.outsider.pk]},
    }[which]
    response = _post(client_for(desk.cast.admin), desk, **data)
    body = response.content.decode()
    assert response.status_code == 200 and "no se creó la exportación" in body
    assert "No existe en tu empresa" in body or "no existe en tu empresa" in body
    assert _jobs() == 0


def test_a_valid_request_queues_a_job_with_the_filters(desk):
    client = client_for(desk.cast.analyst)
    response = _post(
        client,
        desk,
        format="xlsx",
        status=["open"],
        accounts=[desk.email.pk],
        awaiting="1",
        assignee_mode="nobody",
    )
    assert response.status_code == 302
    with bypass_context():
        job = ExportJob.all_tenants.get()
    assert job.tenant_id == desk.cast.tenant_a.pk and job.created_by_id == desk.cast.analyst.pk
    assert job.status == ExportStatus.QUEUED and job.format == "xlsx"
    assert job.filters == {
        "accounts": [desk.email.pk],
        "assignee": {"mode": "nobody"},
        "awaiting": True,
        "date_field": "created",
        "status": ["open"],
    }
    assert job.expires_at - job.created_at == datetime.timedelta(days=7)
    assert len(job.token) >= 32


def _done_job(desk: Desk, user) -> ExportJob:
    with tenant_context(desk.cast.tenant_a.pk):
        job = job_for(user)
        done = export_run(job_id=job.pk)
    assert done is not None and done.status == ExportStatus.DONE
    return done


def test_an_analyst_sees_their_exports_an_admin_the_tenants(desk):
    mine = _done_job(desk, desk.cast.analyst)
    admins = _done_job(desk, desk.cast.admin)
    analyst_page = client_for(desk.cast.analyst).get("/admin/exports/").content.decode()
    admin_page = client_for(desk.cast.admin).get("/admin/exports/").content.decode()
    assert mine.token in analyst_page and admins.token not in analyst_page
    assert mine.token in admin_page and admins.token in admin_page
    outsider_page = client_for(desk.cast.outsider).get("/admin/exports/").content.decode()
    assert mine.token not in outsider_page and admins.token not in outsider_page


def test_download_checks_tenant_role_and_owner_and_is_audited(desk):
    job = _done_job(desk, desk.cast.analyst)
    url = f"/admin/exports/{job.token}/download/"
    response = client_for(desk.cast.analyst).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert job.download_name in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert body.startswith("\ufeffNúmero,".encode())
    assert client_for(desk.cast.admin).get(url).status_code == 200
    assert client_for(desk.cast.agent).get(url).status_code == 403
    assert client_for(desk.cast.outsider).get(url).status_code == 404
    # A token one character off (never the token itself: it may start with that character).
    forged = ("y" if job.token.startswith("x") else "x") + job.token[1:]
    assert (
        client_for(desk.cast.analyst).get(f"/admin/exports/{forged}/download/").status_code == 404
    )
    with bypass_context():
        other = type(desk.cast.analyst).objects.create_user(
            "otra@a.test", "x-y-z-123456", tenant=desk.cast.tenant_a, role="analyst", name="Otra"
        )
    assert client_for(other).get(url).status_code == 404  # another analyst's file
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    with tenant_context(desk.cast.tenant_a.pk):
        logged = list(ConfigChange.objects.filter(section="exports").order_by("at"))
    assert [c.actor_id for c in logged] == [desk.cast.analyst.pk, desk.cast.admin.pk]
    assert logged[0].object_id == str(job.pk) and "Descarga" in logged[0].object_repr
    assert logged[0].after["row_count"] == 5 and job.token not in str(logged[0].after)
    audit_page = client_for(desk.cast.admin).get("/admin/audit/?section=exports")
    assert "Descarga" in audit_page.content.decode()


def test_a_file_not_ready_or_expired_is_not_served(desk):
    with tenant_context(desk.cast.tenant_a.pk):
        queued = job_for(desk.cast.analyst)
    client = client_for(desk.cast.analyst)
    assert client.get(f"/admin/exports/{queued.token}/download/").status_code == 404
    done = _done_job(desk, desk.cast.analyst)
    path = job_path(done)
    assert path.exists()
    with bypass_context():
        ExportJob.all_tenants.filter(pk=done.pk).update(
            expires_at=timezone.now() - datetime.timedelta(minutes=1)
        )
    assert exports_expire() == 1
    assert not path.exists()
    with bypass_context():
        assert ExportJob.all_tenants.get(pk=done.pk).status == ExportStatus.EXPIRED
        assert ExportJob.all_tenants.get(pk=queued.pk).status == ExportStatus.QUEUED
    assert client.get(f"/admin/exports/{done.token}/download/").status_code == 404
    assert exports_expire() == 0  # nothing left to do
    assert "Expirada" in client.get("/admin/exports/").content.decode()


def test_the_admin_sets_the_retention(desk):
    admin = client_for(desk.cast.admin)
    assert admin.post("/admin/exports/retention/", {"retention_days": "0"}).status_code == 200
    response = admin.post("/admin/exports/retention/", {"retention_days": "3"})
    assert response.status_code == 302
    assert (
        client_for(desk.cast.analyst)
        .post("/admin/exports/retention/", {"retention_days": "30"})
        .status_code
        == 403
    )
    _post(client_for(desk.cast.analyst), desk)
    with bypass_context():
        job = ExportJob.all_tenants.get()
    assert job.expires_at - job.created_at == datetime.timedelta(days=3)
    with tenant_context(desk.cast.tenant_a.pk):
        change = ConfigChange.objects.get(section="exports")
    assert change.before == {"retention_days": 7} and change.after == {"retention_days": 3}
    assert 'value="3"' in admin.get("/admin/exports/").content.decode()


def test_the_list_polls_with_progress_while_a_job_runs(desk):
    with tenant_context(desk.cast.tenant_a.pk):
        job = job_for(desk.cast.analyst)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, total_rows=200)
    cache.set(progress_key(job.pk), 50)
    client = client_for(desk.cast.analyst)
    part = client.get("/admin/exports/list/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in part and 'value="50"' in part and 'max="200"' in part
    assert "<html" not in part
    with tenant_context(desk.cast.tenant_a.pk):
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED, error="No se pudo escribir el archivo: disco lleno"
        )
    part = client.get("/admin/exports/list/").content.decode()
    assert "every 1s" not in part and "disco lleno" in part


def test_a_failed_export_says_why(desk, settings, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the exports folder should be")
    settings.MEDIA_ROOT = str(blocked)
    with tenant_context(desk.cast.tenant_a.pk):
        job = export_run(job_id=job_for(desk.cast.analyst).pk)
    assert job is not None and job.status == ExportStatus.FAILED
    assert job.error.startswith("No se pudo escribir el archivo")
    page = client_for(desk.cast.analyst).get("/admin/exports/").content.decode()
    assert "Falló" in page and "No se pudo escribir el archivo" in page
    assert f"/admin/exports/{job.token}/download/" not in page


def test_the_beat_task_deletes_expired_files(desk, eager_celery):
    from exports.tasks import delete_expired_exports
    from helpdesk.celery import app

    schedule = {e["task"] for e in app.conf.beat_schedule.values()}
    assert "exports.tasks.delete_expired_exports" in schedule
    done = _done_job(desk, desk.cast.analyst)
    with bypass_context():
        ExportJob.all_tenants.filter(pk=done.pk).update(expires_at=timezone.now())
    assert delete_expired_exports.delay().get() == 1
    assert not job_path(done).exists()


def test_the_list_costs_the_same_queries_for_one_job_or_many(desk, django_assert_num_queries):
    client = client_for(desk.cast.admin)
    client.get("/admin/exports/list/")  # session and user loaded once before counting
    with tenant_context(desk.cast.tenant_a.pk):
        job_for(desk.cast.analyst)
    # Session, user, the tenant context in and out, the jobs with who made them.
    with django_assert_num_queries(7):
        client.get("/admin/exports/list/")
    with tenant_context(desk.cast.tenant_a.pk):
        for _ in range(5):
            job_for(desk.cast.admin)
    with django_assert_num_queries(7):
        client.get("/admin/exports/list/")


def test_two_months_ends_on_the_last_day_of_a_shorter_month():
    from exports.forms import add_months, range_errors

    assert add_months(datetime.date(2026, 12, 31), 2) == datetime.date(2027, 2, 28)
    assert add_months(datetime.date(2027, 12, 31), 2) == datetime.date(2028, 2, 29)
    assert range_errors(datetime.date(2026, 12, 31), datetime.date(2027, 2, 28)) == []
    assert range_errors(datetime.date(2026, 12, 31), datetime.date(2027, 3, 1)) != []
