"""The Instagram connector: the Facebook one with Instagram's comment-reply edge
(``/{comment-id}/replies``) and the professional account as the sender.

Instagram takes a DM's file by URL only (no upload as Messenger has), so each attachment goes
as a signed link Meta fetches from us within the hour (:mod:`channels_conn.meta.files`)."""

from __future__ import annotations

from typing import Any

from channels_conn.messenger.connector import MetaPageConnector, page_token
from channels_conn.messenger.receive import own_id
from channels_conn.meta import graph
from channels_conn.meta.files import file_link
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind

KINDS = ("image", "audio", "video")


class InstagramConnector(MetaPageConnector):
    kind = ChannelKind.INSTAGRAM.value
    reply_edge = "replies"

    def _send_file(self, account: ChannelAccount, body: dict[str, Any], attachment: Any) -> str:
        major = attachment.content_type.split("/")[0]
        message = {
            "attachment": {
                "type": major if major in KINDS else "file",
                "payload": {"url": file_link(attachment)},
            }
        }
        answer = graph.call(
            "POST",
            f"/{own_id(account)}/messages",
            token=page_token(account),
            json={**body, "message": message},
        )
        return str(answer.get("message_id") or "")


instagram_connector = InstagramConnector()
