"""The email connector: sends one stored outbound message over the account's SMTP server.

Contract of :meth:`SmtpConnector.send`: builds a text + HTML mail from the account's address,
subject ``[#<number>] <ticket subject>``, threaded on the message it answers (In-Reply-To and
References), copied to the ticket's participants (the To/Cc people of the customer's mail),
with the message's attachments; returns the Message-ID it generated (bare, no
angle brackets, as inbound ids are stored) as the provider id. Refusals that retrying cannot
fix (authentication, recipients, 5xx) raise ``ConnectorError(permanent=True)``; connection
errors and timeouts raise ``ConnectorError(permanent=False)``.
"""

from __future__ import annotations

import smtplib
from email.utils import formataddr, make_msgid
from typing import Any

from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from channels_conn.base import ConnectorError, SendResult, ensure_active
from channels_conn.credentials import credentials_of
from channels_conn.email.parse import normalize_subject
from channels_conn.email.probe import Security, ServerConfig, network_failure
from channels_conn.email.receive import participants_of
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.reconnect import account_reconnect_needed
from tickets.models import Direction, IdentityKind, Message

MAX_REFERENCES = 20  # long threads: keep the References header a sane size


def _address(account: ChannelAccount) -> str:
    address = str((account.settings or {}).get("address") or "")
    if "@" not in address:
        raise ConnectorError("La cuenta de correo no tiene dirección configurada.", permanent=True)
    return address


def _recipient(message: Message) -> str:
    identity = (
        message.ticket.customer.identities.filter(kind=IdentityKind.EMAIL).order_by("id").first()
    )
    if identity is None:
        raise ConnectorError("El cliente no tiene una dirección de correo.", permanent=True)
    return identity.value


def _thread_ids(message: Message) -> tuple[str, list[str]]:
    """(In-Reply-To, References): the answered message (or the ticket's last inbound one),
    after the ticket's earlier ids in order."""
    earlier = list(
        Message.objects.filter(ticket=message.ticket, provider_id__isnull=False)
        .exclude(pk=message.pk)
        .order_by("created_at", "id")
        .values_list("provider_id", "direction")
    )
    parent = message.reply_to.provider_id if message.reply_to else None
    if not parent:
        inbound = [pid for pid, direction in earlier if direction == Direction.IN]
        parent = inbound[-1] if inbound else None
    chain = [pid for pid, _d in earlier if pid and not pid.startswith("imap:")]
    if parent and parent in chain:
        chain.remove(parent)
    if parent:
        chain.append(parent)
    return parent or "", chain[-MAX_REFERENCES:]


def _connection(account: ChannelAccount) -> Any:
    s = account.settings or {}
    ssl = bool(s.get("smtp_ssl", False))
    return get_connection(
        "channels_conn.email.guarded.GuardedEmailBackend",
        host=str(s.get("smtp_host", "")),
        port=int(s.get("smtp_port") or (465 if ssl else 587)),
        username=str(s.get("smtp_user") or ""),
        password=str(credentials_of(account).get("smtp_password", "")),
        use_tls=bool(s.get("smtp_starttls", not ssl)),
        use_ssl=ssl,
        timeout=float(s.get("smtp_timeout") or 30.0),
        fail_silently=False,
    )


def build_email(account: ChannelAccount, message: Message) -> tuple[EmailMultiAlternatives, str]:
    """The mail for ``message`` and its bare Message-ID (no network)."""
    sender = _address(account)
    msgid = make_msgid(domain=sender.rsplit("@", 1)[1])
    ticket = message.ticket
    subject = f"[#{ticket.number}] {normalize_subject(ticket.subject) or ticket.number}"
    parent, chain = _thread_ids(message)
    headers = {"Message-ID": msgid}
    if parent:
        headers["In-Reply-To"] = f"<{parent}>"
        headers["References"] = " ".join(f"<{i}>" for i in chain)
    mail = EmailMultiAlternatives(
        subject=subject,
        body=message.text,
        from_email=formataddr((account.name, sender)),
        to=[_recipient(message)],
        cc=participants_of(ticket),  # reply-all: the people the customer copied stay copied
        headers=headers,
    )
    mail.attach_alternative(linebreaks(escape(message.text)), "text/html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            mail.attach(attachment.name, handle.read(), attachment.content_type)
    return mail, msgid.strip("<>")


class SmtpConnector:
    kind = ChannelKind.EMAIL.value

    def send(self, account: ChannelAccount, message: Message) -> SendResult:
        ensure_active(account)  # also refuses an unreadable password or a marked account
        mail, msgid = build_email(account, message)
        try:
            with _connection(account) as connection:
                connection.send_messages([mail])
        except smtplib.SMTPAuthenticationError as exc:
            reason = _reason(account, exc)  # the login was refused: «Reconectar»
            account_reconnect_needed(account=account, reason=reason)
            raise ConnectorError(reason, permanent=True) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise ConnectorError(_reason(account, exc), permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            raise ConnectorError(_reason(account, exc), permanent=exc.smtp_code >= 500) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ConnectorError(_reason(account, exc), permanent=False) from exc
        return SendResult(provider_id=msgid)


def _reason(account: ChannelAccount, exc: Exception) -> str:
    """Why a send failed, told as «Probar conexión» tells it (in the user's language), never
    as the library's English."""
    s = account.settings or {}
    ssl = bool(s.get("smtp_ssl", False))
    user = str(s.get("smtp_user") or "")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _("El servidor SMTP rechazó el usuario «%(user)s» o su contraseña (%(code)s).") % {
            "user": user,
            "code": exc.smtp_code,
        }
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _("El servidor SMTP rechazó el destinatario %(to)s.") % {
            "to": ", ".join(exc.recipients)
        }
    cfg = ServerConfig(
        host=str(s.get("smtp_host", "")),
        port=int(s.get("smtp_port") or (465 if ssl else 587)),
        security=Security.SSL if ssl else Security.STARTTLS,
        user=user,
        password="",
        timeout=float(s.get("smtp_timeout") or 30.0),
    )
    told = network_failure(cfg, exc)
    if told is None:
        told = _("Error inesperado al enviar por SMTP (%(kind)s).") % {"kind": type(exc).__name__}
    return told[:500]


smtp_connector = SmtpConnector()
