"""IMAP and SMTP clients whose every connect passes the outbound guard (helpdesk.outbound).

They connect to the address the guard checked and still speak TLS to (and verify the
certificate of) the host name the admin typed."""

from __future__ import annotations

import smtplib
import socket
from typing import Any

from django.core.mail.backends.smtp import EmailBackend
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
    def _create_IMAP4(self) -> Any:
        connect_timeout = getattr(self._timeout, "connect", None)
        if self.ssl:
            return _IMAP4TLS(self.host, self.port, self.ssl_context, connect_timeout)
        return _IMAP4(self.host, self.port, connect_timeout)


class GuardedSMTP(smtplib.SMTP):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return create_connection(host, port, timeout, self.source_address)


class GuardedSMTP_SSL(smtplib.SMTP_SSL):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = create_connection(host, port, timeout, self.source_address)
        return self.context.wrap_socket(sock, server_hostname=self._host)  # type: ignore[attr-defined]


class GuardedEmailBackend(EmailBackend):
    """Django's SMTP backend on the guarded clients (a tenant mailbox's outgoing server)."""

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return GuardedSMTP_SSL if self.use_ssl else GuardedSMTP
