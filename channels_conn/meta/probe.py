"""«Probar conexión» of a Meta account: one Graph call with the stored token, and in Spanish
what is wrong (token expired, a missing permission, a wrong id)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from channels_conn.email.probe import ProbeResult
from channels_conn.meta import graph
from channels_conn.meta.errors import is_auth_failure
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.reconnect import account_reconnect_needed

CALLS = {
    ChannelKind.WHATSAPP: ("phone_number_id", "display_phone_number,verified_name", "WhatsApp"),
    ChannelKind.FACEBOOK: ("page_id", "name", "Facebook"),
    ChannelKind.INSTAGRAM: ("instagram_account_id", "username", "Instagram"),
}


def account_token(account: ChannelAccount) -> str:
    creds: dict[str, Any] = account.credentials if isinstance(account.credentials, dict) else {}
    return str(creds.get("access_token") or creds.get("page_access_token") or "")


def probe_meta(account: ChannelAccount) -> ProbeResult:
    key, fields, service = CALLS[ChannelKind(account.kind)]
    ident = str((account.settings or {}).get(key) or "")
    if not ident:
        return ProbeResult(service, False, _("Falta el identificador de la cuenta."))
    try:
        answer = graph.call(
            "GET", f"/{ident}", token=account_token(account), params={"fields": fields}
        )
    except graph.GraphError as exc:
        if is_auth_failure(exc.code):  # the stored token was refused: «Reconectar»
            account_reconnect_needed(account=account, reason=_explain(exc))
        return ProbeResult(service, False, _explain(exc))
    name = " · ".join(str(answer[f]) for f in fields.split(",") if answer.get(f))
    return ProbeResult(service, True, _("Conectada: %(name)s.") % {"name": name or ident})


def _explain(exc: graph.GraphError) -> str:
    if exc.status == 0:
        return _("No se pudo conectar con la API de Meta (%(what)s).") % {"what": exc.message}
    if is_auth_failure(exc.code):
        return _("El token de acceso venció o no es válido: genera uno nuevo en Meta y guárdalo.")
    if exc.code in (10, 200) or 200 <= exc.code < 300:
        return _("Al token le falta un permiso en Meta: %(text)s") % {"text": exc.message}
    if exc.code in (100, 803):
        return _("Meta no encuentra ese identificador con este token: revisa el ID.")
    return _("Meta respondió con un error (código %(code)s): %(text)s") % {
        "code": exc.code,
        "text": exc.message,
    }
