"""Files sent on Instagram: the Send API gets a signed link to our server, Meta fetches the
file through it within the hour; altered, expired or inbound links are 404."""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import signing
from django.utils import timezone
from werkzeug import Response

from channels_conn.meta.files import SALT
from helpdesk.tenancy import tenant_context
from tests.meta.conftest import PAGE_TOKEN
from tests.meta.payloads import IG, body, messenger_event, post
from tickets import services
from tickets.models import Attachment, DeliveryStatus, Message

db = pytest.mark.django_db
IGSID = "IGSID77"
PUBLIC = "https://desk.example.test"


def _dm(client, process, mid: str, **message) -> Message:
    ts = int(timezone.now().timestamp() * 1000)
    event = messenger_event(page=IG, sender=IGSID, ts=ts, message={"mid": mid, **message})
    with process:
        assert post(client, body("instagram", event)).status_code == 200
    return Message.objects.select_related("ticket").get(provider_id=mid)


def _send_files(cast, ticket, *files) -> Message:
    message = services.message_send(
        ticket=ticket, author=cast.agent, text="Aquí va", files=list(files)
    )
    services.message_deliver(message_id=message.pk)
    message.refresh_from_db()
    return message


@db
def test_instagram_files_go_as_signed_links_meta_can_fetch(
    client, ig, process, cast, meta_settings, settings
):
    settings.PUBLIC_BASE_URL = PUBLIC
    seen: list[dict] = []

    def answer(request):
        seen.append(request.get_json())
        return Response(f'{{"message_id": "ig_out{len(seen)}"}}', content_type="application/json")

    meta_settings.expect_request(
        f"/v25.0/{IG}/messages", method="POST", headers={"Authorization": f"Bearer {PAGE_TOKEN}"}
    ).respond_with_handler(answer)
    with tenant_context(cast.tenant_a.pk):
        incoming = _dm(client, process, "ig_in1", text="¿Me mandas la boleta?")
        sent = _send_files(
            cast,
            incoming.ticket,
            services.IncomingFile(
                name="foto.jpg", content=b"\xff\xd8JPEG", content_type="image/jpeg"
            ),
            services.IncomingFile(
                name="boleta.pdf", content=b"%PDF-1", content_type="application/pdf"
            ),
        )
    assert (sent.status, sent.provider_id) == (DeliveryStatus.SENT, "ig_out1")
    kinds = [s["message"]["attachment"]["type"] for s in seen[:2]]
    assert kinds == ["image", "file"] and seen[2]["message"] == {"text": "Aquí va"}
    assert all(s["recipient"] == {"id": IGSID} and s["messaging_type"] == "RESPONSE" for s in seen)
    urls = [s["message"]["attachment"]["payload"]["url"] for s in seen[:2]]
    assert all(u.startswith(f"{PUBLIC}/webhooks/meta/files/") for u in urls)

    # Meta fetches them (no session, no tenant): the bytes, as a download that is never a page.
    photo = client.get(urlsplit(urls[0]).path)
    assert photo.status_code == 200 and b"".join(photo.streaming_content) == b"\xff\xd8JPEG"
    assert photo["Content-Type"] == "image/jpeg" and photo["X-Content-Type-Options"] == "nosniff"
    assert photo["Content-Disposition"].startswith("attachment")

    # Altered, expired, or naming a file a customer sent: nothing.
    path = urlsplit(urls[1]).path
    assert client.get(path[:-3] + "AAA/").status_code == 404
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        assert client.get(path).status_code == 404
    with tenant_context(cast.tenant_a.pk):
        inbound = Attachment.objects.create(
            tenant=cast.tenant_a,
            message=incoming,
            name="del-cliente.txt",
            size=3,
            content_type="text/plain",
            sha256="x",
            file="x.txt",
        )
    forged = signing.dumps([cast.tenant_a.pk, inbound.token], salt=SALT)
    assert client.get(f"/webhooks/meta/files/{forged}/").status_code == 404
    # A link of tenant A's file with tenant B's id opens nothing either (row-level security).
    with tenant_context(cast.tenant_a.pk):
        token = Attachment.objects.filter(message=sent).first().token
    crossed = signing.dumps([cast.tenant_b.pk, token], salt=SALT)
    assert client.get(f"/webhooks/meta/files/{crossed}/").status_code == 404


@db
def test_without_a_public_address_an_instagram_file_fails_saying_why(
    client, ig, process, cast, meta_settings, settings
):
    settings.PUBLIC_BASE_URL = ""
    with tenant_context(cast.tenant_a.pk):
        incoming = _dm(client, process, "ig_in2", text="hola")
        sent = _send_files(
            cast,
            incoming.ticket,
            services.IncomingFile(name="a.png", content=b"PNG", content_type="image/png"),
        )
    assert sent.status == DeliveryStatus.FAILED and "PUBLIC_BASE_URL" in sent.failure_reason
