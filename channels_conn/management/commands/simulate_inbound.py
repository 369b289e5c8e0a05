"""``manage.py simulate_inbound``: post a realistic, signed Meta webhook to a running server.

For trying WhatsApp, Messenger, Instagram and page comments without Meta::

    manage.py simulate_inbound whatsapp --from +56912345678 "Hola"
    manage.py simulate_inbound messenger --from 6789012345 "¿Tienen stock?"
    manage.py simulate_inbound instagram --from 17840000000001 "Me encantó"
    manage.py simulate_inbound comment --from 7001 --name "Martina Rojas" "¿Envían a Valdivia?"
    manage.py simulate_inbound whatsapp --status read --wamid wamid.XXXX

The body has Meta's documented shape (CHANNELS.md), is signed with the account's own app
secret or the platform's ``META_APP_SECRET``, and goes to ``--url`` (the local server of
``make run`` by default), which stores it and processes it like a real one. Replies the agents
send go to ``GRAPH_API_BASE_URL`` (Meta itself unless you point it elsewhere).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels_conn.meta.routing import ID_KEY, own_secret
from channels_conn.meta.signature import sign
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from helpdesk.tenancy import bypass_context

KINDS = {
    "whatsapp": ChannelKind.WHATSAPP,
    "messenger": ChannelKind.FACEBOOK,
    "comment": ChannelKind.FACEBOOK,
    "instagram": ChannelKind.INSTAGRAM,
}


def _account(kind: str, ident: str | None) -> ChannelAccount:
    key = ID_KEY[KINDS[kind]]
    with bypass_context():
        accounts = ChannelAccount.all_tenants.filter(kind=KINDS[kind], active=True)
        if ident:
            accounts = accounts.filter(**{f"settings__{key}": ident})
        account = accounts.exclude(**{f"settings__{key}": ""}).order_by("id").first()
    if account is None or not (account.settings or {}).get(key):
        raise CommandError(
            f"No hay una cuenta {kind} activa con «{key}»: créala en Administración > Canales."
        )
    return account


def whatsapp_body(
    account: ChannelAccount, sender: str, name: str, text: str, opts: dict[str, Any]
) -> dict[str, Any]:
    s = account.settings or {}
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": str(s.get("display_phone_number") or "15550783881"),
            "phone_number_id": str(s["phone_number_id"]),
        },
    }
    now = str(int(time.time()))
    if opts["status"]:
        if not opts["wamid"]:
            raise CommandError("--status necesita --wamid (el id del mensaje enviado).")
        value["statuses"] = [
            {
                "id": opts["wamid"],
                "status": opts["status"],
                "timestamp": now,
                "recipient_id": sender,
            }
        ]
    else:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": sender}]
        value["messages"] = [
            {
                "from": sender,
                "id": f"wamid.SIM{uuid.uuid4().hex.upper()}",
                "timestamp": now,
                "type": "text",
                "text": {"body": text},
            }
        ]
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": str(s.get("waba_id") or "0"), "changes": [{"field": "messages", "value": value}]}
        ],
    }


def messaging_body(account: ChannelAccount, kind: str, sender: str, text: str) -> dict[str, Any]:
    own = str((account.settings or {})[ID_KEY[KINDS[kind]]])
    ms = int(time.time() * 1000)
    return {
        "object": "instagram" if kind == "instagram" else "page",
        "entry": [
            {
                "id": own,
                "time": ms,
                "messaging": [
                    {
                        "sender": {"id": sender},
                        "recipient": {"id": own},
                        "timestamp": ms,
                        "message": {"mid": f"m_SIM{uuid.uuid4().hex}", "text": text},
                    }
                ],
            }
        ],
    }


def comment_body(
    account: ChannelAccount, sender: str, name: str, text: str, post_id: str
) -> dict[str, Any]:
    page = str((account.settings or {})["page_id"])
    post = post_id or f"{page}_1000000001"
    return {
        "object": "page",
        "entry": [
            {
                "id": page,
                "time": int(time.time()),
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "comment_id": f"{post.split('_')[-1]}_{uuid.uuid4().int % 10**15}",
                            "post_id": post,
                            "parent_id": post,
                            "from": {"id": sender, "name": name},
                            "message": text,
                            "created_time": int(time.time()),
                        },
                    }
                ],
            }
        ],
    }


class Command(BaseCommand):
    help = "Posts a realistic, signed Meta webhook (WhatsApp, Messenger, Instagram, comment)."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # The kind, options, then the text ("whatsapp --from X Hola"): positionals around
        # options need argparse's intermixed parsing.
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.parse_args = parser.parse_intermixed_args  # type: ignore[method-assign]
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "words", nargs="+", metavar="kind [text]", help=" | ".join(sorted(KINDS))
        )
        parser.add_argument("--from", dest="sender", default="", help="teléfono, PSID o IGSID")
        parser.add_argument("--name", default="Cliente de prueba")
        parser.add_argument("--to", default=None, help="ID del número, página o cuenta")
        parser.add_argument("--post", default="", help="ID de la publicación (comment)")
        parser.add_argument("--status", choices=["sent", "delivered", "read", "failed"])
        parser.add_argument("--wamid", default="")
        port = os.environ.get("PORT", "8000")
        parser.add_argument("--url", default=f"http://127.0.0.1:{port}/webhooks/meta/")

    def handle(self, *args: Any, **opts: Any) -> None:
        kind, *words = opts["words"]
        if kind not in KINDS:
            raise CommandError(f"Canal desconocido «{kind}»: usa {', '.join(sorted(KINDS))}.")
        opts["text"] = " ".join(words) or "Hola, necesito ayuda con mi pedido"
        account = _account(kind, opts["to"])
        sender = "".join(ch for ch in opts["sender"] if ch.isalnum()) or {
            "whatsapp": "56912345678",
            "instagram": "17840000000001",
        }.get(kind, "6789012345")
        if kind == "whatsapp":
            payload = whatsapp_body(account, sender, opts["name"], opts["text"], opts)
        elif kind == "comment":
            payload = comment_body(account, sender, opts["name"], opts["text"], opts["post"])
        else:
            payload = messaging_body(account, kind, sender, opts["text"])
        raw = json.dumps(payload).encode()  # escaped unicode, as Meta sends it
        secret = own_secret(account) or settings.META_APP_SECRET
        if not secret:
            raise CommandError("Define META_APP_SECRET (o la clave propia de la cuenta).")
        try:
            response = requests.post(
                opts["url"],
                data=raw,
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": sign(raw, secret),
                },
                timeout=10,
            )
        except requests.RequestException as exc:
            raise CommandError(f"No se pudo conectar con {opts['url']}: {exc}") from None
        self.stdout.write(
            f"{response.status_code} {response.text[:80]}  ← {kind} para «{account.name}»"
        )
        if response.status_code != 200:
            raise CommandError("El servidor rechazó el webhook.")
