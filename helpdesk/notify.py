"""The bell (a Notification row pushed live) and, when the person opted in, an email."""

from __future__ import annotations

from django.db import transaction
from django.template.loader import render_to_string
from django.utils.html import format_html

from helpdesk.live import publish, user_group
from helpdesk.models import Notification, User


def notify(*, user: User, text: str, url: str = "", email: bool = False) -> Notification:
    note = Notification.objects.create(tenant_id=user.tenant_id, user=user, text=text, url=url)
    unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    html = format_html('<span class="badge" id="bell-count" hx-swap-oob="true">{}</span>', unread)
    user_id, tenant_id = user.pk, user.tenant_id
    transaction.on_commit(lambda: publish(user_group(user_id), {"html": str(html)}))
    if email and user.email:
        from helpdesk.tasks import send_notification_email

        transaction.on_commit(
            lambda: send_notification_email.delay(tenant_id, note.pk)  # type: ignore[attr-defined]
        )
    return note


def notification_email_body(note: Notification) -> str:
    return render_to_string("helpdesk/email/notification.txt", {"note": note})
