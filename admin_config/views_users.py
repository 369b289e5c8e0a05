"""The Users page (Admin only) and the public page where an invited person sets a password."""

from __future__ import annotations

import logging
import smtplib

from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from admin_config import users
from admin_config.forms_users import InvitationPasswordForm, PersonForm
from admin_config.sections import SECTIONS
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role, User
from helpdesk.tenancy import tenant_context

log = logging.getLogger(__name__)


def _context(**extra: object) -> dict[str, object]:
    return {"page": "admin", "section": users.SECTION, "sections": SECTIONS, **extra}


def _person_or_404(pk: int) -> User:
    try:
        return users.person(pk)
    except User.DoesNotExist:
        raise Http404 from None


def _send_invitation(request: AuthedRequest, user: User) -> None:
    link = request.build_absolute_uri(
        reverse("admin_config:invitation", args=[users.invitation_token(user)])
    )
    try:
        users.invitation_send(user=user, link=link, inviter=request.user)
    except (OSError, smtplib.SMTPException):
        log.exception("invitation mail to user %s failed", user.pk)
        messages.error(
            request,
            _("No pudimos enviar el correo a %(email)s. Inténtalo con «Reenviar invitación».")
            % {"email": user.email},
        )
    else:
        messages.success(request, _("Invitación enviada a %(email)s.") % {"email": user.email})


@role_required(Role.ADMIN)
def user_list(request: AuthedRequest) -> HttpResponse:
    return render(request, "admin_config/users.html", _context(people=users.people()))


@role_required(Role.ADMIN)
def user_new(request: AuthedRequest) -> HttpResponse:
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = users.user_invite(actor=request.user, data=form.data_for_service())
        except users.Refused as exc:
            form.add_error("email", exc)
        else:
            _send_invitation(request, user)
            return redirect("admin_config:users")
    return render(request, "admin_config/users_form.html", _context(form=form, person=None))


@role_required(Role.ADMIN)
def user_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    person = _person_or_404(pk)
    form = PersonForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        try:
            users.user_update(actor=request.user, user=person, data=form.data_for_service())
        except users.Refused as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Cambios guardados."))
            return redirect("admin_config:users")
    context = _context(
        form=form, person=person, pending=users.invitation_pending(person), me=request.user
    )
    return render(request, "admin_config/users_form.html", context)


@role_required(Role.ADMIN)
@require_POST
def user_deactivate(request: AuthedRequest, pk: int) -> HttpResponse:
    person = _person_or_404(pk)
    try:
        users.user_deactivate(actor=request.user, user=person)
    except users.Refused as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(name)s quedó desactivado; sus tickets abiertos volvieron a la cola.")
            % {"name": person},
        )
    return redirect("admin_config:users")


@role_required(Role.ADMIN)
@require_POST
def user_reactivate(request: AuthedRequest, pk: int) -> HttpResponse:
    person = users.user_reactivate(actor=request.user, user=_person_or_404(pk))
    messages.success(request, _("%(name)s puede volver a entrar.") % {"name": person})
    return redirect("admin_config:users")


@role_required(Role.ADMIN)
@require_POST
def user_resend(request: AuthedRequest, pk: int) -> HttpResponse:
    person = _person_or_404(pk)
    try:
        person = users.invitation_renew(actor=request.user, user=person)
    except users.Refused as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        _send_invitation(request, person)
    return redirect("admin_config:users")


# --- the invited person's page (public: they are not logged in yet) ------------------------


@never_cache
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Set a password from the invitation link, then straight into the inbox."""
    try:
        person = users.invitation_user(token)
    except users.InvitationProblem as problem:
        return render(
            request,
            "admin_config/users_invitation.html",
            {"problem": problem.reason},
            status={"invalid": 404, "taken": 409}.get(problem.reason, 410),
        )
    form = InvitationPasswordForm(person, request.POST or None)
    if request.method == "POST" and form.is_valid():
        with tenant_context(person.tenant_id or 0):
            try:
                person = users.invitation_accept(
                    user=person, password=form.cleaned_data["new_password1"]
                )
            except users.InvitationProblem as problem:
                return render(
                    request,
                    "admin_config/users_invitation.html",
                    {"problem": problem.reason},
                    status=409,
                )
            login(request, person, backend="helpdesk.auth.EmailBackend")
        return redirect("tickets:inbox")
    return render(request, "admin_config/users_invitation.html", {"form": form, "person": person})
