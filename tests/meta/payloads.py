"""Webhook bodies exactly as Meta documents them (CHANNELS.md §0-3, Graph API v25.0), and a
helper that signs and posts them to the real endpoint."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from channels_conn.meta.signature import sign

SECRET = "platform-app-secret"
VERIFY = "verify-token-123"
WABA = "102290129340398"
NUMBER_A = "106540352242922"
NUMBER_B = "106540352242999"
PAGE = "448242228374517"
IG = "17841400000000001"
CUSTOMER = "56912345678"
TS = "1749416383"


def wa_envelope(number: str, value: dict[str, Any], waba: str = WABA) -> dict[str, Any]:
    return {
        "id": waba,
        "changes": [
            {
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881", "phone_number_id": number},
                    **value,
                },
            }
        ],
    }


def wa_message(
    number: str = NUMBER_A,
    *,
    wamid: str = "wamid.A1",
    sender: str = CUSTOMER,
    name: str = "Sheena Nelson",
    ts: str = TS,
    **item: Any,
) -> dict[str, Any]:
    """One inbound WhatsApp message; ``item`` gives its type and body (text by default)."""
    if "type" not in item:
        item = {"type": "text", "text": {"body": "Hola, ¿tienen otro color?"}, **item}
    return wa_envelope(
        number,
        {
            "contacts": [{"profile": {"name": name}, "wa_id": sender}],
            "messages": [{"from": sender, "id": wamid, "timestamp": ts, **item}],
        },
    )


def wa_status(
    wamid: str,
    status: str,
    number: str = NUMBER_A,
    errors: list[dict[str, Any]] | None = None,
    ts: str = "1750030073",
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": ts,
        "recipient_id": CUSTOMER,
    }
    if errors:
        item["errors"] = errors
    return wa_envelope(number, {"statuses": [item]})


def body(obj: str, *entries: dict[str, Any]) -> bytes:
    # Meta sends escaped unicode: sign and post exactly these bytes.
    return json.dumps({"object": obj, "entry": list(entries)}).encode()


def whatsapp(*entries: dict[str, Any]) -> bytes:
    return body("whatsapp_business_account", *entries)


def messenger_event(
    *, page: str = PAGE, sender: str = "6789012345", ts: int = 1749416383000, **event: Any
) -> dict[str, Any]:
    return {
        "id": page,
        "time": ts,
        "messaging": [
            {
                "sender": {"id": sender},
                "recipient": {"id": page},
                "timestamp": ts,
                **event,
            }
        ],
    }


def feed(value: dict[str, Any], page: str = PAGE) -> dict[str, Any]:
    return {"id": page, "time": 1742667607, "changes": [{"field": "feed", "value": value}]}


def comment(
    comment_id: str = "122131676912594941_1213590066982748",
    *,
    verb: str = "add",
    text: str = "¿Hacen envíos a Valdivia?",
    author: str = "7001",
    name: str = "Martina Rojas",
    parent: str | None = None,
    page: str = PAGE,
    created: int = 1742667604,
) -> dict[str, Any]:
    post = f"{page}_122131676912594941"
    return {
        "item": "comment",
        "verb": verb,
        "comment_id": comment_id,
        "post_id": post,
        "parent_id": parent or post,
        "from": {"id": author, "name": name},
        "message": text,
        "created_time": created,
        "post": {
            "permalink_url": f"https://www.facebook.com/{post}",
            "status_type": "added_photos",
        },
    }


def post(client: Client, raw: bytes, *, secret: str = SECRET, signature: str | None = None) -> Any:
    return client.post(
        "/webhooks/meta/",
        data=raw,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=signature if signature is not None else sign(raw, secret),
    )
