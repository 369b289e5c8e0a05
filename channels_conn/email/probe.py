"""The "Probar conexión" action of an email account: log in to IMAP (open the folder) and SMTP
(EHLO, STARTTLS, AUTH), with short timeouts, and say exactly what failed in the user's language.

Contract: :func:`probe_imap` and :func:`probe_smtp` never raise; each returns a
:class:`ProbeResult` whose ``message`` names the failure (DNS, refused, timeout, TLS or
certificate, authentication, missing folder) or confirms success. Nothing is read or sent:
IMAP opens the folder read-only, SMTP quits after logging in. Secrets never appear in messages.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from channels_conn.email.guarded import GuardedIMAPClient, GuardedSMTP, GuardedSMTP_SSL
from helpdesk.outbound import OutboundRefused

PROBE_TIMEOUT = 8.0  # seconds: long enough for a slow server, short enough for a person waiting


class Security:
    """How a connection is protected (the form's choice)."""

    SSL = "ssl"  # TLS from the first byte (IMAPS 993, SMTPS 465)
    STARTTLS = "starttls"  # plain, upgraded with STARTTLS (IMAP 143, submission 587)
    NONE = "none"  # plain text (only for a server on the same machine or network)


@dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int
    security: str
    user: str
    password: str
    folder: str = "INBOX"  # IMAP only
    timeout: float = PROBE_TIMEOUT


@dataclass(frozen=True)
class ProbeResult:
    service: str  # "IMAP" or "SMTP"
    ok: bool
    message: str


def network_failure(cfg: ServerConfig, exc: BaseException) -> str | None:
    """The message for a failure to reach or secure the server, or None when it is not one."""
    where = f"{cfg.host}:{cfg.port}"
    if isinstance(exc, OutboundRefused):
        return _(
            "«%(host)s» apunta a una dirección interna o reservada (%(address)s). Por seguridad "
            "no nos conectamos a direcciones privadas: usa el nombre público del servidor."
        ) % {"host": cfg.host, "address": exc.address}
    if isinstance(exc, socket.gaierror):
        return _("No se encontró el servidor «%(host)s» (el nombre no existe en el DNS).") % {
            "host": cfg.host
        }
    if isinstance(exc, ConnectionRefusedError):
        return _(
            "%(where)s rechazó la conexión: revisa el puerto y que el servicio esté activo."
        ) % {"where": where}
    timed_out = isinstance(exc, smtplib.SMTPServerDisconnected) and "timed out" in str(exc)
    if isinstance(exc, TimeoutError) or timed_out:  # socket.timeout is TimeoutError
        return _(
            "%(where)s no respondió en %(s)s segundos (¿un cortafuegos, o el puerto equivocado?)."
        ) % {"where": where, "s": int(cfg.timeout)}
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _("El certificado del servidor no es válido: %(reason)s.") % {
            "reason": exc.verify_message or exc.reason or str(exc)
        }
    if isinstance(exc, ssl.SSLError):
        return _(
            "Falló la conexión cifrada (TLS) con %(where)s: %(reason)s. ¿El puerto usa la "
            "seguridad elegida (SSL o STARTTLS)?"
        ) % {"where": where, "reason": exc.reason or str(exc)}
    if isinstance(exc, ConnectionResetError | BrokenPipeError | EOFError):
        return _(
            "%(where)s cortó la conexión. ¿El puerto usa la seguridad elegida (SSL o STARTTLS)?"
        ) % {"where": where}
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return _(
            "%(where)s cerró la conexión sin responder. ¿El puerto usa la seguridad elegida "
            "(SSL o STARTTLS)?"
        ) % {"where": where}
    if isinstance(exc, smtplib.SMTPResponseException):
        return _("El servidor SMTP respondió con un error: %(code)s %(reason)s") % {
            "code": exc.smtp_code,
            "reason": _text(exc.smtp_error),
        }
    if isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException):
        return _("No se pudo conectar con %(where)s: %(reason)s.") % {
            "where": where,
            "reason": exc.strerror or str(exc),
        }
    return None


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def probe_imap(cfg: ServerConfig) -> ProbeResult:
    client: IMAPClient | None = None
    try:
        client = GuardedIMAPClient(
            cfg.host,
            port=cfg.port,
            use_uid=True,
            ssl=cfg.security == Security.SSL,
            timeout=cfg.timeout,
        )
        if cfg.security == Security.STARTTLS:
            client.starttls()
        try:
            client.login(cfg.user, cfg.password)
        except LoginError:
            return ProbeResult(
                "IMAP",
                False,
                _("El servidor IMAP rechazó el usuario «%(user)s» o su contraseña.")
                % {"user": cfg.user},
            )
        try:
            client.select_folder(cfg.folder, readonly=True)
        except IMAPClientError:
            folders = sorted(_text(name) for _flags, _sep, name in client.list_folders())
            return ProbeResult(
                "IMAP",
                False,
                _("La carpeta «%(folder)s» no existe en el buzón. Carpetas: %(folders)s.")
                % {"folder": cfg.folder, "folders": ", ".join(folders[:20])},
            )
        return ProbeResult(
            "IMAP",
            True,
            _("IMAP correcto: sesión iniciada y carpeta «%(folder)s» abierta.")
            % {"folder": cfg.folder},
        )
    except Exception as exc:  # the admin must read what happened, whatever it is
        message = network_failure(cfg, exc)
        if message is None and "STARTTLS" in str(exc).upper():
            message = _("El servidor IMAP no ofrece STARTTLS: elige SSL o sin cifrado.")
        return ProbeResult("IMAP", False, message or _unexpected(exc))
    finally:
        if client is not None:
            with suppress(Exception):
                client.logout()
            with suppress(Exception):
                client.shutdown()


