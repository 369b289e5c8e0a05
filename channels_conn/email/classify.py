"""Who sent this mail: a person, a list or bulk sender, a robot, or a bounce.

Contract: :func:`mail_kind` answers one of :data:`PERSON`, :data:`BULK`, :data:`AUTOMATIC`,
:data:`BOUNCE` from the headers (and, for text bounces, the subject and sender):

* automatic — RFC 3834 ``Auto-Submitted`` other than ``no``, ``X-Autoreply``, ``X-Autorespond``,
  ``Precedence: auto_reply``, Exchange's ``X-Auto-Response-Suppress`` with ``OOF``/``All``
  together with an auto-reply subject, other helpdesks' acknowledgements, and delayed-delivery
  notices (RFC 3464 with ``Action: delayed``);
* bounce — RFC 3464 delivery-status reports with a failed action, and ``MAILER-DAEMON`` /
  postmaster text bounces (RFC 3461 §6 predates DSNs; qmail, Exim and old Sendmail send prose);
* bulk — ``List-Id`` (RFC 2919), ``List-Unsubscribe`` (RFC 2369), ``Precedence: bulk|list|junk``,
  ``X-Auto-Response-Suppress`` and ``X-Loop`` (the sender asks for no automatic answer);
* person — everything else, including ``Auto-Submitted: no``.

Automatic mail and bounces never open a ticket nor get an automatic answer; bulk mail becomes a
ticket without an automatic answer. :func:`bounce_details` finds the Message-ID of the mail that
bounced and the reason, from a DSN or from a text bounce.
"""

from __future__ import annotations

import re
from email.message import Message

PERSON, BULK, AUTOMATIC, BOUNCE = "person", "bulk", "automatic", "bounce"

_AUTO_SUBJECT = re.compile(
    r"^\s*(respuesta autom[áa]tica|automatic reply|auto(matic)?[- ]?(reply|response)|"
    r"out of (the )?office|fuera de (la )?oficina|ausente|abwesenheitsnotiz|r[ée]ponse automatique|"
    r"auto\s*:|autoreply|acuse de recibo|we(\'ve| have) received your (request|message)|"
    r"hemos recibido (tu|su) (solicitud|mensaje|correo))",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver(ed|able)|returned mail|mail delivery (failed|failure|subsystem)|"
    r"delivery (status notification|failure)|failure notice|no se pudo entregar|"
    r"no entregado|devuelto|error de entrega|non remis|unzustellbar)",
    re.IGNORECASE,
)
_DELAY_SUBJECT = re.compile(
    r"(delayed|delay\)|warning: could not send|retrasad|demorad|not yet been delivered)",
    re.IGNORECASE,
)
_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)
# Other helpdesks mark their acknowledgements with their own headers.
_HELPDESK_HEADERS = (
    "X-Zendesk-From-Account-Id",
    "X-Freshdesk-Auto",
    "X-OTRS-Loop",
    "X-Zammad-Ticket-Id",
)
_MSGID_LINE = re.compile(r"^\s*message-id:\s*<([^<>\s]+)>", re.IGNORECASE | re.MULTILINE)
_SMTP_REASON = re.compile(
    r"^\s*.{0,80}?\b([45]\d\d[ -][45]\.\d{1,3}\.\d{1,3}\b.*|[45]\d\d\s.+)$", re.MULTILINE
)


def _h(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header of any shape: treated as absent
        return ""
    return " ".join(str(value).split()).lower() if value is not None else ""


def report_status(msg: Message) -> str:
    """For an RFC 3464 report: "failed", "delayed", "delivered"… ("" when not a report)."""
    if msg.get_content_type() != "multipart/report":
        return ""
    if str(msg.get_param("report-type", "")).lower() != "delivery-status":
        return ""
    actions: list[str] = []
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        blocks = payload if isinstance(payload, list) else []
        for block in blocks:
            if isinstance(block, Message) and block.get("Action"):
                actions.append(str(block.get("Action")).strip().lower())
        if not blocks:
            actions += re.findall(r"(?im)^action:\s*(\w+)", str(part.get_payload()))
    if "failed" in actions:
        return "failed"
    return actions[0] if actions else "failed"


def mail_kind(msg: Message, *, from_address: str, subject: str) -> str:
    """See the module docstring."""
    status = report_status(msg)
    if status:
        return BOUNCE if status == "failed" else AUTOMATIC
    if _DAEMON.match(from_address) and (
        _BOUNCE_SUBJECT.search(subject) or _h(msg, "Return-Path") in {"<>", ""}
    ):
        return AUTOMATIC if _DELAY_SUBJECT.search(subject) else BOUNCE
    auto = _h(msg, "Auto-Submitted")
    if auto and auto.split(";")[0].strip() != "no":
        return AUTOMATIC
    if _h(msg, "X-Autoreply") or _h(msg, "X-Autorespond") or _h(msg, "X-Autoresponder"):
        return AUTOMATIC
    if _h(msg, "Precedence") in {"auto_reply", "auto-reply"}:
        return AUTOMATIC
    if any(_h(msg, name) for name in _HELPDESK_HEADERS) and _AUTO_SUBJECT.match(subject):
        return AUTOMATIC
    if _h(msg, "X-Auto-Response-Suppress") and _AUTO_SUBJECT.match(subject):
        return AUTOMATIC  # Exchange sets it on its out-of-office replies
    if _h(msg, "Return-Path") == "<>":
        return AUTOMATIC  # the null sender: only DSNs and auto-replies use it (RFC 3834 §3.3)
    if _h(msg, "List-Id") or _h(msg, "List-Unsubscribe"):
        return BULK
    if _h(msg, "Precedence") in {"bulk", "list", "junk"}:
        return BULK
    if _h(msg, "X-Auto-Response-Suppress") or _h(msg, "X-Loop"):
        return BULK  # someone asked for no automatic answer: a ticket, but no auto-reply
    return PERSON


def bounce_details(msg: Message, body_text: str) -> tuple[str, str]:
    """(Message-ID that bounced, reason) of a DSN or a text bounce; "" where not found."""
    from channels_conn.email.decode import decode_bytes

    original = reason = ""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status" and not reason:
            reason = _dsn_reason(part)
        elif ctype in {"message/rfc822", "text/rfc822-headers"} and not original:
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                found = _MSGID_LINE.search(f"Message-ID: {payload[0].get('Message-ID', '')}")
            else:
                raw = part.get_payload(decode=True)
                text = decode_bytes(raw) if isinstance(raw, bytes) else str(payload)
                found = _MSGID_LINE.search(text)
            original = found.group(1) if found else ""
    if not original:
        ids = _MSGID_LINE.findall(body_text)
        original = ids[-1] if ids else ""
    if not reason:
        match = _SMTP_REASON.search(body_text)
        reason = match.group(1).strip() if match else ""
    return original, reason[:480]


def _dsn_reason(part: Message) -> str:
    lines: list[str] = []
    payload = part.get_payload()
    if isinstance(payload, list):
        for block in payload:
            if isinstance(block, Message):
                lines.extend(f"{k}: {v}" for k, v in block.items())
    else:
        lines = str(payload).splitlines()
    for key in ("diagnostic-code", "status"):
        for line in lines:
            if line.lower().startswith(key + ":"):
                value = " ".join(line.split(":", 1)[1].split())
                return (
                    value.split(";", 1)[1].strip() if value.lower().startswith("smtp;") else value
                )
    return ""
