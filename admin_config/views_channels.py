"""The Channels page: the tenant's accounts by kind; connect, edit, disconnect and reconnect;
per email account "Probar conexión" and the mails that failed, with retry and the raw .eml."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import Length
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from admin_config.crud import save_with_audit
from admin_config.forms_channels import (
    FORMS,
    AccountForm,
    EmailAccountForm,
    TwitterAccountForm,
    form_class_for,
)
from admin_config.sections import SECTIONS
from admin_config.services_channels import SECTION, account_reconnect, account_set_active
from admin_config.views_channels_meta import meta_extras
from admin_config.views_channels_x import x_extras
from channels_conn.email.probe import ProbeResult, probe_imap, probe_smtp
from channels_conn.models import ChannelAccount, InboundEmail, MailboxState
from channels_conn.services import inbound_retry
from channels_conn.twitter.probe import probe_x
from deskconfig.kinds import ChannelKind
from deskconfig.reconnect import account_reconnect_cleared, reconnect_reason_of
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role

FAILED_SHOWN = 50


def _context(**extra: Any) -> dict[str, Any]:
    return {"page": "admin", "section": SECTION, "sections": SECTIONS, **extra}


def _accounts() -> Any:
    # Loading the secrets decrypts none (helpdesk.crypto.SealedSecret): the list only checks
    # that this server's key can read them, on the tokens' signatures.
    return ChannelAccount.objects.select_related("schedule")


def _mailbox_states() -> dict[int, MailboxState]:
    """The latest polled folder state of each email account."""
    states: dict[int, MailboxState] = {}
    for state in MailboxState.objects.order_by("polled_at"):
        states[state.account_id] = state
    return states


@role_required(Role.ADMIN)
@require_GET
def channel_list(request: AuthedRequest) -> HttpResponse:
    accounts = list(_accounts().order_by("name", "id"))
    states = _mailbox_states()
    failed = dict(
        InboundEmail.objects.filter(status=InboundEmail.Status.FAILED)
        .values_list("account")
        .annotate(n=Count("id"))
        .values_list("account", "n")
    )
    groups = [
        {
            "kind": kind.value,
            "label": kind.label,
            "rows": [
                {
                    "account": a,
                    "state": states.get(a.pk),
                    "failed": failed.get(a.pk, 0),
                    "reconnect": reconnect_reason_of(a),
                }
                for a in accounts
                if a.kind == kind.value
            ],
        }
        for kind in ChannelKind
    ]
    return render(request, "admin_config/channels.html", _context(groups=groups))


def _account_or_404(pk: int) -> ChannelAccount:
    account: ChannelAccount = get_object_or_404(ChannelAccount.objects.all(), pk=pk)
    return account


@role_required(Role.ADMIN)
def channel_new(request: AuthedRequest, kind: str) -> HttpResponse:
    if kind not in FORMS:
        raise Http404
    return _form_page(request, None, form_class_for(kind))


@role_required(Role.ADMIN)
def channel_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    account = _account_or_404(pk)
    return _form_page(request, account, form_class_for(account.kind))


def _form_page(
    request: AuthedRequest, account: ChannelAccount | None, form_class: type[AccountForm]
) -> HttpResponse:
    probe: list[ProbeResult] = []
    retype = False  # secrets typed for a probe are not shown back: they must be typed again
    if request.method == "POST":
        form = form_class(request.POST, instance=account, tenant_id=request.user.tenant_id)
        if form.is_valid() and request.POST.get("probe") and isinstance(form, EmailAccountForm):
            imap, smtp = form.server_configs()
            probe = [probe_imap(imap), probe_smtp(smtp)]  # nothing is saved by a probe
            retype = any(request.POST.get(name) for name in form.secret_fields)
        elif form.is_valid() and request.POST.get("probe") and isinstance(form, TwitterAccountForm):
            probe = probe_x(form.x_credentials())  # nothing is saved by a probe
            retype = any(request.POST.get(name) for name in form.secret_fields)
        elif form.is_valid():
            saved = _save(request, form)
            messages.success(request, _("Cuenta «%(name)s» guardada.") % {"name": form.instance})
            return redirect("admin_config:channels_edit", saved.pk)
        if account is not None and probe and all(r.ok for r in probe) and _probed_stored(form):
            # The stored credentials work again: the mark goes (what was typed is not saved,
            # so only a probe of what is stored proves it).
            account_reconnect_cleared(account=account, actor=request.user)
    else:
        form = form_class(instance=account, tenant_id=request.user.tenant_id)
    context = _context(
        form=form,
        account=account,
        kind=form_class.kind,
        kind_label=ChannelKind(form_class.kind).label,
        probe=probe,
        retype=retype,
        reconnect=reconnect_reason_of(account) if account is not None else "",
        reconnect_help=reconnect_help(form_class.kind),
    )
    if account is not None:
        context.update(_account_extras(request, account))
    return render(request, "admin_config/channels_form.html", context)


def _save(request: AuthedRequest, form: AccountForm) -> ChannelAccount:
    """Save the form, audited; new credentials (or connection settings) clear the account's
    «Reconectar» mark in the same transaction: the next read or send tries them."""
    with transaction.atomic():
        saved = save_with_audit(
            actor=request.user,
            section=SECTION,
            form=form,
            extra_before={"secrets_updated": []},
            after_save=lambda obj: {"secrets_updated": form.secrets_changed},
        )
        assert isinstance(saved, ChannelAccount)
        if form.credentials_changed:
            account_reconnect_cleared(account=saved, actor=request.user)
    return saved


def _probed_stored(form: AccountForm) -> bool:
    """Whether the probe tried what is stored: no secret typed, no connection setting edited."""
    return not form.secrets_typed() and not form.connection_changed()


def reconnect_help(kind: str) -> str:
    """What the admin does about a «Reconectar» mark, for the account's kind."""
    if kind == ChannelKind.EMAIL:
        return _(
            "Corrige el usuario o la contraseña de IMAP o SMTP aquí abajo y guarda (prueba "
            "antes con «Probar conexión»). Si ya la cambiaste en el servidor de correo, "
            "escríbela de nuevo aquí."
        )
    if kind == ChannelKind.TWITTER:
        return _(
            "Genera de nuevo las claves y tokens de la app en el portal de desarrolladores de "
            "X, escríbelos aquí abajo y guarda (prueba antes con «Probar conexión»)."
        )
    if kind in (ChannelKind.WHATSAPP, ChannelKind.FACEBOOK, ChannelKind.INSTAGRAM):
        return _(
            "Genera un token de acceso nuevo en Meta (Business Manager, usuario del sistema), "
            "pégalo aquí abajo y guarda; «Probar conexión» confirma que Meta lo acepta."
        )
    return _("Corrige las credenciales de la cuenta aquí abajo y guarda.")


