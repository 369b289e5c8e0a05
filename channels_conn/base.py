"""The connector interface every channel implements, as the channels import it: defined in
:mod:`tickets.connectors` (below the channels, which ``tickets`` delivers through)."""

from tickets.connectors import (
    Connector,
    ConnectorError,
    SendResult,
    connector_for,
    ensure_active,
    register,
    unregister,
)

__all__ = [
    "Connector",
    "ConnectorError",
    "SendResult",
    "connector_for",
    "ensure_active",
    "register",
    "unregister",
]
