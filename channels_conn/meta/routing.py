"""Which of our accounts a webhook entry is for: WhatsApp by the phone number id of each change
(the WABA id for account-level updates), Facebook by the page id, Instagram by the professional
account id. No query for ids seen lately (a per-process table, dropped whenever an account
changes); one query, across tenants, for the others (the webhook has no tenant until routed)."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Q

from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from helpdesk.tenancy import bypass_context

WHATSAPP = "whatsapp_business_account"
PAGE = "page"
INSTAGRAM = "instagram"
OBJECTS = {
    WHATSAPP: ChannelKind.WHATSAPP,
    PAGE: ChannelKind.FACEBOOK,
    INSTAGRAM: ChannelKind.INSTAGRAM,
}
# The settings key that holds the routing id of each kind.
ID_KEY = {
    ChannelKind.WHATSAPP: "phone_number_id",
    ChannelKind.FACEBOOK: "page_id",
    ChannelKind.INSTAGRAM: "instagram_account_id",
}


@dataclass
class Routed:
    account: ChannelAccount
    entry: dict[str, Any]


@dataclass
class Routing:
    routed: list[Routed] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def _keys(obj: str, entry: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(settings key, id, the part of the entry for that id) of one entry."""
    entry_id = str(entry.get("id") or "")
    if obj != WHATSAPP:
        return [(ID_KEY[OBJECTS[obj]], entry_id, entry)]
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for change in entry.get("changes") or []:
        value = change.get("value") if isinstance(change, dict) else None
        number = ((value or {}).get("metadata") or {}).get("phone_number_id")
        key = ("phone_number_id", str(number)) if number else ("waba_id", entry_id)
        groups[key].append(change)
    return [(k, i, {**entry, "changes": changes}) for (k, i), changes in groups.items()]


# Which account each routing id names, kept in this process: the webhook's answer path does
# no SELECT for a known id. Any save or delete of an account changes a version stamp in the
# shared cache (``accounts_changed``), which every process compares once per POST; the
# entries also expire, for writes that bypass ``save()``.
CACHE_SECONDS = 60.0
# Unknown ids are remembered too (answered 200 without a query), so posts naming random ids
# could grow the table without end: past this size it starts over.
TABLE_LIMIT = 10_000
VERSION_KEY = "meta-routing-version"
_Key = tuple[str, str, str]  # (kind, settings key, id)
_accounts: dict[_Key, tuple[float, ChannelAccount | None]] = {}
_seen_version: list[str | None] = [None]


def accounts_changed(**_kwargs: Any) -> None:
    """A channel account was saved or deleted: every process forgets its routing table."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)


def _fresh_table() -> None:
    version = cache.get(VERSION_KEY)
    if version != _seen_version[0]:
        _accounts.clear()
        _seen_version[0] = version


def _load(kind: str, wanted: dict[str, set[str]]) -> None:
    """Read the accounts of ids not in the table (one query, across tenants) into it."""
    query = Q()
    for key, idents in wanted.items():
        query |= Q(**{f"settings__{key}__in": sorted(idents)})
    with bypass_context():
        accounts = list(ChannelAccount.all_tenants.filter(query, kind=kind, active=True))
    found: dict[_Key, ChannelAccount | None] = {}
    for account in accounts:
        for key in wanted:
            ident = str((account.settings or {}).get(key) or "")
            slot = (kind, key, ident)
            # Two accounts claiming one id (the forms refuse it): deliver to neither.
            found[slot] = None if slot in found else account
    expires = time.monotonic() + CACHE_SECONDS
    if len(_accounts) > TABLE_LIMIT:
        _accounts.clear()
    for key, idents in wanted.items():
        for ident in idents:
            _accounts[(kind, key, ident)] = (expires, found.get((kind, key, ident)))


def _lookup(kind: str, key: str, ident: str) -> tuple[bool, ChannelAccount | None]:
    cached = _accounts.get((kind, key, ident))
    if cached is None or cached[0] < time.monotonic():
        return False, None
    return True, cached[1]


def route(payload: dict[str, Any]) -> Routing:
    """The entries of ``payload`` split by account; ids no active account has are listed."""
    obj = str(payload.get("object") or "")
    result = Routing()
    if obj not in OBJECTS or not isinstance(payload.get("entry"), list):
        return result
    kind = str(OBJECTS[obj])
    parts = [
        part for entry in payload["entry"] if isinstance(entry, dict) for part in _keys(obj, entry)
    ]
    if not parts:
        return result
    _fresh_table()
    missing: dict[str, set[str]] = defaultdict(set)
    for key, ident, _part in parts:
        if not _lookup(kind, key, ident)[0]:
            missing[key].add(ident)
    if missing:
        _load(kind, missing)
    for key, ident, part in parts:
        account = _lookup(kind, key, ident)[1]
        if account is None:
            result.unknown.append(f"{obj}:{ident}")
        else:
            result.routed.append(Routed(account, part))
    return result


def own_secret(account: ChannelAccount) -> str:
    """The app secret the account brought (its own Meta app), or "" for the platform's."""
    creds: dict[str, Any] = account.credentials if isinstance(account.credentials, dict) else {}
    return str(creds.get("app_secret") or "")


def verify_tokens() -> set[str]:
    """The verify tokens of the accounts that bring their own Meta app."""
    with bypass_context():
        accounts = ChannelAccount.all_tenants.filter(kind__in=list(OBJECTS.values()))
        tokens = set()
        for account in accounts:
            creds: dict[str, Any] = (
                account.credentials if isinstance(account.credentials, dict) else {}
            )
            if creds.get("verify_token"):
                tokens.add(str(creds["verify_token"]))
    return tokens
