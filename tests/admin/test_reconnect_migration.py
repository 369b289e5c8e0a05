"""The «Reconectar» marks set before the one convention (X's ``TwitterState.reconnect_reason``,
Meta's ``settings["reconnect"]``) move onto the account when the migration runs: nothing an
admin was told today is lost."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from channels_conn.twitter.models import TwitterState
from deskconfig.accounts import ChannelAccount
from helpdesk.dbroles import as_owner
from helpdesk.tenancy import bypass_context

pytestmark = pytest.mark.django_db(transaction=True)

X_REASON = "X rechazó las credenciales de la cuenta (error 401): reconecta la cuenta."
META_REASON = "El token de acceso venció o fue revocado: reconecta la cuenta."


def _sql(statement: str, params: list[object]) -> None:
    with as_owner(), bypass_context(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_the_old_marks_move_onto_the_account(cast) -> None:
    with bypass_context():
        x = ChannelAccount.all_tenants.create(
            tenant=cast.tenant_a, kind="twitter", name="@Tienda", active=False
        )
        TwitterState.all_tenants.create(tenant=cast.tenant_a, account=x)
        wa = ChannelAccount.all_tenants.create(
            tenant=cast.tenant_b, kind="whatsapp", name="WhatsApp B", settings={"waba_id": "9"}
        )
        calm = ChannelAccount.all_tenants.create(tenant=cast.tenant_a, kind="email", name="Mail")
    call_command("migrate", "channels_conn", "0006_meta5_pending_events", verbosity=0)
    try:
        _sql(
            "UPDATE twitter_twitterstate SET reconnect_reason = %s WHERE account_id = %s",
            [X_REASON, x.pk],
        )
        _sql(
            "UPDATE channels_conn_channelaccount SET settings = settings || "
            "jsonb_build_object('reconnect', %s::text) WHERE id = %s",
            [META_REASON, wa.pk],
        )
    finally:
        call_command("migrate", verbosity=0)
    with bypass_context():
        x.refresh_from_db()
        wa.refresh_from_db()
        calm.refresh_from_db()
    assert x.reconnect_reason == X_REASON and x.reconnect_since is not None
    assert not x.active  # X had switched it off: the admin's «Reconectar» turns it back on
    assert wa.reconnect_reason == META_REASON and wa.reconnect_since is not None
    assert wa.settings == {"waba_id": "9"}  # the old key is gone, the rest kept
    assert calm.reconnect_reason == "" and calm.reconnect_since is None
