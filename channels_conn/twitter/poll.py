"""Reading one X account: mentions since the stored ``since_id`` and the newest DM events.

Contract of :func:`poll_account`: one poll per account at a time (a claim on its state row
that a crashed worker's poll gives up by expiry); every tweet and DM event read is stored raw
(``TwitterEvent``, unique on its id) before anything else, the cursors are saved after the
storing, then the stored events are filed oldest first. On 429 the account waits until X's
reset instant (the others go on); on 401/403 it is marked with the reason
(``deskconfig.reconnect``) and not read again until an admin reconnects it; a 5xx or a network
error is retried later with a growing delay. No network call runs inside a database
transaction.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Any

import tweepy
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from channels_conn.twitter import errors
from channels_conn.twitter.client import XCredentials, make_client, rate_headers
from channels_conn.twitter.ingest import event_process
from channels_conn.twitter.models import DEFAULT_INTERVAL, TwitterEvent, TwitterState
from deskconfig.accounts import ChannelAccount
from deskconfig.reconnect import account_reconnect_needed

log = logging.getLogger(__name__)

CLAIM_SECONDS = 10 * 60  # longer than any poll; a crashed worker's claim expires after it
PAGE_SIZE = 100
MAX_PAGES = 8  # X keeps only the 800 most recent mentions reachable
MAX_BACKOFF = 15 * 60
PROCESS_BATCH = 500

MENTION_PARAMS: dict[str, Any] = {
    "expansions": ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id"],
    "tweet_fields": [
        "created_at",
        "conversation_id",
        "in_reply_to_user_id",
        "referenced_tweets",
        "author_id",
    ],
    "user_fields": ["username", "name"],
}
DM_PARAMS: dict[str, Any] = {
    "dm_event_fields": [
        "created_at",
        "sender_id",
        "dm_conversation_id",
        "attachments",
        "referenced_tweets",
    ],
    "event_types": "MessageCreate",
    "expansions": ["sender_id"],
    "user_fields": ["username", "name"],
}


@dataclass
class PollResult:
    claimed: bool = True
    stored: int = 0
    duplicates: int = 0
    processed: int = 0
    skipped: int = 0
    failed: int = 0
    error: str = ""


def state_of(account: ChannelAccount) -> TwitterState:
    state, _created = TwitterState.objects.get_or_create(
        tenant_id=account.tenant_id, account=account
    )
    return state


def poll_claim(account: ChannelAccount) -> TwitterState | None:
    """Take the account's poll for this worker, or None when another poll holds it."""
    state = state_of(account)
    now = timezone.now()
    taken = (
        TwitterState.objects.filter(pk=state.pk)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + datetime.timedelta(seconds=CLAIM_SECONDS))
    )
    if not taken:
        return None
    state.refresh_from_db()
    return state


def _store(
    account: ChannelAccount, kind: str, rows: list[TwitterEvent], result: PollResult
) -> None:
    """Insert-or-ignore on (account, kind, event id)."""
    if not rows:
        return
    ids = [r.event_id for r in rows]
    known = set(
        TwitterEvent.objects.filter(account=account, kind=kind, event_id__in=ids).values_list(
            "event_id", flat=True
        )
    )
    fresh = [r for r in rows if r.event_id not in known]
    TwitterEvent.objects.bulk_create(fresh, ignore_conflicts=True)
    result.stored += len(fresh)
    result.duplicates += len(rows) - len(fresh)


def _data(obj: Any) -> dict[str, Any]:
    return dict(getattr(obj, "data", None) or obj or {})


def _slower(client: tweepy.Client, state: TwitterState) -> None:
    """Spread the remaining calls of X's window over the time left in it."""
    h = rate_headers(client)
    try:
        remaining, reset = int(h["x-rate-limit-remaining"]), int(h["x-rate-limit-reset"])
    except (KeyError, ValueError):
        return
    left = reset - int(timezone.now().timestamp())
    if left <= 0:
        return
    needed = left if remaining <= 0 else left // max(remaining, 1)
    state.interval_seconds = max(state.interval_seconds, min(needed, MAX_BACKOFF))


