"""«Probar conexión» of an X account: ``users/me`` with the user's tokens (what replies, DMs and
posts use) and the account's profile with the bearer token (what reading mentions uses). Never
raises; says in the user's language what is wrong."""

from __future__ import annotations

import requests
import tweepy
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_conn.email.probe import ProbeResult
from channels_conn.twitter import errors
from channels_conn.twitter.client import XCredentials, make_client


def _failure(exc: Exception) -> str:
    if isinstance(exc, tweepy.Unauthorized):
        return errors.unauthorized_reason(exc)
    if isinstance(exc, tweepy.Forbidden):
        return errors.forbidden_reason(exc)
    if isinstance(exc, tweepy.TooManyRequests):
        until = timezone.localtime(errors.reset_at(exc))
        return _("X limitó las consultas: prueba de nuevo después de las %(time)s.") % {
            "time": until.strftime("%H:%M")
        }
    if isinstance(exc, tweepy.NotFound):
        return _("X no encontró la cuenta con ese ID (404): revisa el ID de la cuenta.")
    if isinstance(exc, tweepy.TwitterServerError):
        return _("X respondió con un error de su lado (%(code)s): intenta más tarde.") % {
            "code": exc.response.status_code
        }
    if isinstance(exc, requests.Timeout):
        return _("X no respondió a tiempo (%(base)s).") % {"base": settings.TWITTER_API_BASE_URL}
    if isinstance(exc, requests.RequestException):
        return _("No se pudo conectar con X (%(base)s): %(error)s.") % {
            "base": settings.TWITTER_API_BASE_URL,
            "error": type(exc).__name__,
        }
    return _("Error inesperado: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"[:300]}


def probe_x(creds: XCredentials) -> list[ProbeResult]:
    client = make_client(creds)
    results: list[ProbeResult] = []
    try:
        me = client.get_me(user_fields=["username", "name"])
        data = dict(me.data.data if me.data is not None else {})
        if creds.user_id and str(data.get("id")) != creds.user_id:
            results.append(
                ProbeResult(
                    "X",
                    False,
                    _(
                        "Los tokens son de @%(username)s (ID %(id)s), no de la cuenta con ID "
                        "%(expected)s: corrige el ID o los tokens."
                    )
                    % {
                        "username": data.get("username"),
                        "id": data.get("id"),
                        "expected": creds.user_id,
                    },
                )
            )
        else:
            results.append(
                ProbeResult(
                    "X",
                    True,
                    _("Tokens correctos: X reconoce a @%(username)s (ID %(id)s).")
                    % {"username": data.get("username"), "id": data.get("id")},
                )
            )
    except Exception as exc:
        results.append(ProbeResult("X", False, _failure(exc)))
    if not creds.bearer_token:
        results.append(
            ProbeResult("X", False, _("Falta el bearer token: sin él no se leen las menciones."))
        )
        return results
    try:
        client.get_user(id=creds.user_id, user_fields=["username"])
        results.append(
            ProbeResult("X", True, _("Bearer token correcto: se pueden leer las menciones."))
        )
    except Exception as exc:
        results.append(ProbeResult("X", False, _failure(exc)))
    return results
