"""Class 2: a new conversation is a new ticket; replies find their ticket by reference."""

from __future__ import annotations

from tests.channels.corpus.build import OURS_ID, SEED_ID, TICKET, Case, Expect, mail

CASES = [
    Case(
        name="thread-new-subject-same-customer",
        cite="RFC 5322 §3.6.4 (no In-Reply-To/References: not a reply)",
        msgid="new-topic@cliente.test",
        mails=(
            mail(
                "new-topic@cliente.test",
                "Otra cosa: quiero cambiar mi clave.",
                subject="Cambio de clave",
            ),
        ),
        expect=Expect(ticket="new", subject="Cambio de clave"),
    ),
    Case(
        name="thread-in-reply-to",
        cite="RFC 5322 §3.6.4 (In-Reply-To)",
        msgid="irt@cliente.test",
        mails=(
            mail(
                "irt@cliente.test",
                "Sigo esperando.",
                subject="Re: Pedido",
                headers=f"In-Reply-To: <{SEED_ID}>\r\n",
            ),
        ),
        expect=Expect(ticket="seed", shown=("Sigo esperando.",)),
    ),
    Case(
        name="thread-references-only",
        cite="RFC 5322 §3.6.4 (References when In-Reply-To is lost)",
        msgid="refs@cliente.test",
        mails=(
            mail(
                "refs@cliente.test",
                "¿Novedades?",
                subject="Re: Pedido",
                headers=f"References: <other@x.test> <{SEED_ID}>\r\n",
            ),
        ),
        expect=Expect(ticket="seed"),
    ),
    Case(
        name="thread-subject-token-only",
        cite="https://github.com/freescout-help-desk/freescout/issues/2445 ([#n] subject tokens)",
        msgid="token@cliente.test",
        mails=(
            mail(
                "token@cliente.test",
                "Respondo desde el celular.",
                subject="RE: [#" + TICKET.decode() + "] Pedido",
            ),
        ),
        expect=Expect(ticket="seed"),
    ),
    Case(
        name="thread-reply-to-our-answer",
        cite="RFC 5322 §3.6.4 (the reply names our Message-ID)",
        msgid="to-ours@cliente.test",
        mails=(
            mail(
                "to-ours@cliente.test",
                "Gracias por responder.",
                subject="Re: [#x] Pedido",
                headers=f"In-Reply-To: <{OURS_ID}>\r\n",
            ),
        ),
        expect=Expect(ticket="seed"),
    ),
    Case(
        name="thread-unknown-reference",
        cite="RFC 5322 §3.6.4 (a reference we never saw: a conversation new to us)",
        msgid="unknown-ref@cliente.test",
        mails=(
            mail(
                "unknown-ref@cliente.test",
                "Les escribo por otro tema.",
                subject="Re: Cotización",
                headers="In-Reply-To: <nunca@x.test>\r\n",
            ),
        ),
        expect=Expect(ticket="new", subject="Re: Cotización"),
    ),
    Case(
        name="thread-reply-to-closed-outside-window",
        cite="DESIGN §5 (a customer writing after a close opens a new ticket)",
        msgid="late@cliente.test",
        mails=(
            mail(
                "late@cliente.test",
                "Vuelvo a escribir.",
                subject="Re: Pedido",
                headers=f"In-Reply-To: <{SEED_ID}>\r\n",
            ),
        ),
        expect=Expect(ticket="new"),
        close_seed=True,
    ),
    Case(
        name="thread-reply-to-closed-within-window",
        cite="DESIGN §5 (the tenant's reopen window)",
        msgid="soon@cliente.test",
        mails=(
            mail(
                "soon@cliente.test",
                "Perdón, una cosa más.",
                subject="Re: Pedido",
                headers=f"In-Reply-To: <{SEED_ID}>\r\n",
            ),
        ),
        expect=Expect(ticket="seed", reopened=True),
        close_seed=True,
        reopen_hours=48,
    ),
    Case(
        name="thread-new-mail-after-close-within-window",
        cite="DESIGN §5, RFC 5322 §3.6.4 (no reference: a new conversation, even in the window)",
        msgid="fresh@cliente.test",
        mails=(mail("fresh@cliente.test", "Consulta distinta.", subject="Garantía"),),
        expect=Expect(ticket="new", subject="Garantía"),
        close_seed=True,
        reopen_hours=48,
    ),
]
