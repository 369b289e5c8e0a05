"""Meta's error codes as the agent and the admin read them (Spanish, with gettext)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from channels_conn.base import ConnectorError
from channels_conn.meta.graph import GraphError

TOKEN_EXPIRED = 190
SESSION_INVALID = 102  # an API session (token) Meta no longer accepts
WINDOW_CLOSED = 131047
# Graph's "the credentials are no longer valid": the account must be reconnected.
AUTH_CODES = frozenset({TOKEN_EXPIRED, SESSION_INVALID})


def is_auth_failure(code: object) -> bool:
    """Whether Graph's error ``code`` (an int, or the string a webhook carries) means the
    account's token stopped working."""
    try:
        return int(str(code)) in AUTH_CODES
    except ValueError:
        return False


def title_for(code: int, fallback: str = "", *, subcode: int = 0) -> str:
    """Meta's error ``code`` in words (the provider's own text when we have none)."""
    titles = {
        WINDOW_CLOSED: _(
            "Pasaron más de 24 horas desde el último mensaje del cliente: WhatsApp solo "
            "acepta una plantilla aprobada."
        ),
        131026: _(
            "No se pudo entregar: el número no usa WhatsApp o no puede recibir este mensaje."
        ),
        131051: _("WhatsApp no admite este tipo de mensaje."),
        TOKEN_EXPIRED: _(
            "El token de acceso venció o fue revocado: reconecta la cuenta en Administración > "
            "Canales."
        ),
        SESSION_INVALID: _(
            "Meta ya no acepta la sesión del token de acceso: reconecta la cuenta en "
            "Administración > Canales."
        ),
        130429: _("Meta limitó la velocidad de envío: se reintentará."),
        131056: _("Demasiados mensajes seguidos a este cliente: se reintentará."),
        132000: _("La cantidad de parámetros no coincide con la plantilla."),
        132001: _("La plantilla no existe en ese idioma o no está aprobada."),
        131009: _("Un valor del mensaje no es válido para WhatsApp."),
        100: _("Meta no reconoce un identificador o un parámetro: revisa los ID de la cuenta."),
        10: _("La app no tiene el permiso necesario en Meta."),
        200: _("La app no tiene el permiso necesario en Meta."),
        551: _("Esta persona no está disponible en este momento."),
    }
    if subcode == 2018278:
        return _(
            "Pasaron más de 7 días desde el último mensaje del cliente: Meta no permite "
            "responderle por mensaje privado."
        )
    if subcode == 2018108 or (code == 10 and "comment" in fallback.lower()):
        return _("Este comentario ya recibió su respuesta privada o pasaron más de 7 días.")
    if code in titles:
        return titles[code]
    if fallback:
        return _("Meta rechazó el envío (código %(code)s): %(text)s") % {
            "code": code,
            "text": fallback[:200],
        }
    return _("Meta rechazó el envío (código %(code)s).") % {"code": code}


# A failed status names these codes in Spanish; any other failure shows Meta's own title.
STATUS_CODES = {WINDOW_CLOSED, 131026, 131051, *AUTH_CODES}


def status_title(error: dict[str, object]) -> str:
    """The reason a ``failed`` status (or a webhook-level error) shows: Spanish for the codes
    agents meet every day, Meta's title (and details) for the rest."""
    try:
        code = int(str(error.get("code") or 0))
    except ValueError:
        code = 0
    if code in STATUS_CODES:
        return title_for(code)
    details = error.get("error_data")
    detail = str((details or {}).get("details") or "") if isinstance(details, dict) else ""
    title = str(error.get("title") or error.get("message") or "")
    text = " · ".join(dict.fromkeys(p for p in (title, detail) if p))
    if not text:
        return title_for(code)
    return _("Meta: %(text)s (código %(code)s)") % {"text": text[:300], "code": code}


def connector_error(exc: GraphError) -> ConnectorError:
    """A send's failure: transient ones are retried, the rest fail with the reason shown."""
    if exc.status == 0:
        return ConnectorError(
            _("No se pudo conectar con Meta (%(what)s): se reintentará.") % {"what": exc.message},
            permanent=False,
        )
    if exc.transient:
        return ConnectorError(
            title_for(exc.code, exc.message, subcode=exc.subcode), permanent=False
        )
    return ConnectorError(title_for(exc.code, exc.message, subcode=exc.subcode), permanent=True)
