"""«Sincronizar plantillas»: the WABA's message templates and their approval state from Graph,
and the template status webhooks (approved, rejected, paused) that keep them current."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from channels_conn.meta import graph
from channels_conn.whatsapp.receive import token_of
from deskconfig.accounts import ChannelAccount
from deskconfig.models import WhatsAppTemplate

STATUSES = {s.value for s in WhatsAppTemplate.Status}
CATEGORIES = {c.value for c in WhatsAppTemplate.Category}
PAGES = 20  # 20 pages of 100: far more templates than a WABA may have


@dataclass(frozen=True)
class SyncResult:
    created: int
    updated: int


def _body(template: dict[str, Any]) -> str:
    for component in template.get("components") or []:
        if str(component.get("type")).upper() == "BODY":
            return str(component.get("text") or "")
    return ""


def fetch_templates(account: ChannelAccount) -> list[dict[str, Any]]:
    """Every template of the account's WABA (follows the paging cursors)."""
    waba = str((account.settings or {}).get("waba_id") or "")
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100, "fields": "name,language,status,category,components"}
    for _page in range(PAGES):
        answer = graph.call(
            "GET", f"/{waba}/message_templates", token=token_of(account), params=params
        )
        found.extend(t for t in answer.get("data") or [] if isinstance(t, dict))
        after = ((answer.get("paging") or {}).get("cursors") or {}).get("after")
        if not after or not (answer.get("paging") or {}).get("next"):
            break
        params = {**params, "after": after}
    return found


def templates_sync(*, account: ChannelAccount) -> SyncResult:
    """Create or update the account's templates as Graph lists them (network first, then one
    transaction). Templates Graph no longer lists are left as they are."""
    remote = fetch_templates(account)
    created = updated = 0
    with transaction.atomic():
        for item in remote:
            name, language = str(item.get("name") or ""), str(item.get("language") or "es")
            if not name:
                continue
            status = str(item.get("status") or "PENDING").upper()
            category = str(item.get("category") or "UTILITY").upper()
            _obj, was_created = WhatsAppTemplate.objects.update_or_create(
                account=account,
                name=name[:512],
                language=language[:15],
                defaults={
                    "tenant_id": account.tenant_id,
                    "body": _body(item),
                    "status": status if status in STATUSES else WhatsAppTemplate.Status.PENDING,
                    "category": category
                    if category in CATEGORIES
                    else WhatsAppTemplate.Category.UTILITY,
                },
            )
            created += was_created
            updated += not was_created
    return SyncResult(created, updated)


def template_status_update(*, account: ChannelAccount, value: dict[str, Any]) -> None:
    """``message_template_status_update``: {event: APPROVED|REJECTED|PAUSED...,
    message_template_name, message_template_language}."""
    status = str(value.get("event") or "").upper()
    if status not in STATUSES:
        return
    WhatsAppTemplate.objects.filter(
        account=account,
        name=str(value.get("message_template_name") or ""),
        language=str(value.get("message_template_language") or ""),
    ).update(status=status)
