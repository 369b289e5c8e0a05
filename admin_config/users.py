"""The tenant's people: who they are (list), inviting them by email, changing their role,
departments and workload, deactivating them, and each person's own availability.

Every change an admin makes is one function here, in one transaction, with its audit entry.
Emails are unique across ALL tenants (they are the login), so the uniqueness check runs in the
bypass context and its refusal never says where the address is used.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from admin_config import audit
from deskconfig.models import ConfigChange, Department, DepartmentMembership
from helpdesk import live
from helpdesk.identity import normalize_email
from helpdesk.models import Availability, Role, User
from helpdesk.tenancy import bypass_context, current_tenant_id

SECTION = "users"
INVITATION_MAX_AGE = datetime.timedelta(hours=72)
_SALT = "admin_config.users.invitation"


class Refused(ValidationError):
    """A change an admin asked for cannot be done; the message says why."""


# --- reads ---------------------------------------------------------------------------------


def people() -> QuerySet[User]:
    """The tenant's people (never the bot), active first, with their open-ticket count
    (``open_tickets``) and departments. One query per list, plus one for the departments."""
    from tickets.models import Ticket, TicketStatus

    open_tickets = (
        Ticket.objects.filter(assignee=OuterRef("pk"), status=TicketStatus.OPEN)
        .order_by()
        .values("assignee")
        .annotate(n=Count("*"))
        .values("n")
    )
    return (
        User.objects.filter(is_bot=False, tenant__isnull=False)
        .annotate(
            open_tickets=Coalesce(Subquery(open_tickets, output_field=IntegerField()), Value(0))
        )
        .prefetch_related(Prefetch("departments", queryset=Department.objects.order_by("name")))
        .order_by("-is_active", "name", "pk")
    )


def person(pk: int) -> User:
    """One of the tenant's people, or ``User.DoesNotExist`` (another tenant's id too)."""
    return User.objects.filter(is_bot=False).get(pk=pk)


def email_taken(email: str, *, exclude_pk: int | None = None, tenant_id: int | None = None) -> bool:
    """Whether a person of *this* tenant has ``email``. Other tenants are never consulted
    here: the answer would tell an admin who is registered elsewhere (see
    :func:`invitation_user` for where that is resolved)."""
    tenant = tenant_id or current_tenant_id()
    with bypass_context():
        qs = User.objects.filter(email=normalize_email(email), tenant_id=tenant or 0)
        if exclude_pk is not None:
            qs = qs.exclude(pk=exclude_pk)
        return qs.exists()


def email_used_elsewhere(user: User) -> bool:
    """Another person (of any tenant) already logs in with this person's address."""
    with bypass_context():
        return (
            User.objects.filter(email=user.email, invited_at__isnull=True)
            .exclude(pk=user.pk)
            .exists()
        )


def invitation_pending(user: User) -> bool:
    return user.invited_at is not None and not user.has_usable_password()


# --- audit helpers -------------------------------------------------------------------------


def _state(user: User) -> dict[str, Any]:
    """What an admin manages of a person: what the audit log compares."""
    return {
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "max_open_tickets": user.max_open_tickets,
        "is_active": user.is_active,
        "invited_at": user.invited_at.isoformat() if user.invited_at else None,
        "departments": sorted(
            DepartmentMembership.objects.filter(user=user).values_list("department_id", flat=True)
        ),
    }


def _record(actor: User, action: str, user: User, before: dict[str, Any]) -> None:
    audit.record(
        actor=actor,
        section=SECTION,
        action=action,
        obj=user,
        before=before,
        after=_state(user),
    )


def _set_departments(user: User, departments: Iterable[Department]) -> None:
    wanted = {d.pk for d in departments}
    DepartmentMembership.objects.filter(user=user).exclude(department_id__in=wanted).delete()
    have = set(
        DepartmentMembership.objects.filter(user=user).values_list("department_id", flat=True)
    )
    DepartmentMembership.objects.bulk_create(
        DepartmentMembership(tenant_id=user.tenant_id or 0, user=user, department_id=pk)
        for pk in sorted(wanted - have)
    )


