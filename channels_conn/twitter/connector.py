"""Sending on X: a public reply to the chosen tweet, or a DM to the ticket's customer; and a
new public post (the scheduled posts). Every outcome maps to ``SendResult`` or a
``ConnectorError``: 401 marks the account «Reconectar» (``deskconfig.reconnect``), 400/403/404
and a post over X's length are permanent, 429/5xx/network are passing (the delivery task
retries with backoff)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
import tweepy
from django.utils.translation import gettext as _

from channels_conn.base import ConnectorError, SendResult, ensure_active
from channels_conn.twitter import errors
from channels_conn.twitter.client import XCredentials, make_api, make_client
from channels_conn.twitter.models import TwitterEvent
from channels_conn.twitter.text import MAX_WEIGHTED_LENGTH, weighted_length
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.reconnect import account_reconnect_needed
from tickets.models import Direction, Message

DM_MAX_LENGTH = 10_000


def length_error(text: str) -> str | None:
    """The reason a public post cannot go as written, or None."""
    n = weighted_length(text)
    if n <= MAX_WEIGHTED_LENGTH:
        return None
    return _(
        "El texto mide %(n)s de %(max)s caracteres según X (cada enlace cuenta 23 y los emojis "
        "y algunos alfabetos cuentan 2): acórtalo."
    ) % {"n": n, "max": MAX_WEIGHTED_LENGTH}


def _failure(exc: Exception, account: ChannelAccount) -> ConnectorError:
    if isinstance(exc, tweepy.Unauthorized):
        reason = errors.unauthorized_reason(exc)
        account_reconnect_needed(account=account, reason=reason)
        return ConnectorError(reason, permanent=True)
    if isinstance(exc, tweepy.Forbidden):
        return ConnectorError(
            _("X rechazó el envío (403): %(detail)s")
            % {"detail": errors.detail(exc) or _("sin detalle")},
            permanent=True,
        )
    if isinstance(exc, tweepy.TooManyRequests):
        until = errors.reset_at(exc)
        return ConnectorError(errors.rate_limited_reason(until), permanent=False)
    if isinstance(exc, tweepy.NotFound):
        return ConnectorError(
            _("X no encontró el tuit o la persona (404): puede que se haya borrado."),
            permanent=True,
        )
    if isinstance(exc, tweepy.BadRequest):
        return ConnectorError(
            _("X no aceptó el envío (400): %(detail)s")
            % {"detail": errors.detail(exc) or _("sin detalle")},
            permanent=True,
        )
    if errors.is_transient(exc):
        return ConnectorError(errors.server_reason(exc), permanent=False)
    return ConnectorError(
        _("X respondió algo inesperado (%(kind)s).") % {"kind": type(exc).__name__},
        permanent=False,
    )


def _reply_target(message: Message) -> str:
    """The tweet a public reply answers: the chosen one, else the customer's last tweet."""
    if message.reply_to_id and message.reply_to and message.reply_to.provider_id:
        return str(message.reply_to.provider_id)
    last = (
        Message.objects.filter(
            ticket_id=message.ticket_id,
            direction=Direction.IN,
            is_public=True,
            provider_id__isnull=False,
        )
        .order_by("-created_at", "-id")
        .values_list("provider_id", flat=True)
        .first()
    )
    return str(last or "")


def _participant(message: Message) -> str:
    """The customer's X user id, from the events of the ticket's inbound messages."""
    ids = list(
        Message.objects.filter(
            ticket_id=message.ticket_id, direction=Direction.IN, provider_id__isnull=False
        )
        .order_by("-created_at", "-id")
        .values_list("provider_id", flat=True)[:20]
    )
    authors = dict(
        TwitterEvent.objects.filter(account_id=message.account_id, event_id__in=ids)
        .exclude(author_id="")
        .values_list("event_id", "author_id")
    )
    return next((authors[i] for i in ids if i in authors), "")


@dataclass(frozen=True)
class Published:
    provider_id: str
    url: str


class TwitterConnector:
    kind: str = ChannelKind.TWITTER.value

    def send(self, account: ChannelAccount, message: Message) -> SendResult:
        ensure_active(account)
        if message.attachments.exists():
            raise ConnectorError(
                _("Por X solo se envía texto desde el helpdesk: quita el adjunto."),
                permanent=True,
            )
        client = make_client(XCredentials.of(account))
        try:
            if message.is_public:
                return SendResult(provider_id=self._reply(client, message))
            return SendResult(provider_id=self._dm(client, message))
        except (tweepy.TweepyException, requests.RequestException) as exc:
            raise _failure(exc, account) from exc

    def _reply(self, client: tweepy.Client, message: Message) -> str:
        problem = length_error(message.text)
        if problem:
            raise ConnectorError(problem, permanent=True)
        target = _reply_target(message)
        if not target:
            raise ConnectorError(
                _("No hay un tuit al que responder: responde por mensaje directo."),
                permanent=True,
            )
        resp = client.create_tweet(text=message.text, in_reply_to_tweet_id=target)
        data: dict[str, Any] = resp.data or {}
        return str(data["id"])

    def _dm(self, client: tweepy.Client, message: Message) -> str:
        if len(message.text) > DM_MAX_LENGTH:
            raise ConnectorError(
                _("Un mensaje directo de X admite hasta %(n)s caracteres.") % {"n": DM_MAX_LENGTH},
                permanent=True,
            )
        participant = _participant(message)
        if not participant:
            raise ConnectorError(
                _("No se sabe el id de X del cliente: responde a una mención suya."),
                permanent=True,
            )
        resp = client.create_direct_message(participant_id=participant, text=message.text)
        data: dict[str, Any] = resp.data or {}
        return str(data["dm_event_id"])


def tweet_publish(
    account: ChannelAccount, *, text: str, image: tuple[str, bytes] | None = None
) -> Published:
    """Publish a new public post on the account (a scheduled post). Raises ConnectorError."""
    ensure_active(account)
    problem = length_error(text)
    if problem:
        raise ConnectorError(problem, permanent=True)
    creds = XCredentials.of(account)
    try:
        media_ids = None
        if image is not None:
            import io

            name, content = image
            media = make_api(creds).simple_upload(name, file=io.BytesIO(content))
            media_ids = [media.media_id_string]
        resp = make_client(creds).create_tweet(text=text, media_ids=media_ids)
    except (tweepy.TweepyException, requests.RequestException) as exc:
        raise _failure(exc, account) from exc
    tweet_id = str((resp.data or {})["id"])
    handle = creds.username or "i"
    return Published(tweet_id, f"https://x.com/{handle}/status/{tweet_id}")


twitter_connector = TwitterConnector()
