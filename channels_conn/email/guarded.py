"""IMAP and SMTP clients whose every connect passes the outbound guard (helpdesk.outbound).

They connect to the address the guard checked and still speak TLS to (and verify the
certificate of) the host name the admin typed. They also log in with a user name or password
that is not ASCII («contraseña»): IMAP's LOGIN and Python's SMTP AUTH send ASCII only (they
raised UnicodeEncodeError), so such credentials go as SASL PLAIN in UTF-8 (RFC 4616), which
the servers that offer PLAIN accept."""

from __future__ import annotations

import base64
import smtplib
import socket
from typing import Any

from django.core.mail.backends.smtp import EmailBackend
from django.utils.translation import gettext
from imapclient import IMAPClient, imap4, tls

from helpdesk.outbound import create_connection


class _IMAP4(imap4.IMAP4WithTimeout):
    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        return create_connection(
            self.host, self.port, timeout if timeout is not None else self._timeout
        )


class _IMAP4TLS(tls.IMAP4_TLS):
    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        sock = create_connection(
            self.host, self.port, timeout if timeout is not None else self._timeout
        )
        return tls.wrap_socket(sock, self.ssl_context, self.host)


class GuardedIMAPClient(IMAPClient):
    def login(self, username: str, password: str) -> Any:
        if username.isascii() and password.isascii():
            return super().login(username, password)
        return self.plain_login(username, password)

    def _create_IMAP4(self) -> Any:
        connect_timeout = getattr(self._timeout, "connect", None)
        if self.ssl:
            return _IMAP4TLS(self.host, self.port, self.ssl_context, connect_timeout)
        return _IMAP4(self.host, self.port, connect_timeout)


class _Utf8Login(smtplib.SMTP):
    def login(
        self, user: str, password: str, *, initial_response_ok: bool = True
    ) -> tuple[int, bytes]:
        if user.isascii() and password.isascii():
            return super().login(user, password, initial_response_ok=initial_response_ok)
        self.ehlo_or_helo_if_needed()
        if "PLAIN" not in self.esmtp_features.get("auth", "").upper().split():
            raise smtplib.SMTPException(
                gettext(
                    "El servidor SMTP no acepta usuarios o contraseñas con tildes o «ñ» (no "
                    "ofrece AUTH PLAIN): cambia la contraseña por una sin esos caracteres."
                )
            )
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode("ascii")
        code, response = self.docmd("AUTH", "PLAIN " + token)
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, response)
        return code, response


class GuardedSMTP(_Utf8Login):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return create_connection(host, port, timeout, self.source_address)


class GuardedSMTP_SSL(_Utf8Login, smtplib.SMTP_SSL):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = create_connection(host, port, timeout, self.source_address)
        return self.context.wrap_socket(sock, server_hostname=self._host)  # type: ignore[attr-defined]


class GuardedEmailBackend(EmailBackend):
    """Django's SMTP backend on the guarded clients (a tenant mailbox's outgoing server)."""

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return GuardedSMTP_SSL if self.use_ssl else GuardedSMTP
