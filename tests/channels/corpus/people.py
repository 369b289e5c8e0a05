"""Class 6 (who to answer) and class 7 (nothing dropped by deduplication)."""

from __future__ import annotations

from tests.channels.corpus.build import Case, Expect, mail

DUP = "dup@cliente.test"

CASES = [
    Case(
        name="reply-to-web-form",
        cite="https://github.com/BadChoice/handesk/issues/295 (web form relays)",
        msgid="form@web.test",
        mails=(
            mail(
                "form@web.test",
                "Nombre: Carla\nMensaje: quiero cotizar",
                subject="Formulario",
                sender="Formulario web <noreply@web.test>",
                headers="Reply-To: Carla Soto <carla@cliente.test>\r\n",
            ),
        ),
        expect=Expect(customer="carla@cliente.test", participants=("noreply@web.test",)),
    ),
    Case(
        name="reply-to-is-our-own-address",
        cite="https://github.com/PostHog/posthog/pull/92017 (our own address as requester)",
        msgid="rt-own@cliente.test",
        mails=(mail("rt-own@cliente.test", headers="Reply-To: soporte@tienda.test\r\n"),),
        expect=Expect(customer="ana@cliente.test", participants=()),
    ),
    Case(
        name="cc-participants",
        cite="https://github.com/frappe/helpdesk/pull/3628 (Cc kept on replies)",
        msgid="cc@cliente.test",
        mails=(
            mail(
                "cc@cliente.test",
                headers="Cc: Jefe <jefe@cliente.test>, soporte@tienda.test,"
                ' "Ríos, Pablo" <pablo@cliente.test>\r\n',
            ),
        ),
        expect=Expect(participants=("jefe@cliente.test", "pablo@cliente.test")),
    ),
    Case(
        name="to-with-colleague-and-alias",
        cite="https://github.com/modoboa/modoboa/pull/4179 (address lists with commas)",
        msgid="to-many@cliente.test",
        mails=(
            mail(
                "to-many@cliente.test",
                to="soporte@tienda.test, Ventas <ventas@tienda.test>,"
                " Soto, Luis <luis@cliente.test>",
            ),
        ),
        expect=Expect(participants=("luis@cliente.test",)),
        aliases=("ventas@tienda.test",),
    ),
    Case(
        name="dedup-same-id-same-content",
        cite="https://github.com/ietf-tools/mailarchive/issues/4165 (byte-identical re-delivery)",
        msgid=DUP,
        mails=(mail(DUP, "Una vez."), mail(DUP, "Una vez.")),
        expect=Expect(messages=1, status="duplicate"),
    ),
    Case(
        name="dedup-same-content-other-received",
        cite="https://github.com/ietf-tools/mailarchive/issues/4165 (only Received differs)",
        msgid="relay@cliente.test",
        mails=(
            b"Received: from a.test by mx1\r\n" + mail("relay@cliente.test", "Igual."),
            b"Received: from b.test by mx2\r\n" + mail("relay@cliente.test", "Igual."),
        ),
        expect=Expect(messages=1, status="duplicate"),
    ),
    Case(
        name="dedup-reused-id-other-content",
        cite="https://github.com/thinkingreed-inc/F-RevoCRM/issues/1651 (Message-ID reused)",
        msgid="reused@cliente.test",
        mails=(
            mail("reused@cliente.test", "Primer correo."),
            mail("reused@cliente.test", "Segundo correo, distinto.", subject="Otro tema"),
        ),
        expect=Expect(messages=2, text=("Segundo correo, distinto.",)),
    ),
    Case(
        name="no-message-id",
        cite="RFC 5322 §3.6.4 (Message-ID SHOULD, not MUST, be present)",
        msgid="",
        mails=(mail("", "Sin identificador."),),
        expect=Expect(text=("Sin identificador.",)),
    ),
]
