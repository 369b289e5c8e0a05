"""Class 3: automatic mail never opens a ticket nor gets an answer; lists do, without one."""

from __future__ import annotations

from tests.channels.corpus.build import OURS_ID, SEED_ID, Case, Expect, mail, multipart, part

ABOUT_T = f"In-Reply-To: <{OURS_ID}>\r\n"


def _dsn(msgid: str, action: str, status: str, diagnostic: str) -> bytes:
    return multipart(
        msgid,
        [
            part("text/plain; charset=utf-8", "No se pudo entregar su mensaje.\r\n"),
            part(
                "message/delivery-status",
                f"Reporting-MTA: dns; mx.cliente.test\r\n\r\nFinal-Recipient: rfc822;"
                f" ana@cliente.test\r\nAction: {action}\r\nStatus: {status}\r\n"
                f"Diagnostic-Code: smtp; {diagnostic}\r\n",
            ),
            part(
                "text/rfc822-headers",
                f"From: soporte@tienda.test\r\nMessage-ID: <{OURS_ID}>\r\nSubject: [#1] Pedido\r\n",
            ),
        ],
        subtype='report; report-type="delivery-status"',
        subject="Delivery Status Notification",
        sender="Mail Delivery System <MAILER-DAEMON@mx.cliente.test>",
        headers="Auto-Submitted: auto-replied\r\n",
    )


def _robot(
    name: str,
    cite: str,
    headers: str,
    expect: Expect,
    *,
    subject: str = "Consulta",
    sender: str = "Ana Pérez <ana@cliente.test>",
    body: str = "Respuesta automática.",
) -> Case:
    msgid = f"{name}@cliente.test"
    return Case(
        name=name,
        cite=cite,
        msgid=msgid,
        expect=expect,
        mails=(mail(msgid, body, subject=subject, sender=sender, headers=headers),),
    )


IGNORED = Expect(ticket="none", status="ignored")
MUTED_ON_T = Expect(ticket="seed", automatic=True)