def _account_extras(request: AuthedRequest, account: ChannelAccount) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    if account.kind == ChannelKind.EMAIL:
        failed = InboundEmail.objects.filter(account=account, status=InboundEmail.Status.FAILED)
        extras["failed_count"] = failed.count()
        extras["failed"] = list(
            failed.defer("raw")
            .annotate(raw_size=Length("raw"))
            .order_by("-created_at", "-id")[:FAILED_SHOWN]
        )
        # Automatic mail that named no ticket: kept, never a ticket (issue 16, class 3).
        ignored = InboundEmail.objects.filter(account=account, status=InboundEmail.Status.IGNORED)
        extras["ignored"] = list(
            ignored.defer("raw")
            .annotate(raw_size=Length("raw"))
            .order_by("-created_at", "-id")[:FAILED_SHOWN]
        )
        extras["mailbox_state"] = (
            MailboxState.objects.filter(account=account).order_by("-polled_at").first()
        )
    extras.update(meta_extras(request, account))
    if account.kind == ChannelKind.WEBCHAT:
        extras["chat_url"] = request.build_absolute_uri(
            reverse("channels_conn:chat", args=[account.uuid])
        )
        extras["widget_url"] = request.build_absolute_uri(
            reverse("channels_conn:chat_widget", args=[account.uuid])
        )
    extras.update(x_extras(account))
    return extras


@role_required(Role.ADMIN)
@require_POST
def channel_disconnect(request: AuthedRequest, pk: int) -> HttpResponse:
    account = _account_or_404(pk)
    if account_set_active(actor=request.user, account=account, active=False):
        messages.success(
            request,
            _(
                "«%(name)s» desconectada. Sus tickets siguen abiertos; las respuestas fallarán "
                "hasta que la reconectes."
            )
            % {"name": account.name},
        )
    return redirect("admin_config:channels_edit", account.pk)


@role_required(Role.ADMIN)
@require_POST
def channel_reconnect(request: AuthedRequest, pk: int) -> HttpResponse:
    account = _account_or_404(pk)
    if account_reconnect(actor=request.user, account=account):
        messages.success(request, _("«%(name)s» conectada de nuevo.") % {"name": account.name})
    return redirect("admin_config:channels_edit", account.pk)


def _failed_email_or_404(pk: int, email_id: int) -> InboundEmail:
    account = _account_or_404(pk)
    email: InboundEmail = get_object_or_404(
        InboundEmail.objects.select_related("account"), pk=email_id, account=account
    )
    return email


@role_required(Role.ADMIN)
@require_POST
def channel_email_retry(request: AuthedRequest, pk: int, email_id: int) -> HttpResponse:
    email = inbound_retry(_failed_email_or_404(pk, email_id))
    if email.status == InboundEmail.Status.PROCESSED:
        messages.success(request, _("Correo recibido: ya está en su ticket."))
    elif not email.raw:
        messages.error(request, _("Este correo no se descargó (era demasiado grande)."))
    else:
        messages.error(
            request, _("El correo volvió a fallar: %(error)s") % {"error": email.error[:300]}
        )
    return redirect(reverse("admin_config:channels_edit", args=[pk]) + "#failed")


@role_required(Role.ADMIN)
@require_GET
def channel_email_raw(request: AuthedRequest, pk: int, email_id: int) -> HttpResponse:
    """The stored bytes exactly as the server gave them, as a download (never shown inline)."""
    email = _failed_email_or_404(pk, email_id)
    if not email.raw:
        raise Http404  # stored without its body (over the size limit)
    response = HttpResponse(bytes(email.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="correo-{email.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
