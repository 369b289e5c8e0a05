"""Class 5: every part in its place."""

from __future__ import annotations

import base64

from tests.channels.corpus.build import Case, Expect, mail, multipart, part, tnef

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4 boleta\n%%EOF\n"
INNER = (
    b"From: Banco <avisos@banco.test>\r\nTo: ana@cliente.test\r\nSubject: Cartola\r\n"
    b"Message-ID: <inner@banco.test>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="IN"\r\n\r\n'
    b"--IN\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSu cartola adjunta.\r\n"
    b'--IN\r\nContent-Type: application/pdf; name="cartola.pdf"\r\n'
    b'Content-Disposition: attachment; filename="cartola.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\n"
    + base64.encodebytes(PDF).replace(b"\n", b"\r\n")
    + b"--IN--\r\n"
)


def _case(name: str, cite: str, raw: bytes, expect: Expect) -> Case:
    return Case(name=name, cite=cite, msgid=f"{name}@cliente.test", mails=(raw,), expect=expect)


def _att(ctype: str, filename_header: str, data: bytes) -> bytes:
    return part(
        ctype, data, headers=f"Content-Disposition: attachment; {filename_header}\r\n", b64=True
    )


CASES = [
    _case(
        "mixed-text-image-text",
        "https://github.com/ikvk/imap_tools/issues/247",
        multipart(
            "mixed-text-image-text@cliente.test",
            [
                part("text/plain; charset=utf-8", "Miren esta foto:"),
                part(
                    "image/png; name=foto.png",
                    PNG,
                    headers="Content-Disposition: inline; filename=foto.png\r\n",
                    b64=True,
                ),
                part("text/plain; charset=utf-8", "¿Se ve el daño?"),
            ],
        ),
        Expect(text=("Miren esta foto:", "¿Se ve el daño?"), files=("foto.png",)),
    ),
    _case(
        "mixed-text-and-html-footer",
        "https://github.com/nextcloud/mail/issues/12655",
        multipart(
            "mixed-text-and-html-footer@cliente.test",
            [
                part("text/plain; charset=utf-8", "El mensaje de verdad."),
                part("text/html; charset=utf-8", "<p>Pie de la lista de correo</p>"),
            ],
        ),
        Expect(shown=("El mensaje de verdad.", "Pie de la lista de correo"), no_files=True),
    ),
    _case(
        "multipart-without-boundary",
        "https://github.com/discourse/discourse/pull/27599",
        mail(
            "multipart-without-boundary@cliente.test",
            "Texto sin frontera.",
            ctype="multipart/mixed",
        ),
        Expect(text=("Texto sin frontera.",), no_files=True),
    ),
    _case(
        "cid-inline-image",
        "https://github.com/linagora/tmail-flutter/issues/3369 (RFC 2392)",
        multipart(
            "cid-inline-image@cliente.test",
            [
                part(
                    "text/html; charset=utf-8", '<p>Logo:</p><img src="cid:image001.png@01DB5155">'
                ),
                part("image/png", PNG, headers="Content-ID: <image001.png@01DB5155>\r\n", b64=True),
            ],
            subtype="related",
        ),
        Expect(shown=("Logo:",), files=("adjunto-1.png",)),
    ),
    _case(
        "forwarded-rfc822-with-attachment",
        "RFC 2046 §5.2.1; https://github.com/verdammelt/tnef/issues/47",
        multipart(
            "forwarded-rfc822-with-attachment@cliente.test",
            [
                part("text/plain; charset=utf-8", "Les reenvío el correo del banco."),
                part(
                    "message/rfc822",
                    INNER,
                    headers='Content-Disposition: attachment; filename="Cartola.eml"\r\n',
                ),
            ],
        ),
        Expect(
            files=("Cartola.eml", "cartola.pdf"),
            file_bytes={"Cartola.eml": INNER, "cartola.pdf": PDF},
        ),
    ),
    _case(
        "tnef-winmail-dat",
        "https://github.com/zammad/zammad/issues/2403",
        multipart(
            "tnef-winmail-dat@cliente.test",
            [
                part("text/plain; charset=utf-8", "Adjunto informe."),
                _att(
                    "application/ms-tnef; name=winmail.dat",
                    "filename=winmail.dat",
                    tnef([("informe.docx", b"PK docx"), ("foto año.jpg", b"JPEG")]),
                ),
            ],
        ),
        Expect(files=("informe.docx", "foto año.jpg"), file_bytes={"informe.docx": b"PK docx"}),
    ),
    _case(
        "filename-nul-and-traversal",
        "https://github.com/Unstructured-IO/unstructured/pull/4117",
        multipart(
            "filename-nul-and-traversal@cliente.test",
            [
                part("text/plain; charset=utf-8", "Va el archivo."),
                # IMAP cannot carry a raw NUL (RFC 3501 §4.3): it arrives percent-encoded.
                _att("text/plain", "filename*=utf-8''..%2F..%2Fetc%2Fpass%00wd.txt", b"contenido"),
            ],
        ),
        Expect(files=("passwd.txt",), text=("Va el archivo.",)),
    ),
    _case(
        "filename-windows-path",
        "https://github.com/floatpane/matcha/pull/743",
        multipart(
            "filename-windows-path@cliente.test",
            [
                part("text/plain; charset=utf-8", "Boleta adjunta."),
                _att("application/pdf", 'filename="C:\\Users\\ana\\boleta.pdf"', PDF),
            ],
        ),
        Expect(files=("boleta.pdf",), file_bytes={"boleta.pdf": PDF}),
    ),
    _case(
        "filename-rfc2231",
        "RFC 2231 §4 (charset in parameter values)",
        multipart(
            "filename-rfc2231@cliente.test",
            [
                part("text/plain; charset=utf-8", "Factura."),
                _att("application/pdf", "filename*=utf-8''factura%20a%C3%B1o.pdf", PDF),
            ],
        ),
        Expect(files=("factura año.pdf",)),
    ),
    _case(
        "filename-encoded-word",
        "https://github.com/mikel/mail/issues/233 (RFC 2047 in a name)",
        multipart(
            "filename-encoded-word@cliente.test",
            [
                part("text/plain; charset=utf-8", "Cotización."),
                _att("application/pdf", 'filename="=?utf-8?Q?cotizaci=C3=B3n.pdf?="', PDF),
            ],
        ),
        Expect(files=("cotización.pdf",)),
    ),
    _case(
        "text-attachment-is-a-file",
        "https://github.com/pazz/alot/issues/481",
        multipart(
            "text-attachment-is-a-file@cliente.test",
            [
                part("text/plain; charset=utf-8", "Les mando el log."),
                _att("text/plain; charset=utf-8", 'filename="error.log"', b"Traceback..."),
            ],
        ),
        Expect(files=("error.log",), shown=("Les mando el log.",)),
    ),
    _case(
        "html-only",
        "https://github.com/tomwardill/FakeEmail/issues/6 (a body in one form only)",
        mail(
            "html-only@cliente.test",
            "<p>Solo <b>HTML</b> aquí</p>",
            ctype="text/html; charset=utf-8",
        ),
        Expect(shown=("Solo HTML aquí",), text=("Solo HTML aquí",)),
    ),
    _case(
        "alternative-in-mixed-with-pdf",
        "https://github.com/discourse/discourse/pull/27599",
        multipart(
            "alternative-in-mixed-with-pdf@cliente.test",
            [
                b'Content-Type: multipart/alternative; boundary="ALT"\r\n\r\n'
                b"--ALT\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nVersi\xc3\xb3n texto\r\n"
                b"--ALT\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
                b"<p>Versi\xc3\xb3n HTML</p>\r\n"
                b"--ALT--",
                _att("application/pdf", 'filename="orden.pdf"', PDF),
            ],
        ),
        Expect(shown=("Versión HTML",), text=("Versión texto",), files=("orden.pdf",)),
    ),
    _case(
        "nul-byte-in-body",
        "https://github.com/zbateson/mail-mime-parser/issues/114",
        mail(
            "nul-byte-in-body@cliente.test",
            base64.b64encode(b"antes\x00despues"),
            ctype="text/plain; charset=utf-8",
            cte="base64",
        ),
        Expect(text=("antesdespues",)),
    ),
]