def _mentions(
    client: tweepy.Client, account: ChannelAccount, state: TwitterState, result: PollResult
) -> None:
    creds = XCredentials.of(account)
    token: str | None = None
    newest = ""
    # The first poll takes one page: an account connected today does not import 800 old tweets.
    pages = MAX_PAGES if state.since_id else 1
    for _page in range(pages):
        resp = client.get_users_mentions(
            creds.user_id,
            since_id=state.since_id or None,
            max_results=PAGE_SIZE,
            pagination_token=token,
            **MENTION_PARAMS,
        )
        _slower(client, state)
        meta: dict[str, Any] = resp.meta or {}
        newest = newest or str(meta.get("newest_id") or "")
        includes: dict[str, Any] = resp.includes or {}
        users = {str(u.id): _data(u) for u in includes.get("users", [])}
        refs = {str(t.id): _data(t) for t in includes.get("tweets", [])}
        rows = []
        for tweet in resp.data or []:
            data = _data(tweet)
            author_id = str(data.get("author_id") or "")
            wanted = [str(r.get("id")) for r in data.get("referenced_tweets") or []]
            payload = {
                "tweet": data,
                "author": users.get(author_id, {}),
                "referenced": [refs[i] for i in wanted if i in refs],
            }
            rows.append(
                TwitterEvent(
                    tenant_id=account.tenant_id,
                    account=account,
                    kind=TwitterEvent.Kind.MENTION,
                    event_id=str(data["id"]),
                    author_id=author_id,
                    payload=payload,
                )
            )
        _store(account, TwitterEvent.Kind.MENTION, rows, result)
        token = meta.get("next_token")
        if not token:
            break
    if newest:
        # Only after every page was stored: an interrupted walk starts again from the old
        # since_id next time, and the tweets already stored are recognised.
        state.since_id = newest
        state.save(update_fields=["since_id", "interval_seconds"])


def _dms(
    client: tweepy.Client, account: ChannelAccount, state: TwitterState, result: PollResult
) -> None:
    """DM events come newest first with no since_id: walk back to the newest one stored."""
    stop_at = int(state.dm_newest_id or 0)
    token: str | None = None
    newest = 0
    pages = MAX_PAGES if stop_at else 1
    for _page in range(pages):
        resp = client.get_direct_message_events(
            max_results=PAGE_SIZE, pagination_token=token, **DM_PARAMS
        )
        _slower(client, state)
        includes: dict[str, Any] = resp.includes or {}
        users = {str(u.id): _data(u) for u in includes.get("users", [])}
        rows = []
        reached = False
        for event in resp.data or []:
            data = _data(event)
            event_id = int(data["id"])
            newest = max(newest, event_id)
            if event_id <= stop_at:
                reached = True
                continue
            sender = str(data.get("sender_id") or "")
            rows.append(
                TwitterEvent(
                    tenant_id=account.tenant_id,
                    account=account,
                    kind=TwitterEvent.Kind.DM,
                    event_id=str(event_id),
                    author_id=sender,
                    payload={"dm": data, "sender": users.get(sender, {})},
                )
            )
        _store(account, TwitterEvent.Kind.DM, rows, result)
        token = (resp.meta or {}).get("next_token")
        if reached or not token:
            break
    if newest > stop_at:
        state.dm_newest_id = str(newest)
        state.save(update_fields=["dm_newest_id", "interval_seconds"])


def process_pending(account: ChannelAccount, result: PollResult | None = None) -> PollResult:
    """File every stored, not yet filed event of the account, oldest first (so a reply finds
    the ticket of the tweet it answers)."""
    result = result or PollResult()
    own = XCredentials.of(account).user_id
    pending = list(
        TwitterEvent.objects.filter(account=account, status=TwitterEvent.Status.RECEIVED)[
            :PROCESS_BATCH
        ]
    )
    for event in sorted(pending, key=lambda e: (e.kind != "mention", int(e.event_id))):
        event.account = account
        status = event_process(event, own_user_id=own)
        if status == TwitterEvent.Status.PROCESSED:
            result.processed += 1
        elif status == TwitterEvent.Status.SKIPPED:
            result.skipped += 1
        else:
            result.failed += 1
    return result


