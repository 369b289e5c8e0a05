"""Files we send to Instagram: its Send API takes an attachment by URL only, so Meta fetches
the file from us through a signed link that names the tenant and the attachment's random token
and expires within the hour. Nothing else opens: a link that was altered, expired, or names an
inbound file is a 404, and the file always downloads (never rendered as a page)."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from channels_conn.base import ConnectorError
from helpdesk.tenancy import tenant_context
from tickets.models import Attachment, Direction

SALT = "channels_conn.meta.files"
LINK_SECONDS = 3600


def file_link(attachment: Attachment) -> str:
    """The public, expiring URL Meta fetches ``attachment`` from."""
    base = str(settings.PUBLIC_BASE_URL or "").rstrip("/")
    if not base:
        raise ConnectorError(
            _(
                "Instagram descarga los adjuntos desde este servidor: falta la dirección pública "
                "del sitio (PUBLIC_BASE_URL)."
            ),
            permanent=True,
        )
    token = signing.dumps([attachment.tenant_id, attachment.token], salt=SALT)
    return base + reverse("channels_conn:meta_file", args=[token])


def file_for_link(token: str) -> Attachment | None:
    """The outbound attachment a still-valid link names, read inside its tenant (None otherwise)."""
    try:
        tenant_id, attachment_token = signing.loads(token, salt=SALT, max_age=LINK_SECONDS)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    with tenant_context(int(tenant_id)):
        return Attachment.objects.filter(
            token=str(attachment_token), message__direction=Direction.OUT
        ).first()
