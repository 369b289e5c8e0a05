"""Writing, changing and publishing scheduled posts.

At most once: the publisher claims due posts inside one transaction with
``SELECT ... FOR UPDATE SKIP LOCKED`` and moves them to «publishing» before any network call,
so two beat runs or workers never take the same post; a post found still «publishing» after a
crash is failed with a reason (it may or may not be out), never published again by itself.
After downtime due posts go oldest first, and those older than the tenant's limit are marked
missed. Every change pushes the post to the scheduled-post columns (``tickets.live``).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_conn.base import ConnectorError
from channels_conn.twitter.connector import Published, length_error, tweet_publish
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from helpdesk.models import User
from publishing.facebook import page_publish
from publishing.models import PublishingSettings
from publishing.queries import missed_after_minutes
from tickets import live
from tickets.models import ScheduledPost
from tickets.services import ActionRefused

log = logging.getLogger(__name__)

S = ScheduledPost.Status
CLAIM_BATCH = 20
STUCK_AFTER = datetime.timedelta(minutes=10)  # far longer than a publish call with timeouts
PAST_TOLERANCE = datetime.timedelta(minutes=1)
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
IMAGE_MAX = 5 * 1024 * 1024


@dataclass(frozen=True)
class Image:
    name: str
    content: bytes
    content_type: str


def _check(text: str, accounts: Sequence[ChannelAccount], publish_at: datetime.datetime) -> str:
    text = (text or "").strip()
    if not text:
        raise ActionRefused(_("Escribe el texto de la publicación."))
    if not accounts:
        raise ActionRefused(_("Elige al menos una cuenta."))
    if any(a.kind == ChannelKind.TWITTER for a in accounts):
        problem = length_error(text)
        if problem:
            raise ActionRefused(problem)
    if publish_at < timezone.now() - PAST_TOLERANCE:
        raise ActionRefused(_("Esa hora ya pasó: elige una hora futura."))
    return text


def _check_image(image: Image | None) -> None:
    if image is None:
        return
    if image.content_type not in IMAGE_TYPES:
        raise ActionRefused(_("La imagen debe ser JPG, PNG, GIF o WebP."))
    if len(image.content) > IMAGE_MAX:
        raise ActionRefused(_("La imagen pesa más de 5 MB."))


def post_create(
    *,
    actor: User,
    accounts: Sequence[ChannelAccount],
    text: str,
    publish_at: datetime.datetime,
    image: Image | None = None,
) -> list[ScheduledPost]:
    """One scheduled post per chosen account (each publishes and fails on its own)."""
    text = _check(text, accounts, publish_at)
    _check_image(image)
    now = timezone.now()
    posts = []
    with transaction.atomic():
        for account in accounts:
            post = ScheduledPost(
                tenant_id=account.tenant_id,
                account=account,
                text=text,
                publish_at=publish_at,
                created_by=actor,
                created_at=now,
                updated_at=now,
            )
            if image is not None:
                post.image.save(image.name, ContentFile(image.content), save=False)
            post.save()
            live.post_changed(post)
            posts.append(post)
    return posts


def _locked(post: ScheduledPost, *allowed: str) -> ScheduledPost:
    locked = ScheduledPost.objects.select_for_update().select_related("account").get(pk=post.pk)
    if locked.status not in allowed:
        raise ActionRefused(
            _("Esta publicación ya no se puede cambiar: está «%(status)s».")
            % {"status": locked.get_status_display()}
        )
    return locked


def post_update(
    *,
    actor: User,
    post: ScheduledPost,
    text: str,
    publish_at: datetime.datetime,
    image: Image | None = None,
    remove_image: bool = False,
) -> ScheduledPost:
    """Change a post that has not gone yet."""
    _check_image(image)
    with transaction.atomic():
        post = _locked(post, S.SCHEDULED)
        post.text = _check(text, [post.account], publish_at)
        post.publish_at = publish_at
        if remove_image:
            post.image = ""  # type: ignore[assignment]
        if image is not None:
            post.image.save(image.name, ContentFile(image.content), save=False)
        post.updated_at = timezone.now()
        post.save(update_fields=["text", "publish_at", "image", "updated_at"])
        live.post_changed(post)
    return post


def post_cancel(*, actor: User, post: ScheduledPost) -> ScheduledPost:
    with transaction.atomic():
        post = _locked(post, S.SCHEDULED)
        post.status = S.CANCELLED
        post.updated_at = timezone.now()
        post.save(update_fields=["status", "updated_at"])
        live.post_changed(post)
    return post


def post_retry(*, actor: User, post: ScheduledPost) -> ScheduledPost:
    """A failed or missed post goes again now (the person checked it is not out)."""
    with transaction.atomic():
        post = _locked(post, S.FAILED, S.MISSED)
        now = timezone.now()
        post.status, post.error, post.publish_at, post.updated_at = S.SCHEDULED, "", now, now
        post.save(update_fields=["status", "error", "publish_at", "updated_at"])
        live.post_changed(post)
        tenant_id = post.tenant_id
        transaction.on_commit(lambda: _enqueue(tenant_id))
    return post


def _enqueue(tenant_id: int) -> None:
    from publishing.tasks import publish_tenant_posts

    publish_tenant_posts.delay(tenant_id)


def settings_update(*, actor: User, tenant_id: int, missed_after_minutes: int) -> None:
    PublishingSettings.objects.update_or_create(
        tenant_id=tenant_id, defaults={"missed_after_minutes": missed_after_minutes}
    )


def _mark(posts: list[ScheduledPost], status: str, error: str = "") -> None:
    now = timezone.now()
    for post in posts:
        post.status, post.error, post.updated_at = status, error[:500], now
        if status == S.PUBLISHING:
            post.claimed_at = now
        post.save(update_fields=["status", "error", "updated_at", "claimed_at"])
        live.post_changed(post)


def posts_claim_due(*, limit: int = CLAIM_BATCH) -> list[int]:
    """In the current tenant: fail the posts stuck «publishing», mark as missed the due ones
    older than the tenant's limit, and claim (→ «publishing») up to ``limit`` due ones, oldest
    first. Rows another transaction holds are skipped, never waited for nor taken twice."""
    now = timezone.now()
    cutoff = now - datetime.timedelta(minutes=missed_after_minutes())
    with transaction.atomic():
        stuck = list(
            ScheduledPost.objects.select_for_update(skip_locked=True).filter(
                status=S.PUBLISHING, claimed_at__lt=now - STUCK_AFTER
            )
        )
        _mark(
            stuck,
            S.FAILED,
            _(
                "La publicación se interrumpió y no se sabe si salió: revisa la cuenta y, si no "
                "está, reintenta."
            ),
        )
        missed = list(
            ScheduledPost.objects.select_for_update(skip_locked=True).filter(
                status=S.SCHEDULED, publish_at__lt=cutoff
            )
        )
        _mark(
            missed,
            S.MISSED,
            _("No se publicó a tiempo (el servicio estuvo detenido): reintenta si aún sirve."),
        )
        due = list(
            ScheduledPost.objects.select_for_update(skip_locked=True)
            .filter(status=S.SCHEDULED, publish_at__lte=now)
            .order_by("publish_at", "pk")[:limit]
        )
        _mark(due, S.PUBLISHING)
    return [p.pk for p in due]


def _image_of(post: ScheduledPost) -> tuple[str, bytes] | None:
    if not post.image:
        return None
    with post.image.open("rb") as f:
        return (str(post.image.name).rsplit("/", 1)[-1] + ".img", f.read())


def _provider_publish(post: ScheduledPost) -> Published:
    if post.account.kind == ChannelKind.TWITTER:
        return tweet_publish(post.account, text=post.text, image=_image_of(post))
    if post.account.kind == ChannelKind.FACEBOOK:
        return page_publish(post.account, text=post.text, image=_image_of(post))
    raise ConnectorError(_("Este canal no admite publicaciones."), permanent=True)


def post_publish(*, post_id: int) -> ScheduledPost | None:
    """Publish one claimed post (network outside any transaction) and record the outcome.
    Any failure leaves it failed with the reason and Reintentar: a retry is a person's call,
    since a timeout may hide a post that did go out."""
    post = ScheduledPost.objects.select_related("account").filter(pk=post_id).first()
    if post is None or post.status != S.PUBLISHING:
        return post
    try:
        published = _provider_publish(post)
    except ConnectorError as exc:
        outcome: dict[str, Any] = {"status": S.FAILED, "error": exc.reason[:500]}
    except Exception as exc:  # a bug must not leave the post «publishing»
        log.exception("publishing post %s failed", post_id)
        outcome = {
            "status": S.FAILED,
            "error": (_("Error inesperado (%(kind)s).") % {"kind": type(exc).__name__})[:500],
        }
    else:
        outcome = {
            "status": S.PUBLISHED,
            "error": "",
            "provider_id": published.provider_id,
            "url": published.url,
            "published_at": timezone.now(),
        }
    with transaction.atomic():
        updated = ScheduledPost.objects.filter(pk=post_id, status=S.PUBLISHING).update(
            updated_at=timezone.now(), **outcome
        )
        post.refresh_from_db()
        if updated:
            live.post_changed(post)
    return post


def posts_publish_due(*, limit: int = CLAIM_BATCH) -> int:
    """Claim and publish the current tenant's due posts; returns how many were claimed."""
    ids = posts_claim_due(limit=limit)
    for post_id in ids:
        post_publish(post_id=post_id)
    return len(ids)