def _lock_admins(tenant_id: int) -> list[User]:
    """The tenant's active admins, locked in id order (the fixed order every admin change
    takes), so two admins demoting each other at once cannot leave the tenant with none."""
    return list(
        User.objects.select_for_update()
        .filter(tenant_id=tenant_id, role=Role.ADMIN, is_active=True, is_bot=False)
        .order_by("pk")
    )


def _refuse_losing_last_admin(user: User) -> None:
    """Call inside the transaction, before locking ``user`` itself."""
    admins = _lock_admins(user.tenant_id or 0)
    if [a.pk for a in admins] == [user.pk]:
        raise Refused(
            _("%(name)s es el último administrador activo: nombra a otro antes.") % {"name": user}
        )


def _after_commit_drain(tenant_id: int) -> None:
    from workflow import assignment

    assignment.drain_queue(tenant_id)  # it waits for the commit itself


def _refuse_taken(email: str, tenant_id: int | None, exclude_pk: int | None = None) -> None:
    if email_taken(email, exclude_pk=exclude_pk, tenant_id=tenant_id):
        raise Refused(_("Ese correo ya está en uso."))


# --- writes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonData:
    name: str
    email: str
    role: str
    departments: tuple[Department, ...]
    max_open_tickets: int


def user_invite(*, actor: User, data: PersonData) -> User:
    """Create a person with no password yet; :func:`invitation_send` mails them the link."""
    email = normalize_email(data.email)
    _refuse_taken(email, actor.tenant_id)
    try:
        with transaction.atomic():
            user = User(
                tenant_id=actor.tenant_id,
                email=email,
                name=data.name.strip(),
                role=data.role,
                max_open_tickets=data.max_open_tickets,
                invited_at=timezone.now(),
            )
            user.set_unusable_password()
            user.save()
            _set_departments(user, data.departments)
            _record(actor, ConfigChange.Action.CREATE, user, {})
    except IntegrityError:
        # Someone took the address between the check and the insert.
        raise Refused(_("Ese correo ya está en uso.")) from None
    return user


def user_update(*, actor: User, user: User, data: PersonData) -> User:
    """Name, email, role, departments and workload of one person."""
    email = normalize_email(data.email)
    _refuse_taken(email, user.tenant_id, exclude_pk=user.pk)
    try:
        with transaction.atomic():
            if data.role != Role.ADMIN:
                _refuse_losing_last_admin(user)
            user = User.objects.select_for_update().get(pk=user.pk)
            before = _state(user)
            user.name = data.name.strip()
            user.email = email
            user.role = data.role
            user.max_open_tickets = data.max_open_tickets
            user.save(update_fields=["name", "email", "role", "max_open_tickets"])
            _set_departments(user, data.departments)
            _record(actor, ConfigChange.Action.UPDATE, user, before)
            # A higher limit or a new department may make them eligible for queued tickets.
            if user.is_active and (
                data.max_open_tickets > before["max_open_tickets"]
                or _state(user)["departments"] != before["departments"]
            ):
                _after_commit_drain(user.tenant_id or 0)
    except IntegrityError:
        raise Refused(_("Ese correo ya está en uso.")) from None
    return user


def _end_sessions(user: User) -> int:
    """Delete the person's login sessions (stored in the database). Sessions carry no user
    column, so the live ones are decoded; they last 12 hours, so there are few."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    user_id = user.pk
    transaction.on_commit(lambda: live.end_user_sockets(user_id), robust=True)
    return ended


def user_deactivate(*, actor: User, user: User) -> User:
    """They can no longer log in, their sessions end, and their open tickets go back to the
    queue (which is then drained, once this commits)."""
    from tickets.models import Ticket, TicketStatus
    from tickets.services import ticket_assign

    if user.pk == actor.pk:
        raise Refused(_("No puedes desactivarte a ti mismo."))
    with transaction.atomic():
        _refuse_losing_last_admin(user)
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active:
            return user
        before = _state(user)
        user.is_active = False
        user.save(update_fields=["is_active"])
        _record(actor, ConfigChange.Action.UPDATE, user, before)
        for ticket in Ticket.objects.filter(assignee=user, status=TicketStatus.OPEN).order_by("pk"):
            ticket_assign(ticket=ticket, assignee=None, actor=actor)
        _end_sessions(user)
        _after_commit_drain(user.tenant_id or 0)
    return user


def user_reactivate(*, actor: User, user: User) -> User:
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_active:
            return user
        before = _state(user)
        user.is_active = True
        user.save(update_fields=["is_active"])
        _record(actor, ConfigChange.Action.UPDATE, user, before)
        _after_commit_drain(user.tenant_id or 0)
    return user


def user_set_availability(*, user: User, availability: str) -> User:
    """A person's own Available / Away. Becoming available may drain the queue to them."""
    if availability not in Availability.values:
        raise Refused(_("Disponibilidad desconocida."))
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.availability == availability:
            return locked
        locked.availability = availability
        locked.save(update_fields=["availability"])
        if availability == Availability.AVAILABLE:
            _after_commit_drain(locked.tenant_id or 0)
    return locked


