"""The «Publicaciones programadas» page: who sees which accounts and posts, the tenant's time
zone, editing, cancelling, the tenant's limit, isolation, and no query per post."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deskconfig.models import AssignmentMode, AssignmentRule
from helpdesk.tenancy import bypass_context
from publishing import services
from publishing.models import PublishingSettings
from tests.conftest import client_for
from tickets.models import ScheduledPost

pytestmark = pytest.mark.django_db

S = ScheduledPost.Status


def _post(actor, account, text="Hola mundo", days=1):
    return services.post_create(
        actor=actor,
        accounts=[account],
        text=text,
        publish_at=timezone.now() + datetime.timedelta(days=days),
    )[0]


def test_an_agent_schedules_in_the_tenants_time_zone(in_a, x_account, page_account):
    in_a.tenant_a.time_zone = "America/Santiago"
    with bypass_context():
        in_a.tenant_a.save(update_fields=["time_zone"])
    agent = client_for(in_a.agent)
    page = agent.get("/publishing/").content.decode()
    assert "Publicaciones programadas" in page and x_account.name in page
    response = agent.post(
        "/publishing/",
        {
            "accounts": [x_account.pk, page_account.pk],
            "text": "Llegó el invierno ❄️ https://tienda.cl/invierno",
            "publish_at": "2030-01-15T10:00",
        },
    )
    assert response.status_code == 302
    posts = list(ScheduledPost.objects.order_by("account__kind"))
    assert [p.account_id for p in posts] == [page_account.pk, x_account.pk]
    santiago = datetime.datetime(2030, 1, 15, 10, 0, tzinfo=zoneinfo.ZoneInfo("America/Santiago"))
    assert all(p.publish_at == santiago and p.created_by == in_a.agent for p in posts)
    listed = agent.get("/publishing/").content.decode()
    assert "15-01-2030 10:00" in listed or "15/01/2030 10:00" in listed


def test_bad_input_gets_a_clear_error(in_a, x_account):
    agent = client_for(in_a.agent)
    past = agent.post(
        "/publishing/",
        {"accounts": [x_account.pk], "text": "Hola", "publish_at": "2020-01-01T10:00"},
    )
    assert past.status_code == 400 and "ya pasó" in past.content.decode()
    long = agent.post(
        "/publishing/",
        {"accounts": [x_account.pk], "text": "á" * 281, "publish_at": "2031-01-01T10:00"},
    )
    assert long.status_code == 400 and "281 de 280" in long.content.decode()
    assert not ScheduledPost.objects.exists()


def test_the_assignment_matrix_closes_an_account_to_an_agent(in_a, x_account, page_account):
    AssignmentRule.objects.create(
        tenant=in_a.tenant_a, user=in_a.agent, account=x_account, mode=AssignmentMode.NONE
    )
    post = _post(in_a.admin, x_account, text="Solo para quien tiene X")
    agent = client_for(in_a.agent)
    page = agent.get("/publishing/").content.decode()
    assert page_account.name in page and "Solo para quien tiene X" not in page
    assert f'value="{x_account.pk}"' not in page
    refused = agent.post(
        "/publishing/",
        {"accounts": [x_account.pk], "text": "Hola", "publish_at": "2031-01-01T10:00"},
    )
    assert refused.status_code == 400
    for action in ("edit", "cancel", "retry"):
        assert agent.post(f"/publishing/{post.pk}/{action}/").status_code == 404
    assert "Solo para quien tiene X" in client_for(in_a.admin).get("/publishing/").content.decode()


def test_analysts_may_not_publish(in_a, x_account):
    post = _post(in_a.admin, x_account)
    analyst = client_for(in_a.analyst)
    assert analyst.get("/publishing/").status_code == 403
    for action in ("edit", "cancel", "retry"):
        assert analyst.post(f"/publishing/{post.pk}/{action}/").status_code == 403
    assert client_for(in_a.agent).post("/publishing/settings/").status_code == 403


def test_the_outsider_gets_404_and_sees_nothing(in_a, x_account):
    post = _post(in_a.admin, x_account, text="Secreto de la tienda A")
    outsider = client_for(in_a.outsider)
    for action in ("edit", "cancel", "retry"):
        assert outsider.get(f"/publishing/{post.pk}/{action}/").status_code in (404, 405)
        assert outsider.post(f"/publishing/{post.pk}/{action}/").status_code == 404
    page = outsider.get("/publishing/").content.decode()
    assert "Secreto de la tienda A" not in page and x_account.name not in page
    # An account id of tenant A in the outsider's form is not a choice.
    refused = outsider.post(
        "/publishing/",
        {"accounts": [x_account.pk], "text": "Hola", "publish_at": "2031-01-01T10:00"},
    )
    assert refused.status_code == 400
    post.refresh_from_db()
    assert post.status == S.SCHEDULED


def test_edit_and_cancel_from_the_page(in_a, x_account):
    post = _post(in_a.admin, x_account)
    agent = client_for(in_a.agent)
    form = agent.get(f"/publishing/{post.pk}/edit/").content.decode()
    assert "Hola mundo" in form
    response = agent.post(
        f"/publishing/{post.pk}/edit/", {"text": "Editado", "publish_at": "2031-02-01T09:30"}
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.text == "Editado"
    assert agent.post(f"/publishing/{post.pk}/cancel/").status_code == 302
    post.refresh_from_db()
    assert post.status == S.CANCELLED
    again = agent.post(
        f"/publishing/{post.pk}/edit/", {"text": "Otra vez", "publish_at": "2031-02-01T09:30"}
    )
    assert again.status_code == 400 and "ya no se puede cambiar" in again.content.decode()


def test_the_admin_sets_the_missed_limit(in_a):
    admin = client_for(in_a.admin)
    assert "no publicar con más de" in admin.get("/publishing/").content.decode().lower()
    admin.post("/publishing/settings/", {"missed_after_minutes": "15"})
    assert PublishingSettings.objects.get().missed_after_minutes == 15
    assert (
        "no publicar con más de"
        not in client_for(in_a.agent).get("/publishing/").content.decode().lower()
    )


def test_the_page_does_not_query_per_post(in_a, x_account, page_account):
    admin = client_for(in_a.admin)
    _post(in_a.admin, x_account)
    admin.get("/publishing/")
    with CaptureQueriesContext(connection) as few:
        admin.get("/publishing/")
    for n in range(8):
        _post(in_a.admin, page_account, text=f"post {n}")
    with CaptureQueriesContext(connection) as many:
        admin.get("/publishing/")
    assert len(many) == len(few)
