"""Parsing crafted emails: every shape ends in a ParsedEmail, never an exception."""

from __future__ import annotations

import base64

from channels_conn.email.parse import (
    MAX_DEPTH,
    normalize_subject,
    parse_email,
    strip_quoted,
)

PLAIN = (
    b"From: =?utf-8?q?Jos=C3=A9_P=C3=A9rez?= <Jose@Example.test>\r\n"
    b"To: soporte@tienda.test\r\n"
    b"Subject: =?iso-8859-1?q?Pedido_atrasado_=E1?=\r\n"
    b"Message-ID: <abc@example.test>\r\n"
    b"Date: Tue, 24 Nov 2026 10:00:00 -0300\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Hola, mi pedido no llega.\r\n\r\nEl lun, 23 nov 2026 escribi\xc3\xb3:\r\n> antes\r\n"
)


def test_plain_text_rfc2047_and_quoted_history() -> None:
    parsed = parse_email(PLAIN)
    assert parsed.from_name == "José Pérez"
    assert parsed.from_address == "jose@example.test"
    assert parsed.subject == "Pedido atrasado á"
    assert parsed.message_id == "abc@example.test"
    assert parsed.date is not None and parsed.date.utcoffset() is not None
    assert "> antes" in parsed.text  # the full text is kept
    assert parsed.preview_text == "Hola, mi pedido no llega."
    assert not parsed.auto_submitted and not parsed.is_bounce


def test_html_only_is_sanitized_and_gives_text() -> None:
    raw = (
        b"From: a@example.test\r\nSubject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<p>Hola <b>mundo</b></p><script>alert(1)</script><img src=x onerror=alert(1)>"
    )
    parsed = parse_email(raw)
    assert "<script" not in parsed.html and "onerror" not in parsed.html
    assert "<b>mundo</b>" in parsed.html
    assert parsed.text.startswith("Hola mundo")


def _multipart_with_files() -> bytes:
    png = base64.b64encode(b"\x89PNG fake").decode()
    pdf = base64.b64encode(b"%PDF-1.4 fake").decode()
    return (
        "From: a@example.test\r\nSubject: fotos\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="M"\r\n\r\n'
        '--M\r\nContent-Type: multipart/related; boundary="R"\r\n\r\n'
        '--R\r\nContent-Type: multipart/alternative; boundary="A"\r\n\r\n'
        "--A\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nVer imagen\r\n"
        '--A\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Ver <img src="cid:img1@x"></p>\r\n'
        "--A--\r\n"
        "--R\r\nContent-Type: image/png\r\nContent-ID: <img1@x>\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{png}\r\n--R--\r\n"
        "--M\r\nContent-Type: application/pdf\r\n"
        'Content-Disposition: attachment; filename="..\\\\..\\\\boleta.pdf"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{pdf}\r\n--M--\r\n"
    ).encode()


def test_multipart_with_attachment_and_inline_image() -> None:
    parsed = parse_email(_multipart_with_files())
    assert parsed.text.strip() == "Ver imagen"
    assert 'src="cid:img1@x"' in parsed.html
    by_type = {f.content_type: f for f in parsed.attachments}
    assert by_type["image/png"].content_id == "img1@x"
    assert by_type["image/png"].content == b"\x89PNG fake"
    assert by_type["application/pdf"].content == b"%PDF-1.4 fake"
    assert by_type["application/pdf"].name.endswith("boleta.pdf")


def test_iso_8859_1_and_windows_1252() -> None:
    latin = b"From: a@x.test\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nCami\xf3n\r\n"
    assert parse_email(latin).text.strip() == "Camión"
    cp = (
        b"From: a@x.test\r\nContent-Type: text/plain; charset=windows-1252\r\n\r\n"
        b"\x93ok\x94 \x80\r\n"
    )
    assert parse_email(cp).text.strip() == "\u201cok\u201d \u20ac"


