"""Which of our accounts a webhook entry is for: WhatsApp by the phone number id of each change
(the WABA id for account-level updates), Facebook by the page id, Instagram by the professional
account id. One query per POST, across tenants (the webhook has no tenant until it is routed)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

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


def route(payload: dict[str, Any]) -> Routing:
    """The entries of ``payload`` split by account; ids no active account has are listed."""
    obj = str(payload.get("object") or "")
    result = Routing()
    if obj not in OBJECTS or not isinstance(payload.get("entry"), list):
        return result
    kind = OBJECTS[obj]
    parts = [
        part for entry in payload["entry"] if isinstance(entry, dict) for part in _keys(obj, entry)
    ]
    wanted: dict[str, set[str]] = defaultdict(set)
    for key, ident, _part in parts:
        wanted[key].add(ident)
    query = Q()
    for key, idents in wanted.items():
        query |= Q(**{f"settings__{key}__in": sorted(idents)})
    if not wanted:
        return result
    with bypass_context():
        accounts = list(ChannelAccount.all_tenants.filter(query, kind=kind, active=True))
    by_id: dict[tuple[str, str], ChannelAccount | None] = {}
    for account in accounts:
        for key in wanted:
            found = (key, str((account.settings or {}).get(key) or ""))
            # Two accounts claiming one id (the forms refuse it): deliver to neither.
            by_id[found] = None if found in by_id else account
    for key, ident, part in parts:
        account = by_id.get((key, ident))
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
