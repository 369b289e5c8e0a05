"""Publishing on a Facebook page through Graph: ``POST /{page-id}/feed`` (text) or
``/{page-id}/photos`` (an image with its caption), at ``GRAPH_API_BASE_URL``.

A minimal client of its own, with timeouts, so scheduled posts do not wait for the Meta
connector (channels_conn/meta); once that lands, this can call its session instead. The page
token goes in the Authorization header, never in a URL or an error."""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings
from django.utils.translation import gettext as _

from channels_conn.base import ConnectorError, ensure_active
from channels_conn.twitter.connector import Published
from deskconfig.accounts import ChannelAccount

DEFAULT_GRAPH_VERSION = "v25.0"  # GRAPH_API_VERSION, when the settings define it
TIMEOUT = (5.0, 30.0)


def _graph_error(response: requests.Response) -> ConnectorError:
    try:
        error: dict[str, Any] = response.json().get("error") or {}
    except ValueError:
        error = {}
    code = error.get("code")
    message = str(error.get("message") or response.reason or "")[:300]
    if code == 190:
        reason = _(
            "El token de la página venció o fue revocado (Facebook, código 190): genera uno "
            "nuevo y guárdalo en Administración > Canales."
        )
    elif code in (10, 200) or response.status_code == 403:
        reason = _("Facebook no permite publicar en la página (falta un permiso): %(m)s") % {
            "m": message
        }
    else:
        reason = _("Facebook no aceptó la publicación (%(code)s): %(m)s") % {
            "code": code or response.status_code,
            "m": message,
        }
    return ConnectorError(reason, permanent=response.status_code < 500)


def page_publish(
    account: ChannelAccount, *, text: str, image: tuple[str, bytes] | None = None
) -> Published:
    """Publish ``text`` (and ``image``) on the account's page now. Raises ConnectorError."""
    ensure_active(account)
    page_id = str((account.settings or {}).get("page_id") or "")
    creds: Any = account.credentials if isinstance(account.credentials, dict) else {}
    token = str(creds.get("page_access_token") or "")
    if not page_id or not token:
        raise ConnectorError(
            _("Falta el ID o el token de la página en Administración > Canales."),
            permanent=True,
        )
    version = getattr(settings, "GRAPH_API_VERSION", "") or DEFAULT_GRAPH_VERSION
    base = f"{settings.GRAPH_API_BASE_URL.rstrip('/')}/{version}/{page_id}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        if image is None:
            response = requests.post(
                f"{base}/feed", data={"message": text}, headers=headers, timeout=TIMEOUT
            )
        else:
            name, content = image
            response = requests.post(
                f"{base}/photos",
                data={"caption": text},
                files={"source": (name, content)},
                headers=headers,
                timeout=TIMEOUT,
            )
    except requests.RequestException as exc:
        raise ConnectorError(
            _("No se pudo conectar con Facebook (%(error)s).") % {"error": type(exc).__name__},
            permanent=False,
        ) from exc
    if not response.ok:
        raise _graph_error(response)
    data: dict[str, Any] = response.json()
    post_id = str(data.get("post_id") or data.get("id") or "")
    return Published(post_id, f"https://www.facebook.com/{post_id}")