# --- invitations ---------------------------------------------------------------------------


def _password_state(user: User) -> str:
    """Changes when the password is set, a new invitation replaces the old one (a fresh
    unusable password) or the person is deactivated: each of these kills older links."""
    invited = user.invited_at.isoformat() if user.invited_at else ""
    value = f"{user.password}|{invited}|{user.is_active}|{user.email}"
    return salted_hmac(_SALT, value).hexdigest()[:20]


def invitation_token(user: User) -> str:
    return signing.TimestampSigner(salt=_SALT).sign_object(
        {"u": user.pk, "s": _password_state(user)}
    )


class InvitationProblem(Exception):
    """Why an invitation link does not work: ``expired``, ``used`` (or replaced by a newer
    one, or the person was deactivated) or ``invalid`` (not one of ours)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def invitation_user(token: str) -> User:
    """The person a link invites, or :class:`InvitationProblem`. Runs before any tenant is
    known (the visitor is not logged in), hence the bypass for the lookup."""
    signer = signing.TimestampSigner(salt=_SALT)
    try:
        data = signer.unsign_object(token, max_age=INVITATION_MAX_AGE)
    except signing.SignatureExpired:
        raise InvitationProblem("expired") from None
    except (signing.BadSignature, ValueError):
        raise InvitationProblem("invalid") from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise InvitationProblem("invalid")
    with bypass_context():
        user = User.objects.select_related("tenant").filter(pk=data["u"], is_bot=False).first()
    if user is None or user.tenant_id is None:
        raise InvitationProblem("invalid")
    if (
        not user.is_active
        or not invitation_pending(user)
        or not constant_time_compare(str(data.get("s", "")), _password_state(user))
    ):
        raise InvitationProblem("used")
    if email_used_elsewhere(user):
        raise InvitationProblem("taken")
    return user


def invitation_accept(*, user: User, password: str) -> User:
    """Set the password chosen on the invitation page; the link stops working."""
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=user.pk)
            user.set_password(password)
            user.invited_at = None
            user.save(update_fields=["password", "invited_at"])
    except IntegrityError:  # the address was taken elsewhere meanwhile
        raise InvitationProblem("taken") from None
    return user


def invitation_renew(*, actor: User, user: User) -> User:
    """A fresh invitation (new 72 hours); links sent before stop working."""
    if not invitation_pending(user):
        raise Refused(_("%(name)s ya aceptó la invitación.") % {"name": user})
    if not user.is_active:
        raise Refused(_("Reactiva a %(name)s antes de invitarle otra vez.") % {"name": user})
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before = _state(user)
        user.set_unusable_password()
        user.invited_at = timezone.now()
        user.save(update_fields=["password", "invited_at"])
        _record(actor, ConfigChange.Action.UPDATE, user, before)
    return user


def invitation_send(*, user: User, link: str, inviter: User) -> None:
    """Mail the link, in the tenant's language. Raises on a mail server error (the admin can
    send it again with «Reenviar invitación»)."""
    tenant = user.tenant
    language = (tenant.language if tenant else "") or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "user": user,
            "inviter": inviter,
            "tenant": tenant,
            "link": link,
            "hours": int(INVITATION_MAX_AGE.total_seconds() // 3600),
        }
        subject = _("Te invitaron a %(tenant)s en Helpdesk") % {"tenant": tenant}
        body = render_to_string("admin_config/users_invitation_email.txt", context)
    send_mail(
        subject=subject,
        message=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
        fail_silently=False,
    )
