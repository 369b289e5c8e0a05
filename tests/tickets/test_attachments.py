"""Attachments: refused on public replies, stored safely on private ones."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.conf import settings

from tests.tickets.helpers import events, receive
from tickets import services
from tickets.models import Attachment, Direction, EventKind, Message

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _file(name: str = "foto.png", content: bytes = PNG, content_type: str = "image/png"):
    return services.IncomingFile(name=name, content=content, content_type=content_type)


@pytest.fixture
def public_post(account):
    """A public comment of the customer (a post on a wall, a mention)."""
    return receive(account, text="¡Pésimo servicio!", provider_id="c-1", is_public=True).message


@pytest.mark.parametrize("how", ["reply_to", "explicit", "by_default"])
def test_attachments_are_refused_on_public_replies_with_a_clear_error(
    public_post, in_a, how, django_capture_on_commit_callbacks
):
    kwargs = {"reply_to": public_post} if how == "reply_to" else {}
    if how == "explicit":
        kwargs["is_public"] = True
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(services.ActionRefused) as err,
    ):
        services.message_send(
            ticket=public_post.ticket,
            author=in_a.agent,
            text="Le escribimos por privado",
            files=[_file()],
            **kwargs,
        )
    assert err.value.messages == ["Las respuestas públicas no pueden llevar adjuntos."]
    assert not Message.objects.filter(direction=Direction.OUT).exists()
    assert not Attachment.objects.exists()
    assert not events(public_post.ticket, EventKind.MESSAGE_OUT)
    assert callbacks == []


def test_a_public_reply_without_files_is_public(public_post, in_a):
    reply = services.message_send(
        ticket=public_post.ticket, author=in_a.agent, text="Lo sentimos", reply_to=public_post
    )
    assert reply.is_public is True
    (event,) = events(public_post.ticket, EventKind.MESSAGE_OUT)
    assert event.data["public"] is True


def test_a_private_reply_to_a_public_thread_may_carry_files(public_post, in_a):
    reply = services.message_send(
        ticket=public_post.ticket,
        author=in_a.agent,
        text="Le enviamos la boleta por privado",
        files=[_file("boleta.pdf", b"%PDF", "application/pdf")],
        is_public=False,
    )
    assert reply.is_public is False
    assert reply.attachments.get().name == "boleta.pdf"


def test_private_reply_attachments_are_stored_with_their_facts(account, in_a):
    ticket = receive(account).message.ticket
    report = b"id,monto\n1,1000\n"

    reply = services.message_send(
        ticket=ticket,
        author=in_a.agent,
        text="Adjunto lo pedido",
        files=[
            _file("foto.png"),
            _file("../../etc/passwd", report, "text/csv"),
            _file("C:\\Users\\ana\\Escritorio\\informe.csv", report, "text/csv"),
            _file("", b"sin nombre", ""),
        ],
    )

    stored = list(reply.attachments.order_by("id"))
    assert [a.name for a in stored] == ["foto.png", "passwd", "informe.csv", "adjunto"]
    photo, passwd, informe, unnamed = stored
    assert (photo.size, photo.content_type) == (len(PNG), "image/png")
    assert photo.sha256 == hashlib.sha256(PNG).hexdigest()
    assert photo.is_image
    assert (informe.size, informe.sha256) == (len(report), hashlib.sha256(report).hexdigest())
    assert unnamed.content_type == "application/octet-stream"
    media = Path(settings.MEDIA_ROOT).resolve()
    for attachment in stored:
        path = Path(attachment.file.path).resolve()
        # Inside the tenant's folder, under a random name: never the person's path.
        assert path.parent == media / "attachments" / str(in_a.tenant_a.pk)
        assert path.name not in {"passwd", "informe.csv", "foto.png"}
        assert len(attachment.token) >= 32
    with passwd.file.open("rb") as fh:
        assert fh.read() == report


def test_a_reply_with_only_a_file_shows_the_file_name_as_preview(account, in_a):
    ticket = receive(account).message.ticket
    long_name = "x" * 250 + ".pdf"
    services.message_send(
        ticket=ticket, author=in_a.agent, text="", files=[_file(f"/home/ana/{long_name}")]
    )
    ticket.refresh_from_db()
    assert ticket.last_message_preview == long_name[:200]
    assert Attachment.objects.get().name == long_name