def probe_smtp(cfg: ServerConfig) -> ProbeResult:
    smtp: smtplib.SMTP | None = None
    try:
        if cfg.security == Security.SSL:
            smtp = GuardedSMTP_SSL(
                cfg.host,
                cfg.port,
                timeout=cfg.timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = GuardedSMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        smtp.ehlo()
        if cfg.security == Security.STARTTLS:
            if not smtp.has_extn("starttls"):
                return ProbeResult(
                    "SMTP",
                    False,
                    _("El servidor SMTP no ofrece STARTTLS: elige SSL o sin cifrado."),
                )
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if cfg.user:
            if not smtp.has_extn("auth"):
                return ProbeResult(
                    "SMTP",
                    False,
                    _(
                        "El servidor SMTP no acepta inicio de sesión aquí (no ofrece AUTH): deja "
                        "el usuario vacío o usa STARTTLS/SSL."
                    ),
                )
            try:
                smtp.login(cfg.user, cfg.password)
            except smtplib.SMTPAuthenticationError as exc:
                return ProbeResult(
                    "SMTP",
                    False,
                    _("El servidor SMTP rechazó el usuario «%(user)s» o su contraseña (%(code)s).")
                    % {"user": cfg.user, "code": exc.smtp_code},
                )
        return ProbeResult("SMTP", True, _("SMTP correcto: el servidor acepta enviar."))
    except Exception as exc:
        message = network_failure(cfg, exc)
        return ProbeResult("SMTP", False, message or _unexpected(exc))
    finally:
        if smtp is not None:
            with suppress(Exception):
                smtp.quit()
            with suppress(Exception):
                smtp.close()


def _unexpected(exc: BaseException) -> str:
    return _("Error inesperado: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"[:300]}


def polling_failure(
    exc: BaseException, *, host: str, port: int, user: str, folder: str, timeout: float
) -> str:
    """A failure of the regular polling, told as the connection test tells it (shown on the
    Channels page as the mailbox's last error)."""
    cfg = ServerConfig(
        host=host, port=port, security=Security.NONE, user=user, password="", timeout=timeout
    )
    if isinstance(exc, LoginError):
        return _("El servidor IMAP rechazó el usuario «%(user)s» o su contraseña.") % {"user": user}
    if isinstance(exc, IMAPClientError) and "select" in str(exc).lower():
        return _("La carpeta «%(folder)s» no existe en el buzón.") % {"folder": folder}
    return network_failure(cfg, exc) or _unexpected(exc)