def test_unknown_and_wrong_charsets_are_recovered() -> None:
    unknown = (
        b"From: a@x.test\r\nContent-Type: text/plain; charset=x-nonsense\r\n\r\nA\xc3\xb1o\r\n"
    )
    assert parse_email(unknown).text.strip() == "Año"
    wrong = b"From: a@x.test\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nA\xf1o \x80\r\n"
    assert parse_email(wrong).text.strip() in {"Año €", "A\ufffdo \ufffd"}


def test_mime_bomb_is_bounded() -> None:
    depth = MAX_DEPTH * 5
    head = "".join(
        f'--B{i}\r\nContent-Type: multipart/mixed; boundary="B{i + 1}"\r\n\r\n'
        for i in range(depth)
    )
    tail = "".join(f"--B{i}--\r\n" for i in reversed(range(depth + 1)))
    raw = (
        'From: a@x.test\r\nContent-Type: multipart/mixed; boundary="B0"\r\n\r\n'
        + head
        + f"--B{depth}\r\nContent-Type: text/plain\r\n\r\nfondo\r\n"
        + tail
    ).encode()
    parsed = parse_email(raw)
    assert parsed.text == ""  # below the depth bound: ignored, not a crash


def test_header_only_zero_bytes_and_malformed_date() -> None:
    header_only = parse_email(b"From: a@x.test\r\nSubject: solo\r\nDate: not a date\r\n")
    assert header_only.subject == "solo" and header_only.text == "" and header_only.date is None
    empty = parse_email(b"")
    assert empty.message_id == "" and empty.text == "" and empty.attachments == ()


def test_only_a_pdf_is_an_attachment() -> None:
    raw = (
        b"From: a@x.test\r\nContent-Type: application/pdf; name=f.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"%PDF") + b"\r\n"
    )
    parsed = parse_email(raw)
    assert [f.name for f in parsed.attachments] == ["f.pdf"]


def test_auto_reply_headers() -> None:
    base = b"From: a@x.test\r\nSubject: Fuera de oficina\r\n"
    for header in (
        b"Auto-Submitted: auto-replied",
        b"Precedence: bulk",
        b"X-Autoreply: yes",
        b"X-Autorespond: yes",
        b"List-Unsubscribe: <mailto:u@x.test>",
        b"Return-Path: <>",
        b"X-Auto-Response-Suppress: All",
    ):
        assert parse_email(base + header + b"\r\n\r\nhola").auto_submitted, header
    assert not parse_email(base + b"Auto-Submitted: no\r\n\r\nhola").auto_submitted


def bounce_of(original_id: str, *, headers_only: bool = False) -> bytes:
    """A delivery-status report about ``original_id`` (as MTAs write them)."""
    if headers_only:
        original = (
            "--D\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"Message-ID: <{original_id}>\r\nSubject: x\r\n\r\n"
        )
    else:
        original = (
            "--D\r\nContent-Type: message/rfc822\r\n\r\n"
            f"Message-ID: <{original_id}>\r\nSubject: x\r\n\r\ncuerpo\r\n"
        )
    return (
        "From: MAILER-DAEMON@mx.test\r\nSubject: Undelivered Mail\r\nReturn-Path: <>\r\n"
        "Message-ID: <bounce-" + original_id + ">\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="D"\r\n\r\n'
        "--D\r\nContent-Type: text/plain\r\n\r\nNo se pudo entregar.\r\n"
        "--D\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.test\r\n\r\n"
        "Final-Recipient: rfc822; nadie@x.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n" + original + "--D--\r\n"
    ).encode()


def test_bounce_finds_the_original_message_id() -> None:
    for headers_only in (False, True):
        parsed = parse_email(bounce_of("orig@tienda.test", headers_only=headers_only))
        assert parsed.is_bounce and parsed.auto_submitted
        assert parsed.bounce_original_id == "orig@tienda.test"
        assert "User unknown" in parsed.bounce_reason
        assert parsed.text.strip() == "No se pudo entregar."


def test_subject_helpers() -> None:
    assert normalize_subject("RE: RV: Fwd: Pedido") == "Pedido"
    assert parse_email(b"Subject: Re: [#1042] Pedido\r\n\r\n").ticket_number == 1042
    assert strip_quoted("> todo citado") == "> todo citado"
