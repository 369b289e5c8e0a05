"""What X's answers mean for us, told in the user's language.

401 means the keys or tokens are no longer valid (the account must be reconnected); 403 that X
refuses this action to this app or account; 429 that the account hit a rate limit until the
``x-rate-limit-reset`` instant; 5xx and network errors are passing (retried with backoff).
"""

from __future__ import annotations

import datetime

import requests
import tweepy
from django.utils import timezone
from django.utils.translation import gettext as _


def detail(exc: tweepy.HTTPException) -> str:
    """X's own explanation (the ``detail``/``message`` of its errors), short."""
    texts = [str(m) for m in (exc.api_messages or []) if m]
    return "; ".join(texts)[:300]


def unauthorized_reason(exc: tweepy.HTTPException) -> str:
    return _(
        "X rechazó las credenciales de la cuenta (error 401): revisa la API key, su secreto, "
        "el access token y su secreto (o el bearer token), guárdalos y reconecta la cuenta."
    ) + (f" ({detail(exc)})" if detail(exc) else "")


def forbidden_reason(exc: tweepy.HTTPException) -> str:
    return _(
        "X no permite esta acción a la cuenta (error 403): revisa que la app tenga permisos de "
        "lectura, escritura y mensajes directos, y el nivel de acceso de la API."
    ) + (f" ({detail(exc)})" if detail(exc) else "")


def reset_at(exc: tweepy.TooManyRequests) -> datetime.datetime:
    """When the limit resets (X's header); a minute from now when X did not say."""
    now = timezone.now()
    if exc.reset_time:
        return max(now, datetime.datetime.fromtimestamp(int(exc.reset_time), tz=datetime.UTC))
    return now + datetime.timedelta(minutes=1)


def rate_limited_reason(until: datetime.datetime) -> str:
    local = timezone.localtime(until)
    return _("X limitó las consultas de la cuenta hasta las %(time)s; se retoma sola.") % {
        "time": local.strftime("%H:%M")
    }


def server_reason(exc: BaseException) -> str:
    if isinstance(exc, tweepy.TwitterServerError):
        return _("X respondió con un error de su lado (%(code)s); se reintenta.") % {
            "code": exc.response.status_code
        }
    if isinstance(exc, requests.Timeout):
        return _("X no respondió a tiempo; se reintenta.")
    return _("No se pudo conectar con X (%(error)s); se reintenta.") % {"error": type(exc).__name__}


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, tweepy.TwitterServerError | requests.RequestException)
