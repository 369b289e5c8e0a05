"""The Instagram connector: the Facebook one with Instagram's comment-reply edge
(``/{comment-id}/replies``) and the professional account as the sender."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from channels_conn.base import ConnectorError
from channels_conn.messenger.connector import MetaPageConnector
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind


class InstagramConnector(MetaPageConnector):
    kind = ChannelKind.INSTAGRAM.value
    reply_edge = "replies"

    def _send_file(self, account: ChannelAccount, body: dict[str, Any], attachment: Any) -> str:
        # Instagram takes attachments by public URL only; ours are private to the tenant.
        raise ConnectorError(
            _("Instagram no acepta adjuntos subidos desde aquí: envía solo el texto."),
            permanent=True,
        )


instagram_connector = InstagramConnector()