def _finish(state: TwitterState, *, error: str, next_at: datetime.datetime) -> None:
    now = timezone.now()
    state.last_error = error[:2000]
    state.polled_at = now
    state.next_poll_at = next_at
    state.claimed_until = None
    state.save(
        update_fields=[
            "last_error",
            "polled_at",
            "next_poll_at",
            "claimed_until",
            "server_errors",
            "rate_limited_until",
            "interval_seconds",
        ]
    )


MISSING_CREDENTIALS_WAIT = datetime.timedelta(hours=1)
RECONNECT_WAIT = datetime.timedelta(hours=1)


def _missing_credentials(account: ChannelAccount) -> str:
    """An account saved without its keys (the demo's, one half set up) is not sent to X:
    X would answer 401 and the account would be disconnected for nothing."""
    creds = XCredentials.of(account)
    if creds.bearer_token and creds.api_key and creds.access_token:
        return ""
    with translation.override(account.tenant.language or "es"):
        return gettext(
            "Faltan credenciales de X (bearer token, API key o access token): complétalas en "
            "Administración > Canales."
        )


def poll_account(account: ChannelAccount) -> PollResult:
    """Poll the account once (see the module docstring)."""
    state = poll_claim(account)
    if state is None:
        return PollResult(claimed=False)
    if account.reconnect_reason:  # X would refuse again: wait for the admin's «Reconectar»
        marked = PollResult(error=account.reconnect_reason)
        with translation.override(account.tenant.language or "es"):
            process_pending(account, marked)  # what was stored is still filed
        _finish(state, error=marked.error, next_at=timezone.now() + RECONNECT_WAIT)
        return marked
    missing = _missing_credentials(account)
    if missing:
        _finish(state, error=missing, next_at=timezone.now() + MISSING_CREDENTIALS_WAIT)
        return PollResult(error=missing)
    result = PollResult()
    now = timezone.now()
    error = ""
    state.interval_seconds = DEFAULT_INTERVAL
    next_at = now + datetime.timedelta(seconds=DEFAULT_INTERVAL)
    with translation.override(account.tenant.language or "es"):
        try:
            client = make_client(XCredentials.of(account))
            _mentions(client, account, state, result)
            _dms(client, account, state, result)
            state.server_errors = 0
            state.rate_limited_until = None
            next_at = now + datetime.timedelta(seconds=state.interval_seconds)
        except tweepy.TooManyRequests as exc:
            until = errors.reset_at(exc)
            state.rate_limited_until = until
            next_at = until
            error = errors.rate_limited_reason(until)
        except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
            error = (
                errors.unauthorized_reason(exc)
                if isinstance(exc, tweepy.Unauthorized)
                else errors.forbidden_reason(exc)
            )
            # The account stays active (deskconfig.reconnect): the beat skips it until an
            # admin reconnects it, and every send is refused with this reason.
            account_reconnect_needed(account=account, reason=error)
        except Exception as exc:
            if not errors.is_transient(exc):
                log.exception("polling X account %s failed", account.pk)
            state.server_errors = min(state.server_errors + 1, 20)
            delay = min(DEFAULT_INTERVAL * 2 ** (state.server_errors - 1), MAX_BACKOFF)
            next_at = now + datetime.timedelta(seconds=delay)
            error = errors.server_reason(exc)
        finally:
            # What was stored is filed whatever happened to the reading.
            process_pending(account, result)
            _finish(state, error=error, next_at=next_at)
    result.error = error
    return result


def failed_events_retry(account: ChannelAccount) -> PollResult:
    """File again the account's events that failed (after a fix, or a passing error)."""
    TwitterEvent.objects.filter(account=account, status=TwitterEvent.Status.FAILED).update(
        status=TwitterEvent.Status.RECEIVED, error=""
    )
    with translation.override(account.tenant.language or "es"):
        return process_pending(account)
