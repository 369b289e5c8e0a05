"""Administration > Channels: accounts by kind; connect each kind; edit without seeing or losing
secrets; disconnect and reconnect; every change audited without secrets; tenant isolation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from channels_conn.base import ConnectorError, connector_for
from channels_conn.models import ChannelAccount, MailboxState
from deskconfig.kinds import ChannelKind
from deskconfig.models import BusinessSchedule, ConfigChange
from helpdesk.tenancy import bypass_context, tenant_context
from tests.conftest import Cast, client_for

pytestmark = pytest.mark.django_db

SECRETS = {
    "imap_password": "imap-Secreto-1",
    "smtp_password": "smtp-Secreto-2",
    "access_token": "EAAG-token-Secreto-3",
    "app_secret": "app-Secreto-4",
    "verify_token": "verify-Secreto-5",
    "page_access_token": "page-Secreto-6",
    "api_key": "key-Secreto-7",
    "api_secret": "keysecret-Secreto-8",
    "access_token_secret": "ats-Secreto-9",
    "bearer_token": "bearer-Secreto-10",
}
COMMON = {"sla_minutes": "45", "resolution_minutes": "", "schedule": ""}

VALID: dict[str, dict[str, str]] = {
    "email": {
        "name": "Soporte",
        "address": "Soporte@Tienda.test",
        "imap_host": "imap.tienda.test",
        "imap_port": "993",
        "imap_security": "ssl",
        "imap_user": "",
        "imap_password": SECRETS["imap_password"],
        "imap_folder": "INBOX",
        "processed": "move",
        "processed_folder": "Processed",
        "max_size_mb": "10",
        "smtp_host": "smtp.tienda.test",
        "smtp_port": "587",
        "smtp_security": "starttls",
        "smtp_user": "soporte@tienda.test",
        "smtp_password": SECRETS["smtp_password"],
    },
    "whatsapp": {
        "name": "+56 9 4000 1234",
        "phone_number_id": "106540352242922",
        "waba_id": "102290129340398",
        "display_phone_number": "56940001234",
        "access_token": SECRETS["access_token"],
        "app_secret": SECRETS["app_secret"],
        "verify_token": SECRETS["verify_token"],
    },
    "facebook": {
        "name": "Tienda",
        "page_id": "104857623190455",
        "page_access_token": SECRETS["page_access_token"],
        "app_secret": SECRETS["app_secret"],
    },
    "instagram": {
        "name": "@tienda",
        "instagram_account_id": "17841452311860944",
        "username": "@tienda",
        "page_access_token": SECRETS["page_access_token"],
        "app_secret": SECRETS["app_secret"],
    },
    "twitter": {
        "name": "@TiendaCL",
        "user_id": "1459830021774618625",
        "username": "TiendaCL",
        "api_key": SECRETS["api_key"],
        "api_secret": SECRETS["api_secret"],
        "access_token": SECRETS["access_token"],
        "access_token_secret": SECRETS["access_token_secret"],
        "bearer_token": SECRETS["bearer_token"],
    },
    "webchat": {
        "name": "Chat del sitio",
        "allowed_origins": "https://www.tienda.test/\nhttps://tienda.test",
        "greeting": "¡Hola!",
    },
}

# What each kind stores, as the connectors read it (channels_conn/email, channels_conn/webchat).
EXPECTED_SETTINGS: dict[str, dict[str, Any]] = {
    "email": {
        "address": "soporte@tienda.test",
        "imap_host": "imap.tienda.test",
        "imap_port": 993,
        "imap_ssl": True,
        "imap_starttls": False,
        "imap_user": "",
        "imap_folder": "INBOX",
        "processed_policy": "move:Processed",
        "max_size": 10 * 1024 * 1024,
        "smtp_host": "smtp.tienda.test",
        "smtp_port": 587,
        "smtp_ssl": False,
        "smtp_starttls": True,
        "smtp_user": "soporte@tienda.test",
    },
    "whatsapp": {
        "phone_number_id": "106540352242922",
        "waba_id": "102290129340398",
        "display_phone_number": "56940001234",
    },
    "facebook": {"page_id": "104857623190455"},
    "instagram": {"instagram_account_id": "17841452311860944", "username": "tienda"},
    "twitter": {"user_id": "1459830021774618625", "username": "TiendaCL"},
    "webchat": {
        "allowed_origins": ["https://www.tienda.test", "https://tienda.test"],
        "greeting": "¡Hola!",
    },
}


def _post(kind: str, **changes: str) -> dict[str, str]:
    return {**COMMON, **VALID[kind], **changes}


def _account(cast: Cast, **fields: Any) -> ChannelAccount:
    with tenant_context(cast.tenant_a.pk):
        account: ChannelAccount = ChannelAccount.objects.create(tenant=cast.tenant_a, **fields)
        return account


def _reload(cast: Cast, account: ChannelAccount) -> None:
    with tenant_context(cast.tenant_a.pk):
        account.refresh_from_db()


def _changes(cast: Cast) -> list[ConfigChange]:
    with tenant_context(cast.tenant_a.pk):
        return list(ConfigChange.objects.filter(section="channels").order_by("id"))


def test_the_list_groups_accounts_by_kind(cast: Cast) -> None:
    _account(cast, kind="email", name="Ventas", settings={"address": "ventas@a.test"})
    _account(cast, kind="webchat", name="Chat A", active=False)
    with bypass_context():
        ChannelAccount.all_tenants.create(tenant=cast.tenant_b, kind="email", name="Correo de B")
    page = client_for(cast.admin).get("/admin/channels/").content.decode()
    for kind in ChannelKind:
        assert f'data-kind="{kind.value}"' in page
        assert f'href="/admin/channels/new/{kind.value}/"' in page
    email = page.split('data-kind="email"')[1].split("</section>")[0]
    assert "Ventas" in email and "Activa" in email and "Aún no revisado" not in email
    webchat = page.split('data-kind="webchat"')[1].split("</section>")[0]
    assert "Chat A" in webchat and "Desconectada" in webchat
    assert "Sin cuentas de WhatsApp" in page
    assert "Correo de B" not in page
    # Each account links to its automatic actions and its skills bot.
    assert "/admin/auto-actions/" in email and "/admin/skills-bot/" in email


def test_the_list_shows_the_mailbox_poll_and_its_last_error(cast: Cast) -> None:
    account = _account(
        cast, kind="email", name="Soporte", settings={"address": "s@a.test", "imap_host": "h"}
    )
    page = client_for(cast.admin).get("/admin/channels/").content.decode()
    assert "Aún no revisado" in page
    with tenant_context(cast.tenant_a.pk):
        MailboxState.objects.create(
            tenant=cast.tenant_a,
            account=account,
            folder="INBOX",
            last_error="LoginError: authentication failed",
            polled_at="2026-01-05T12:00:00Z",
        )
    page = client_for(cast.admin).get("/admin/channels/").content.decode()
    assert "LoginError: authentication failed" in page
    assert "05-01-2026" in page or "05/01/2026" in page or "2026" in page


@pytest.mark.parametrize("kind", [k.value for k in ChannelKind])
def test_connect_each_kind_stores_settings_and_encrypted_secrets(cast: Cast, kind: str) -> None:
    client = client_for(cast.admin)
    response = client.post(f"/admin/channels/new/{kind}/", _post(kind))
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.get()
    assert response["Location"] == f"/admin/channels/{account.pk}/"
    assert account.kind == kind and account.active and account.sla_minutes == 45
    assert account.settings == EXPECTED_SETTINGS[kind]
    secrets = {k: v for k, v in VALID[kind].items() if k in SECRETS}
    assert account.credentials == secrets
    # The settings column holds no secret; the credentials column is ciphertext.
    with bypass_context():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT settings::text, credentials FROM channels_conn_channelaccount WHERE id=%s",
                [account.pk],
            )
            stored_settings, stored_creds = cursor.fetchone()
    for secret in SECRETS.values():
        assert secret not in stored_settings and secret not in stored_creds
    # Never shown back, on the account page or anywhere in the section.
    for url in (f"/admin/channels/{account.pk}/", "/admin/channels/", "/admin/audit/"):
        page = client.get(url).content.decode()
        for secret in SECRETS.values():
            assert secret not in page, (url, secret)
    (change,) = _changes(cast)
    assert change.action == ConfigChange.Action.CREATE and change.actor_id == cast.admin.pk
    assert change.after["settings"] == EXPECTED_SETTINGS[kind]
    assert sorted(change.after["secrets_updated"]) == sorted(secrets)
    logged = json.dumps([change.before, change.after])
    for secret in SECRETS.values():
        assert secret not in logged


@pytest.mark.parametrize(
    ("kind", "changes", "field", "message"),
    [
        ("email", {"address": "no-es-correo"}, "address", "Introduzca una dirección de correo"),
        ("email", {"imap_password": ""}, "imap_password", "Este campo es obligatorio."),
        ("email", {"imap_port": "70000"}, "imap_port", "menor o igual a 65535"),
        ("email", {"processed_folder": ""}, "processed_folder", "Indica a qué carpeta mover"),
        ("email", {"smtp_password": ""}, "smtp_password", "Con usuario SMTP hace falta"),
        ("whatsapp", {"phone_number_id": "10654-abc"}, "phone_number_id", "Solo dígitos"),
        ("whatsapp", {"verify_token": ""}, "verify_token", "Este campo es obligatorio."),
        ("facebook", {"page_id": ""}, "page_id", "Este campo es obligatorio."),
        ("instagram", {"app_secret": ""}, "app_secret", "Este campo es obligatorio."),
        ("twitter", {"bearer_token": ""}, "bearer_token", "Este campo es obligatorio."),
        (
            "webchat",
            {"allowed_origins": "www.tienda.test/chat"},
            "allowed_origins",
            "no es un sitio",
        ),
        ("webchat", {"name": ""}, "name", "Este campo es obligatorio."),
    ],
)
def test_validation_errors_are_in_spanish_and_save_nothing(
    cast: Cast, kind: str, changes: dict[str, str], field: str, message: str
) -> None:
    response = client_for(cast.admin).post(f"/admin/channels/new/{kind}/", _post(kind, **changes))
    assert response.status_code == 200
    page = response.content.decode()
    block = page.split(f'data-field="{field}"')[1].split("</div>")[0]
    assert message in block
    # What was typed as a secret is not echoed back in the re-rendered form either.
    for secret in SECRETS.values():
        assert secret not in page
    with tenant_context(cast.tenant_a.pk):
        assert not ChannelAccount.objects.exists()
    assert not _changes(cast)


def test_unknown_kind_is_404(cast: Cast) -> None:
    assert client_for(cast.admin).get("/admin/channels/new/telegram/").status_code == 404


def test_edit_with_a_blank_secret_keeps_it(cast: Cast) -> None:
    client = client_for(cast.admin)
    client.post("/admin/channels/new/email/", _post("email"))
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.get()
    page = client.get(f"/admin/channels/{account.pk}/").content.decode()
    assert "guardada — déjalo vacío para mantenerla" in page
    assert 'value="imap.tienda.test"' in page and 'value="Processed"' in page
    response = client.post(
        f"/admin/channels/{account.pk}/",
        _post("email", imap_password="", smtp_password="", imap_host="mail.tienda.test"),
    )
    assert response.status_code == 302
    _reload(cast, account)
    assert account.settings["imap_host"] == "mail.tienda.test"
    assert account.credentials == {
        "imap_password": SECRETS["imap_password"],
        "smtp_password": SECRETS["smtp_password"],
    }
    update = _changes(cast)[-1]
    assert update.action == ConfigChange.Action.UPDATE
    assert update.before["settings"]["imap_host"] == "imap.tienda.test"
    assert update.after["settings"]["imap_host"] == "mail.tienda.test"
    assert "secrets_updated" not in update.after  # no secret changed: not mentioned


def test_changing_only_a_secret_is_audited_without_its_value(cast: Cast) -> None:
    client = client_for(cast.admin)
    client.post("/admin/channels/new/whatsapp/", _post("whatsapp"))
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.get()
    blank = {k: "" for k in ("access_token", "app_secret", "verify_token")}
    client.post(
        f"/admin/channels/{account.pk}/",
        _post("whatsapp", **{**blank, "access_token": "EAAG-nuevo-token"}),
    )
    _reload(cast, account)
    assert account.credentials["access_token"] == "EAAG-nuevo-token"
    assert account.credentials["app_secret"] == SECRETS["app_secret"]
    update = _changes(cast)[-1]
    assert update.before == {"secrets_updated": []}
    assert update.after == {"secrets_updated": ["access_token"]}
    assert "EAAG-nuevo-token" not in json.dumps([update.before, update.after])


def test_sla_resolution_and_schedule_per_account(cast: Cast) -> None:
    with tenant_context(cast.tenant_a.pk):
        schedule = BusinessSchedule.objects.create(tenant=cast.tenant_a, name="Oficina")
    with bypass_context():
        other = BusinessSchedule.all_tenants.create(tenant=cast.tenant_b, name="Horario de B")
    account = _account(cast, kind="webchat", name="Chat")
    client = client_for(cast.admin)
    page = client.get(f"/admin/channels/{account.pk}/").content.decode()
    assert "Oficina" in page and "Horario de B" not in page
    response = client.post(
        f"/admin/channels/{account.pk}/",
        _post("webchat", sla_minutes="15", resolution_minutes="480", schedule=str(schedule.pk)),
    )
    assert response.status_code == 302
    _reload(cast, account)
    assert (account.sla_minutes, account.resolution_minutes) == (15, 480)
    assert account.schedule_id == schedule.pk
    # Another tenant's schedule is not a choice.
    response = client.post(
        f"/admin/channels/{account.pk}/", _post("webchat", schedule=str(other.pk))
    )
    assert response.status_code == 200 and "Escoja una opción válida" in response.content.decode()
    response = client.post(f"/admin/channels/{account.pk}/", _post("webchat", sla_minutes="-5"))
    assert "mayor o igual a 0" in response.content.decode()


def test_webchat_page_shows_the_snippet_and_page_link(cast: Cast) -> None:
    account = _account(
        cast, kind="webchat", name="Chat", settings={"allowed_origins": ["https://x.test"]}
    )
    page = client_for(cast.admin).get(f"/admin/channels/{account.pk}/").content.decode()
    assert f"/chat/{account.uuid}/widget.js" in page
    assert f'href="http://testserver/chat/{account.uuid}/"' in page
    assert "https://x.test" in page  # the allowed sites, editable


def test_disconnect_and_reconnect(cast: Cast) -> None:
    account = _account(
        cast, kind="webchat", name="Chat", settings={"allowed_origins": [], "greeting": "Hola"}
    )
    client = client_for(cast.admin)
    page = client.get(f"/admin/channels/{account.pk}/").content.decode()
    assert "siguen abiertos" in page and "las respuestas fallarán" in page  # the confirmation
    assert client.get(f"/admin/channels/{account.pk}/disconnect/").status_code == 405
    response = client.post(f"/admin/channels/{account.pk}/disconnect/", follow=True)
    _reload(cast, account)
    assert not account.active
    assert "desconectada" in response.content.decode()
    # Nothing is received: the public chat page is gone. Nothing is sent: replies fail.
    assert client.get(f"/chat/{account.uuid}/").status_code == 404
    with pytest.raises(ConnectorError) as failed:
        connector_for("webchat").send(account, None)  # type: ignore[arg-type]
    assert failed.value.permanent and "desconectada" in failed.value.reason
    client.post(f"/admin/channels/{account.pk}/disconnect/")  # twice: one audit entry
    client.post(f"/admin/channels/{account.pk}/reconnect/")
    _reload(cast, account)
    assert account.active
    assert client.get(f"/chat/{account.uuid}/").status_code == 200
    changes = _changes(cast)
    assert [(c.before, c.after) for c in changes] == [
        ({"active": True}, {"active": False}),
        ({"active": False}, {"active": True}),
    ]


def test_another_tenants_account_is_404_everywhere(cast: Cast) -> None:
    with bypass_context():
        theirs = ChannelAccount.all_tenants.create(
            tenant=cast.tenant_b, kind="email", name="Correo de B", credentials={"x": "y"}
        )
    client = client_for(cast.admin)
    base = f"/admin/channels/{theirs.pk}/"
    assert client.get(base).status_code == 404
    assert client.post(base, _post("email")).status_code == 404
    assert client.post(base + "disconnect/").status_code == 404
    assert client.post(base + "reconnect/").status_code == 404
    assert client.post(base + "emails/1/retry/").status_code == 404
    assert client.get(base + "emails/1/eml/").status_code == 404
    with bypass_context():
        theirs.refresh_from_db()
        assert theirs.active and theirs.name == "Correo de B"
    assert not _changes(cast)


def test_agents_and_analysts_cannot_change_channels(cast: Cast) -> None:
    account = _account(cast, kind="webchat", name="Chat")
    for user in (cast.agent, cast.analyst):
        client = client_for(user)
        assert client.get("/admin/channels/").status_code == 403
        assert client.post("/admin/channels/new/webchat/", _post("webchat")).status_code == 403
        assert client.post(f"/admin/channels/{account.pk}/disconnect/").status_code == 403
    _reload(cast, account)
    assert account.active
