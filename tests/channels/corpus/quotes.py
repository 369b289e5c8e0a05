"""Class 1: the quoted history folds behind «mostrar texto citado»; forwards and interleaved
answers keep what the customer wrote."""

from __future__ import annotations

from tests.channels.corpus.build import SEED_ID, Case, Expect, mail

REPLY = f"In-Reply-To: <{SEED_ID}>\r\nReferences: <{SEED_ID}>\r\n"
OLD = "Texto anterior del hilo"


def _reply(
    name: str,
    cite: str,
    body: str,
    shown: tuple[str, ...],
    hidden: tuple[str, ...],
    *,
    ctype: str = "text/plain; charset=utf-8",
    subject: str = "RE: Consulta",
) -> Case:
    msgid = f"{name}@cliente.test"
    return Case(
        name=name,
        cite=cite,
        msgid=msgid,
        mails=(mail(msgid, body, subject=subject, headers=REPLY, ctype=ctype),),
        expect=Expect(ticket="seed", shown=shown, hidden=hidden),
    )


CASES = [
    _reply(
        "quote-angle-top-posting",
        "RFC 3676 §4.5 (quote marks); github/email_reply_parser#40",
        f"Gracias, ya funcionó.\n\n> {OLD}\n> segunda línea citada\n",
        ("Gracias, ya funcionó.",),
        (OLD,),
    ),
    _reply(
        "quote-outlook-es-header-block",
        "https://github.com/twentyhq/twenty/issues/25315 (localized Outlook headers)",
        "Ok, recibido.\n\nDe: Soporte <soporte@tienda.test>\nEnviado: lunes, 30 de noviembre de"
        " 2026 10:00\nPara: Ana Pérez <ana@cliente.test>\nAsunto: RE: Consulta\n\n" + OLD,
        ("Ok, recibido.",),
        (OLD, "Enviado: lunes"),
    ),
    _reply(
        "quote-outlook-en-header-block",
        "https://github.com/github/email_reply_parser/pull/67 (Outlook headers)",
        "Thanks, got it.\n\nFrom: Soporte <soporte@tienda.test>\nSent: Monday, November 30, 2026"
        " 10:00 AM\nTo: Ana\nSubject: RE: Consulta\n\n" + OLD,
        ("Thanks, got it.",),
        (OLD,),
    ),
    _reply(
        "quote-mensaje-original",
        "https://github.com/willdurand/EmailReplyParser/pull/18 (Spanish quote header)",
        f"Adjunto lo pedido.\n\n-----Mensaje original-----\nDe: Soporte\n{OLD}\n",
        ("Adjunto lo pedido.",),
        (OLD, "Mensaje original"),
    ),
    _reply(
        "quote-gmail-es-wrapped-attribution",
        "https://github.com/zapier/email-reply-parser/pull/50 (Gmail in Spanish)",
        "Perfecto, quedo atenta.\n\nEl lun, 30 nov 2026 a las 10:00, Soporte Tienda (<\n"
        f"soporte@tienda.test>) escribió:\n\n> {OLD}\n",
        ("Perfecto, quedo atenta.",),
        (OLD, "escribió"),
    ),
    _reply(
        "quote-on-wrote-without-marks",
        "https://github.com/github/email_reply_parser/issues/40 (Yahoo/Apple: no '>' marks)",
        "Here's my answer\n\nOn Monday, November 30, 2026 10:00 AM, Soporte <soporte@tienda.test>"
        f" wrote:\n\n{OLD}\n",
        ("Here's my answer",),
        (OLD,),
    ),
    _reply(
        "quote-apple-es-and-iphone",
        "https://github.com/github/email_reply_parser/issues/40 (Apple Mail, Spanish)",
        "Sí, mañana paso.\n\nEnviado desde mi iPhone\n\nEl 30-11-2026, a las 10:00, Soporte"
        f" <soporte@tienda.test> escribió:\n\n> {OLD}\n",
        ("Sí, mañana paso.",),
        ("Enviado desde mi iPhone", OLD),
    ),
    _reply(
        "quote-yahoo-es",
        "https://github.com/github/email_reply_parser/issues/40 (Yahoo header, Spanish)",
        "Listo, muchas gracias.\n\nEn lunes, 30 de noviembre de 2026, 10:00:00 CLT, Soporte"
        f" <soporte@tienda.test> escribió:\n\n\n{OLD}\n",
        ("Listo, muchas gracias.",),
        (OLD,),
    ),
    _reply(
        "quote-dash-signature",
        "RFC 3676 §4.3 (the '-- ' signature separator)",
        "Confirmo la dirección.\n-- \nAna Pérez\nGerente de Compras\n",
        ("Confirmo la dirección.",),
        ("Gerente de Compras",),
    ),
    _reply(
        "quote-interleaved-bottom-posting",
        "RFC 1855 §3.1.1 (answers between the quoted lines)",
        "El lun, 30 nov 2026 a las 10:00, Soporte escribió:\n> ¿Cuál es su número de pedido?\n"
        "1001\n> ¿Y la dirección?\nAv. Siempre Viva 742\n",
        ("1001", "Av. Siempre Viva 742"),
        (),
    ),
    _reply(
        "quote-gmail-html",
        "https://github.com/twentyhq/twenty/issues/25315 (gmail_quote container)",
        '<div dir="ltr">¡Gracias por la ayuda!</div><br><div class="gmail_quote"><div dir="ltr"'
        ' class="gmail_attr">El lun, 30 nov 2026 a las 10:00, Soporte escribió:<br></div>'
        f'<blockquote class="gmail_quote" style="margin:0">{OLD}</blockquote></div>',
        ("¡Gracias por la ayuda!",),
        (OLD,),
        ctype="text/html; charset=utf-8",
    ),
    _reply(
        "quote-outlook-web-html",
        "https://github.com/github/email_reply_parser/pull/67 (Outlook's divRplyFwdMsg)",
        '<div>Recibido conforme.</div><hr style="display:inline-block;width:98%"><div'
        ' id="divRplyFwdMsg" dir="ltr"><b>De:</b> Soporte<br><b>Enviado:</b> lunes<br></div>'
        f"<div>{OLD}</div>",
        ("Recibido conforme.",),
        (OLD,),
        ctype="text/html; charset=utf-8",
    ),
    _reply(
        "quote-outlook-desktop-html",
        "https://github.com/twentyhq/twenty/issues/25315 (Outlook desktop's border-top block)",
        '<div class="WordSection1"><p>Pago realizado.</p><div><div style="border:none;'
        'border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p><b>De:</b> Soporte'
        f"</p></div></div><p>{OLD}</p></div>",
        ("Pago realizado.",),
        (OLD,),
        ctype="text/html; charset=utf-8",
    ),
    _reply(
        "quote-apple-html-cite",
        "https://github.com/github/email_reply_parser/issues/40 (Apple Mail blockquote cite)",
        '<div>Perfecto.</div><div><br><blockquote type="cite"><div>El 30-11-2026, Soporte'
        f" escribió:</div><div>{OLD}</div></blockquote></div>",
        ("Perfecto.",),
        (OLD,),
        ctype="text/html; charset=utf-8",
    ),
    _reply(
        "quote-yahoo-html",
        "https://github.com/github/email_reply_parser/issues/40 (Yahoo's yahoo_quoted)",
        '<div>Ya llegó, gracias.</div><div class="yahoo_quoted"><div>En lunes, Soporte'
        f" escribió:</div><div>{OLD}</div></div>",
        ("Ya llegó, gracias.",),
        (OLD,),
        ctype="text/html; charset=utf-8",
    ),
    _reply(
        "quote-html-interleaved",
        "RFC 1855 §3.1.1 (bottom posting in HTML)",
        '<div>Respondo abajo.</div><blockquote type="cite">¿Número de pedido?</blockquote>'
        "<div>Es el 1001</div>",
        ("Respondo abajo.", "Es el 1001"),
        (),
        ctype="text/html; charset=utf-8",
    ),
    Case(
        name="forward-gmail-inline",
        cite="RFC 2046 §5.2.1 (a forwarded message is content); github/email_reply_parser#40",
        msgid="fwd-gmail@cliente.test",
        mails=(
            mail(
                "fwd-gmail@cliente.test",
                "Miren este cobro:\n\n---------- Forwarded message ---------\nDe: Banco"
                " <avisos@banco.test>\nAsunto: Cargo\n\nCargo de $5.000 en su tarjeta.\n",
                subject="Fwd: Cargo",
            ),
        ),
        expect=Expect(ticket="new", shown=("Cargo de $5.000 en su tarjeta.",)),
    ),
    Case(
        name="forward-outlook-rv",
        cite="https://github.com/twentyhq/twenty/issues/25315 (Outlook header block in a forward)",
        msgid="fwd-rv@cliente.test",
        mails=(
            mail(
                "fwd-rv@cliente.test",
                "Les reenvío la factura.\n\nDe: Proveedor <ventas@proveedor.test>\nEnviado:"
                " lunes, 30 de noviembre de 2026\nPara: Ana\nAsunto: Factura 778\n\nTotal a"
                " pagar: $12.990\n",
                subject="RV: Factura 778",
            ),
        ),
        expect=Expect(ticket="new", shown=("Total a pagar: $12.990",)),
    ),
]
