"""Login, logout, throttling, password reset and the language preference."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from helpdesk.models import User
from helpdesk.tenancy import bypass_context

pytestmark = pytest.mark.django_db


def _login(client: Client, email: str, password: str):
    return client.post("/accounts/login/", {"username": email, "password": password})


def test_login_by_email_lands_in_the_inbox(cast, client):
    response = _login(client, "AGENT@a.test ", cast.password)
    assert response.status_code == 302
    page = client.get(response["Location"], follow=True)
    assert page.redirect_chain[-1][0] == "/inbox/"
    assert "Bandeja de entrada" in page.content.decode()
    with bypass_context():
        assert User.objects.get(pk=cast.agent.pk).last_login is not None


def test_wrong_password_says_so_in_spanish(cast, client):
    response = _login(client, cast.agent.email, "no-es-la-clave")
    assert response.status_code == 200
    assert "El correo o la contraseña no son correctos" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_unknown_email_gets_the_same_answer(cast, client):
    response = _login(client, "nadie@a.test", "algo")
    assert "El correo o la contraseña no son correctos" in response.content.decode()


def test_bot_and_inactive_users_cannot_log_in(cast, client):
    with bypass_context():
        User.objects.filter(pk=cast.agent.pk).update(is_active=False)
        bot = User.objects.create_user(
            email="bot@a.test",
            password="clave-del-bot-1",
            name="Bot",
            tenant=cast.tenant_a,
            is_bot=True,
        )
    assert _login(client, cast.agent.email, cast.password).status_code == 200
    assert _login(client, bot.email, "clave-del-bot-1").status_code == 200
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session(cast, client):
    _login(client, cast.agent.email, cast.password)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/inbox/").status_code == 302


def test_password_reset_by_email(cast, client):
    response = client.post("/accounts/password-reset/", {"email": cast.agent.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [cast.agent.email]
    assert "Restablece tu contraseña" in message.subject
    found = re.search(r"http://testserver(/accounts/reset/\S+/)", str(message.body))
    assert found is not None
    link = found.group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and "Nueva contraseña" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Otra-Clave-Segura-99", "new_password2": "Otra-Clave-Segura-99"},
    )
    assert done.status_code == 302
    assert _login(Client(), cast.agent.email, "Otra-Clave-Segura-99").status_code == 302


def test_password_reset_does_not_reveal_unknown_emails(cast, client):
    response = client.post("/accounts/password-reset/", {"email": "nadie@a.test"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_language_preference_switches_the_interface(cast, client):
    client.force_login(cast.agent)
    assert 'lang="es"' in client.get("/inbox/").content.decode()
    client.post("/me/language/", {"language": "en", "next": "/inbox/"})
    page = client.get("/inbox/").content.decode()
    assert 'lang="en"' in page
    assert "Inbox" in page and "Log out" in page
    with bypass_context():
        assert User.objects.get(pk=cast.agent.pk).language == "en"


def test_login_page_language_switch_uses_a_cookie(client):
    client.post("/me/language/", {"language": "en", "next": "/accounts/login/"})
    page = client.get("/accounts/login/").content.decode()
    assert 'lang="en"' in page and "Log in" in page


def test_dark_mode_preference(cast, client):
    client.force_login(cast.agent)
    client.post("/me/theme/", {"dark_mode": "true"})
    assert 'data-theme="dark"' in client.get("/inbox/").content.decode()
    client.post("/me/theme/", {"dark_mode": ""})
    assert "data-theme" not in client.get("/inbox/").content.decode()


def test_pages_carry_a_strict_content_security_policy(client):
    csp = client.get("/accounts/login/")["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
