"""Class 4: decoding that doesn't lie (bodies, encoded-words, display names)."""

from __future__ import annotations

import base64

from tests.channels.corpus.build import Case, Expect, mail


def _body(
    name: str, cite: str, payload: bytes, ctype: str, expected: str, *, cte: str = "8bit"
) -> Case:
    msgid = f"{name}@cliente.test"
    return Case(
        name=name,
        cite=cite,
        msgid=msgid,
        mails=(mail(msgid, payload, ctype=ctype, cte=cte),),
        expect=Expect(shown=(expected,), text=(expected,)),
    )


def _subject(name: str, cite: str, raw_subject: str, expected: str) -> Case:
    msgid = f"{name}@cliente.test"
    return Case(
        name=name,
        cite=cite,
        msgid=msgid,
        mails=(mail(msgid, "Cuerpo.", subject=raw_subject),),
        expect=Expect(subject=expected),
    )


def _b64(text: bytes) -> str:
    return base64.b64encode(text).decode()


CASES = [
    _body(
        "cp1252-labelled-utf8",
        "https://github.com/mikel/mail/issues/1645",
        "Año nuevo, cuota de €50 \u2013 «urgente»".encode("cp1252"),
        "text/plain; charset=utf-8",
        "Año nuevo, cuota de €50 \u2013 «urgente»",
    ),
    _body(
        "utf8-labelled-latin1",
        "https://github.com/huacnlee/omamail/pull/87",
        "La canción llegó dañada".encode(),
        "text/plain; charset=iso-8859-1",
        "La canción llegó dañada",
    ),
    _body(
        "utf8-labelled-windows-1252-html",
        "https://github.com/macro-inc/macro/pull/6133",
        "<p>• Envío rápido • Año</p>".encode(),
        "text/html; charset=windows-1252",
        "• Envío rápido • Año",
    ),
    _body(
        "unknown-charset-label",
        "https://github.com/mikel/mail/issues/363 (labels nobody knows)",
        "Mañana sin falta".encode(),
        "text/plain; charset=x-nonsense",
        "Mañana sin falta",
    ),
    _body(
        "no-charset-utf8-bytes",
        "RFC 2045 §5.2 (default us-ascii, but 8-bit bytes arrive)",
        "Información del envío".encode(),
        "text/plain",
        "Información del envío",
    ),
    _body(
        "no-charset-latin1-bytes",
        "RFC 2045 §5.2 (default us-ascii, but Latin-1 bytes arrive)",
        "Dirección: Ñuñoa".encode("latin-1"),
        "text/plain",
        "Dirección: Ñuñoa",
    ),
    _body(
        "utf8-bom",
        "https://github.com/chatmail/core/issues/2455 (decoding leftovers shown)",
        b"\xef\xbb\xbfHola con BOM",
        "text/plain; charset=utf-8",
        "Hola con BOM",
    ),
    _body(
        "quoted-printable-cp1252",
        "https://github.com/mikel/mail/issues/363 (=85 in cp1252)",
        b"Escribo un script=85 y falla",
        "text/plain; charset=windows-1252",
        "Escribo un script… y falla",
        cte="quoted-printable",
    ),
    _subject(
        "encoded-word-split-multibyte",
        "https://github.com/zammad/zammad/issues/2953 (a character split across words)",
        "=?utf-8?B?"
        + _b64("Behö".encode()[:4])
        + "?=\r\n =?utf-8?B?"
        + _b64("Behörden".encode()[4:])
        + "?=",
        "Behörden",
    ),
    _subject(
        "encoded-word-bad-padding",
        "https://github.com/manusa/isotope-mail/issues/137 (malformed encoded-words)",
        "=?utf-8?B?" + _b64("Devolución".encode()).rstrip("=") + "?=",
        "Devolución",
    ),
    _subject(
        "encoded-word-cp1252-labelled-utf8",
        "https://github.com/mikel/mail/issues/233 (wrong charset in an encoded-word)",
        "=?utf-8?Q?Cami=F3n_atrasado?=",
        "Camión atrasado",
    ),
    _subject(
        "encoded-word-windows-1252-ellipsis",
        "https://github.com/mikel/mail/issues/233",
        "=?windows-1252?Q?Re=3A_Hola_a_todos=85?=",
        "Re: Hola a todos…",
    ),
    _subject(
        "empty-encoded-word",
        "https://github.com/thunderbird/thunderbird-android/issues/3189",
        "=?UTF-8?Q??= =?UTF-8?Q?Confirmaci=C3=B3n?=",
        "Confirmación",
    ),
    _subject(
        "raw-utf8-subject",
        "RFC 6532 §3.2 (UTF-8 in header fields)",
        "Reclamo por envío",
        "Reclamo por envío",
    ),
    Case(
        name="display-name-unquoted-comma",
        cite="https://github.com/python/cpython/issues/143938",
        msgid="comma@cliente.test",
        mails=(mail("comma@cliente.test", sender="Pérez, Juan <juan@cliente.test>"),),
        expect=Expect(customer="juan@cliente.test", customer_name="Pérez, Juan"),
    ),
    Case(
        name="display-name-encoded-comma",
        cite="https://github.com/modoboa/modoboa/pull/4179 (an encoded comma in a name)",
        msgid="enc-comma@cliente.test",
        mails=(
            mail(
                "enc-comma@cliente.test",
                sender="=?utf-8?q?Mu=C3=B1oz=2C_Mar=C3=ADa?= <maria@cliente.test>",
            ),
        ),
        expect=Expect(customer="maria@cliente.test", customer_name="Muñoz, María"),
    ),
    Case(
        name="display-name-latin1-8bit",
        cite="RFC 6532 §3.2 with https://github.com/mikel/mail/issues/1645 (8-bit, not UTF-8)",
        msgid="name8@cliente.test",
        mails=(
            b"From: Jos\xe9 N\xfa\xf1ez <jose@cliente.test>\r\nTo: soporte@tienda.test\r\n"
            b"Subject: Consulta\r\nMessage-ID: <name8@cliente.test>\r\n"
            b"Content-Type: text/plain\r\n\r\nHola\r\n",
        ),
        expect=Expect(customer="jose@cliente.test", customer_name="José Núñez"),
    ),
]