CASES = [
    _robot(
        "auto-submitted-on-ticket",
        "RFC 3834 §5 (Auto-Submitted: auto-replied)",
        "Auto-Submitted: auto-replied\r\n" + ABOUT_T,
        MUTED_ON_T,
        subject="Fuera de la oficina: Re: Pedido",
    ),
    _robot(
        "auto-submitted-no-reference",
        "RFC 3834 §5; https://github.com/osTicket/osTicket/issues/1041",
        "Auto-Submitted: auto-generated\r\n",
        IGNORED,
        subject="Aviso",
    ),
    _robot(
        "x-autoreply",
        "https://github.com/Probesys/bileto/issues/815 (X-Autoreply: yes)",
        "X-Autoreply: yes\r\n",
        IGNORED,
        subject="Vacaciones",
    ),
    _robot(
        "x-autorespond",
        "https://github.com/Probesys/bileto/issues/815 (X-Autorespond)",
        "X-Autorespond: yes\r\n" + ABOUT_T,
        MUTED_ON_T,
    ),
    _robot(
        "precedence-auto-reply",
        "https://github.com/Nine-Minds/alga-psa/issues/2705",
        "Precedence: auto_reply\r\n",
        IGNORED,
    ),
    _robot(
        "exchange-oof",
        "https://github.com/Probesys/bileto/issues/815 (X-Auto-Response-Suppress)",
        "X-Auto-Response-Suppress: All\r\n" + ABOUT_T,
        MUTED_ON_T,
        subject="Respuesta automática: [#1] Pedido",
    ),
    _robot(
        "other-helpdesk-ack",
        "https://github.com/freescout-help-desk/freescout/issues/2445",
        "X-Zendesk-From-Account-Id: 12ab\r\n" + ABOUT_T,
        MUTED_ON_T,
        subject="Hemos recibido tu solicitud #286614",
        sender="Soporte Proveedor <help@proveedor.test>",
    ),
    _robot(
        "null-return-path",
        "RFC 3834 §3.3 and RFC 5321 §4.5.5 (the null reverse-path)",
        "Return-Path: <>\r\n",
        IGNORED,
        subject="Notificación",
    ),
    Case(
        name="dsn-failed-marks-our-reply",
        cite="RFC 3464 §2.3.3 (Action: failed); https://github.com/frappe/helpdesk/pull/3628",
        msgid="dsn-failed@mx.cliente.test",
        mails=(_dsn("dsn-failed@mx.cliente.test", "failed", "5.1.1", "550 5.1.1 User unknown"),),
        expect=Expect(ticket="seed", automatic=True, reply_failed="User unknown"),
    ),
    Case(
        name="dsn-delayed-is-not-a-failure",
        cite="RFC 3464 §2.3.3 (Action: delayed)",
        msgid="dsn-delay@mx.cliente.test",
        mails=(_dsn("dsn-delay@mx.cliente.test", "delayed", "4.4.7", "451 4.4.7 retrying"),),
        expect=Expect(ticket="seed", automatic=True),
    ),
    Case(
        name="mailer-daemon-text-bounce",
        cite="https://github.com/frappe/helpdesk/pull/3628 (MAILER-DAEMON prose bounces)",
        msgid="qmail-bounce@mx.cliente.test",
        mails=(
            mail(
                "qmail-bounce@mx.cliente.test",
                "Hi. This is the qmail-send program at mx.cliente.test.\nI'm afraid I wasn't"
                " able to deliver your message.\n\n<ana@cliente.test>:\n550 5.2.2 Mailbox full"
                f"\n\n--- Below this line is a copy of the message.\n\nMessage-ID: <{OURS_ID}>\n"
                "Subject: [#1] Pedido\n",
                subject="failure notice",
                sender="MAILER-DAEMON@mx.cliente.test",
            ),
        ),
        expect=Expect(ticket="seed", automatic=True, reply_failed="Mailbox full"),
    ),
    _robot(
        "postfix-bounce-unknown",
        "RFC 3464 §1 (a bounce of mail we never sent)",
        "",
        IGNORED,
        subject="Undelivered Mail Returned to Sender",
        sender="MAILER-DAEMON@mx.otro.test",
        body="550 5.1.1 unknown user",
    ),
    _robot(
        "delayed-text-notice",
        "RFC 3464 §2.3.3 (delay warnings in prose)",
        "",
        IGNORED,
        subject="Warning: could not send message for past 4 hours",
        sender="postmaster@mx.otro.test",
        body="Your message has not yet been delivered.",
    ),
    _robot(
        "list-id-is-a-ticket-without-autoreply",
        "RFC 2919 (List-Id)",
        "List-Id: Clientes <clientes.lista.test>\r\n",
        Expect(ticket="new", no_autoreply=True, subject="Boletín"),
        subject="Boletín",
    ),
    _robot(
        "precedence-bulk",
        "RFC 2076 §3.9 (Precedence: bulk)",
        "Precedence: bulk\r\n",
        Expect(ticket="new", no_autoreply=True),
        subject="Oferta",
    ),
    _robot(
        "list-unsubscribe",
        "RFC 2369 (List-Unsubscribe)",
        "List-Unsubscribe: <mailto:baja@lista.test>\r\n",
        Expect(ticket="new", no_autoreply=True),
        subject="Novedades",
    ),
    _robot(
        "auto-submitted-no-is-a-person",
        "RFC 3834 §5 (Auto-Submitted: no)",
        "Auto-Submitted: no\r\n",
        Expect(ticket="new", subject="Pregunta"),
        subject="Pregunta",
        body="Soy una persona.",
    ),
    Case(
        name="auto-reply-to-closed-ticket-does-not-reopen",
        cite="https://github.com/Nine-Minds/alga-psa/issues/2705 (OOO reopening closed tickets)",
        msgid="ooo-closed@cliente.test",
        mails=(
            mail(
                "ooo-closed@cliente.test",
                "Estoy de vacaciones.",
                subject="Fuera de oficina",
                headers=f"Auto-Submitted: auto-replied\r\nIn-Reply-To: <{SEED_ID}>\r\n",
            ),
        ),
        expect=Expect(ticket="seed", automatic=True),
        close_seed=True,
        reopen_hours=48,
    ),
]
