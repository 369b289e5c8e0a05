"""Deactivating a person ends their sessions with one indexed delete after the commit: nobody
else's session is read, let alone decoded."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from admin_config import users
from helpdesk.models import UserSession
from helpdesk.tenancy import tenant_context
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

OTHERS = 40


def _session_queries(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if "django_session" in q["sql"] or "helpdesk_usersession" in q["sql"]
    ]


def test_deactivating_ends_only_that_persons_sessions_without_reading_the_others(
    cast, django_capture_on_commit_callbacks
):
    others = [client_for(user) for user in (cast.admin, cast.analyst, cast.outsider)]
    others += [client_for(cast.analyst) for _ in range(OTHERS)]
    theirs = [client_for(cast.agent) for _ in range(2)]
    assert all(c.get("/inbox/").status_code == 200 for c in theirs)

    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
        tenant_context(cast.tenant_a.pk),
    ):
        users.user_deactivate(actor=cast.admin, user=cast.agent)

    (only,) = _session_queries(queries)
    assert only.startswith("DELETE") and '"user_id" =' in only
    assert not UserSession.objects.filter(user_id=cast.agent.pk).exists()
    assert UserSession.objects.filter(user_id=cast.analyst.pk).count() == OTHERS + 1
    for client in theirs:
        after = client.get("/inbox/")
        assert after.status_code == 302 and after["Location"].startswith("/accounts/login/")
    assert others[0].get("/inbox/").status_code == 200


def test_a_session_names_the_person_who_logged_in_and_not_the_anonymous_one(cast, client):
    client.get("/accounts/login/")  # an anonymous session may exist (the CSRF token is a cookie)
    client.post("/accounts/login/", {"username": cast.agent.email, "password": cast.password})

    assert list(UserSession.objects.values_list("user_id", flat=True)) == [cast.agent.pk]
    client.post("/accounts/logout/")
    assert not UserSession.objects.filter(user_id=cast.agent.pk).exists()
