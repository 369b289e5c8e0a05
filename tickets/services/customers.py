"""Customers: resolving who wrote, their name, RUT, metadata and bot preference, and the
identities (email, phone) that link two conversations to one person."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from deskconfig.models import MetadataField
from helpdesk.models import User
from tickets import live
from tickets.identities import display_identity, normalize_identity, normalize_rut
from tickets.metadata import active_fields, clean_values
from tickets.models import Customer, CustomerIdentity, EventKind, IdentityKind, Ticket, TicketStatus
from tickets.services.base import ActionRefused, _event


def customer_resolve(
    *, tenant_id: int, kind: str, value: str, name: str = ""
) -> tuple[Customer, CustomerIdentity]:
    """The customer known by this identity, created on first contact. Safe under races: the
    identity is unique per tenant and kind."""
    normalized = normalize_identity(kind, value)
    if not normalized:
        raise ActionRefused(_("El mensaje no trae con qué identificar al cliente."))
    identity = (
        CustomerIdentity.objects.select_related("customer")
        .filter(kind=kind, value=normalized)
        .first()
    )
    if identity is not None:
        customer = identity.customer
        if name and not customer.name:
            customer.name = name[:200]
            customer.save(update_fields=["name"])
        return customer, identity
    try:
        with transaction.atomic():
            customer = Customer.objects.create(tenant_id=tenant_id, name=name[:200])
            identity = CustomerIdentity.objects.create(
                tenant_id=tenant_id,
                customer=customer,
                kind=kind,
                value=normalized,
                display=display_identity(kind, normalized),
            )
    except IntegrityError:
        # Someone else created it between our read and our insert.
        identity = CustomerIdentity.objects.select_related("customer").get(
            kind=kind, value=normalized
        )
    return identity.customer, identity


def customer_update(*, customer: Customer, actor: User, name: str, rut: str) -> Customer:
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        before = {"name": customer.name, "rut": customer.rut}
        customer.name = name.strip()[:200]
        if rut.strip():
            try:
                customer.rut = normalize_rut(rut)
            except ValueError:
                raise ActionRefused(_("El RUT «%(rut)s» no es válido.") % {"rut": rut}) from None
        else:
            customer.rut = ""
        customer.save(update_fields=["name", "rut"])
        after = {"name": customer.name, "rut": customer.rut}
        for ticket in customer.tickets.filter(status=TicketStatus.OPEN):
            _event(ticket, EventKind.CUSTOMER_METADATA, actor, before=before, after=after)
    return customer


def customer_set_metadata(*, customer: Customer, actor: User, values: dict[str, Any]) -> Customer:
    fields = active_fields(MetadataField.Target.CUSTOMER)
    cleaned = clean_values(fields, values)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        before = customer.metadata
        customer.metadata = cleaned
        customer.save(update_fields=["metadata"])
        for ticket in customer.tickets.filter(status=TicketStatus.OPEN):
            _event(ticket, EventKind.CUSTOMER_METADATA, actor, before=before, after=cleaned)
    return customer


def customer_set_bot(*, customer: Customer, actor: User, enabled: bool) -> Customer:
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        customer.bot_disabled = not enabled
        customer.save(update_fields=["bot_disabled"])
        for ticket in customer.tickets.filter(status=TicketStatus.OPEN):
            _event(ticket, EventKind.BOT, actor, enabled=enabled)
    return customer


LINKABLE_KINDS = (IdentityKind.EMAIL, IdentityKind.PHONE)


def _linkable_identity(kind: str, value: str) -> str:
    """The normalized value of an email or phone an agent types, or a refusal."""
    from django.core.validators import validate_email

    if kind == IdentityKind.EMAIL:
        try:
            validate_email(value.strip())
        except ValidationError:
            raise ActionRefused(
                _("«%(email)s» no es un correo válido.") % {"email": value}
            ) from None
    elif kind == IdentityKind.PHONE:
        if not 8 <= len(re.sub(r"\D", "", value)) <= 15:
            raise ActionRefused(
                _("«%(phone)s» no es un teléfono válido: usa el formato +56 9 1234 5678.")
                % {"phone": value}
            )
    else:
        raise ActionRefused(_("Solo se pueden vincular correos y teléfonos."))
    return normalize_identity(kind, value)


def customer_link_identity(
    *, customer: Customer, actor: User, kind: str, value: str, ticket: Ticket | None = None
) -> CustomerIdentity:
    """Link another email or phone to a customer: their messages from it now arrive as this
    customer. When another customer record had it, the identity moves here; if that record is
    left with no way to reach it, its tickets move here too and the empty record goes, so
    nothing is lost and nothing is merged behind the agent's back."""
    normalized = _linkable_identity(kind, value)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        identity = (
            CustomerIdentity.objects.select_for_update()
            .select_related("customer")
            .filter(kind=kind, value=normalized)
            .first()
        )
        moved_tickets: list[int] = []
        if identity is not None and identity.customer_id == customer.pk:
            raise ActionRefused(_("Esa identidad ya es de este cliente."))
        if identity is None:
            identity = CustomerIdentity.objects.create(
                tenant_id=customer.tenant_id,
                customer=customer,
                kind=kind,
                value=normalized,
                display=display_identity(kind, normalized),
            )
        else:
            previous = Customer.objects.select_for_update().get(pk=identity.customer_id)
            identity.customer = customer
            identity.save(update_fields=["customer"])
            if not previous.identities.exists():
                moved_tickets = list(previous.tickets.values_list("number", flat=True))
                previous.tickets.update(customer=customer)
                previous.delete()
        if ticket is not None:
            _event(
                ticket,
                EventKind.IDENTITY,
                actor,
                identity=identity.display or identity.value,
                moved_tickets=moved_tickets,
            )
            live.ticket_changed(ticket)
    return identity
