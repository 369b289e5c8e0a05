"""Attack class: another tenant's ids in request bodies (Chatwoot #15454).

Every form of every page is submitted by tenant A's admin with each id swapped for the id of
tenant B's twin object, and every POST endpoint without a form gets a body of B's ids. Whatever
each endpoint answers, afterwards none of B's rows changed, no row of A points at a row of B, and
no row of A stores one of B's ids (in JSON filters and settings too).

Twins: each object of the world exists in both tenants with primary keys from two far-apart
ranges (A: 71000xx, B: 72000xx), so an id in a form can be recognised and replaced, and a B id
stored anywhere can be found."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.urls import resolve
from django.urls.exceptions import Resolver404

from analytics.panels import PANELS
from channels_conn.models import InboundEmail, MetaWebhookEvent
from desk.views import TABS
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import (
    BusinessSchedule,
    Department,
    DepartmentMembership,
    ForbiddenWord,
    MessageTemplate,
    MetadataField,
    RoutingRule,
    WhatsAppTemplate,
)
from helpdesk.models import Role, Tenant, TenantModel, User
from helpdesk.tenancy import bypass_context
from tests.conftest import client_for
from tests.test_access import POST_ONLY, PUBLIC, _all_paths
from tickets.models import Comment, Customer, CustomerIdentity, Message, Ticket

pytestmark = pytest.mark.django_db

A_BASE, B_BASE = 7_100_000, 7_200_000
TOKEN = re.compile(r"(?<!\d)71000(\d\d)(?!\d)")
B_TOKEN = re.compile(r"(?<!\d)72000\d\d(?!\d)")
LOGOUT = "/accounts/logout/"
DESTRUCTIVE = re.compile(r"/(delete|deactivate|disconnect|merge|close|split)/")
NUMBER = 500  # the twin ticket's number, the same in both tenants (numbers are per tenant)
ACTIONS = ("assign", "close", "reopen", "important", "sentiment", "department", "merge", "split")


def _world(tenant: Tenant, admin: User, base: int) -> dict[str, Any]:
    """The same objects in a tenant, with primary keys base+1, base+2, …"""
    pk = iter(range(base + 1, base + 99))
    t = {"tenant": tenant}
    w: dict[str, Any] = {}
    w["department"] = Department.objects.create(pk=next(pk), name="Ventas", **t)
    w["agent"] = User.objects.create_user(
        pk=next(pk),
        email=f"twin-{base}@x.test",
        password="Twin-password-1",
        name="Gemelo",
        tenant=tenant,
        role=Role.AGENT,
    )
    DepartmentMembership.objects.create(
        pk=next(pk), user=w["agent"], department=w["department"], **t
    )
    w["email"] = ChannelAccount.objects.create(pk=next(pk), kind="email", name="Correo", **t)
    w["webchat"] = ChannelAccount.objects.create(pk=next(pk), kind="webchat", name="Chat", **t)
    w["whatsapp"] = ChannelAccount.objects.create(pk=next(pk), kind="whatsapp", name="WA", **t)
    w["schedule"] = BusinessSchedule.objects.create(pk=next(pk), name="Horario", **t)
    w["template"] = MessageTemplate.objects.create(
        pk=next(pk), name="Saludo", shortcut="hola", body="Hola", **t
    )
    w["wa_template"] = WhatsAppTemplate.objects.create(
        pk=next(pk), account=w["whatsapp"], name="bienvenida", body="Hola {{1}}", **t
    )
    w["word"] = ForbiddenWord.objects.create(pk=next(pk), word="tonto", **t)
    w["field"] = MetadataField.objects.create(
        pk=next(pk), target="ticket", key="motivo", label="Motivo", field_type="text", **t
    )
    w["rule"] = RoutingRule.objects.create(pk=next(pk), name="Regla", **t)
    w["customer"] = Customer.objects.create(pk=next(pk), name="Ana", **t)
    w["identity"] = CustomerIdentity.objects.create(
        pk=next(pk), customer=w["customer"], kind="email", value=f"ana{base}@x.cl", **t
    )
    w["ticket"] = Ticket.objects.create(
        pk=next(pk), number=NUMBER, customer=w["customer"], account=w["email"], **t
    )
    w["ticket2"] = Ticket.objects.create(
        pk=next(pk), number=NUMBER + 1, customer=w["customer"], account=w["email"], **t
    )
    for ticket in (w["ticket"], w["ticket2"]):
        w[f"message{ticket.number}"] = Message.objects.create(
            pk=next(pk),
            ticket=ticket,
            account=w["email"],
            direction="in",
            author_kind="customer",
            status="received",
            text="Hola, necesito ayuda",
            **t,
        )
    w["comment"] = Comment.objects.create(
        pk=next(pk), ticket=w["ticket"], author=admin, text="x", **t
    )
    w["column"] = admin.columns.create(pk=next(pk), name="Mía", **t)  # type: ignore[attr-defined]
    w["failed_email"] = InboundEmail.objects.create(
        pk=next(pk),
        account=w["email"],
        folder="INBOX",
        uidvalidity=1,
        uid=1,
        raw=b"From: x\r\n\r\nhola",
        status=InboundEmail.Status.FAILED,
        **t,
    )
    w["meta_event"] = MetaWebhookEvent.objects.create(
        pk=next(pk),
        account=w["email"],
        object="whatsapp_business_account",
        entry={},
        digest=f"twin-{t['tenant'].pk}",
        status=MetaWebhookEvent.Status.FAILED,
        **t,
    )
    return w


@pytest.fixture
def worlds(cast) -> tuple[dict[str, Any], dict[str, Any]]:
    with bypass_context():
        return (
            _world(cast.tenant_a, cast.admin, A_BASE),
            _world(cast.tenant_b, cast.outsider, B_BASE),
        )


def _to_b(value: str) -> str:
    return TOKEN.sub(lambda m: f"72000{m.group(1)}", value)


# --- the pages of tenant A, with their forms ------------------------------------------------


def _concrete(path: str, a: dict[str, Any]) -> Iterator[str]:
    """Each page a pattern names, filled with tenant A's twins."""
    pk_by_prefix = {
        "/admin/users/": a["agent"].pk,
        "/admin/departments/": a["department"].pk,
        "/admin/channels/": a["email"].pk,
        "/admin/business-hours/": a["schedule"].pk,
        "/admin/templates/whatsapp/": a["wa_template"].pk,
        "/admin/templates/": a["template"].pk,
        "/admin/forbidden-words/": a["word"].pk,
        "/admin/metadata/": a["field"].pk,
        "/admin/routing/": a["rule"].pk,
    }
    values: dict[str, list[str]] = {
        "number": [str(NUMBER)],
        "column_id": [str(a["column"].pk)],
        "message_id": [str(a[f"message{NUMBER}"].pk)],
        "email_id": [str(a["failed_email"].pk)],
        "event_id": [str(a["meta_event"].pk)],
        "panel": list(PANELS),
        "tab": list(TABS),
        "action": list(ACTIONS),
        "kind": [k.value for k in ChannelKind],
        "token": ["no-such-token"],
        "account_id": [str(a["email"].pk), str(a["webchat"].pk)],
        "pk": [str(next((v for p, v in pk_by_prefix.items() if path.startswith(p)), 0))],
    }
    paths = [path]
    for name in re.findall(r"<(?:\w+:)?(\w+)>", path):
        paths = [
            re.sub(rf"<(?:\w+:)?{name}>", value, p, count=1)
            for p in paths
            for value in values[name]
        ]
    yield from paths


class FormParser(HTMLParser):
    """The forms of a page: where they post and their fields with their values and options."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._select: dict[str, Any] | None = None
        self._textarea: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {"attrs": a, "fields": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            self._form["fields"].append(("input", a))
        elif tag == "select" and a.get("name"):
            self._select = {**a, "options": []}
            self._form["fields"].append(("select", self._select))
        elif tag == "option" and self._select is not None:
            self._select["options"].append(a)
        elif tag == "textarea" and a.get("name"):
            self._textarea = {**a, "text": ""}
            self._form["fields"].append(("textarea", self._textarea))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _body(form: dict[str, Any]) -> dict[str, list[str]]:
    """The form as submitted, every id of tenant A replaced by its twin of tenant B."""
    body: dict[str, list[str]] = {}

    def put(name: str, value: str) -> None:
        body.setdefault(name, []).append(_to_b(value))

    for kind, f in form["fields"]:
        name = f["name"]
        if kind == "textarea":
            put(name, f["text"] or "texto")
        elif kind == "select":
            options = [o.get("value", "") for o in f["options"]]
            ids = [v for v in options if TOKEN.search(v)]
            chosen = [o.get("value", "") for o in f["options"] if "selected" in o]
            for value in ids or chosen or [v for v in options if v][:1]:
                put(name, value)
        elif f.get("type") in {"checkbox", "radio"}:
            if TOKEN.search(f.get("value", "")) or "checked" in f:
                put(name, f.get("value", "on"))
        elif f.get("type") == "file":
            continue
        else:
            put(name, f.get("value", "") or ("1" if f.get("type") == "number" else "x"))
    return body


def _target(page: str, form: dict[str, Any]) -> str | None:
    attrs = form["attrs"]
    target = attrs.get("hx-post") or (
        attrs.get("action") or page if attrs.get("method", "get").lower() == "post" else None
    )
    return target.split("#")[0] if target else None


def _pattern(url: str) -> str | None:
    try:
        match = resolve(url.split("?")[0])
    except Resolver404:
        return None
    return "/" + match.route


# --- what must hold afterwards ----------------------------------------------------------------


def _tenant_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, TenantModel) or m is User]


def _rows(tenant_id: int) -> dict[str, list[dict[str, Any]]]:
    with bypass_context():
        return {
            m._meta.label: sorted(
                (dict(r) for r in m._base_manager.filter(tenant_id=tenant_id).values()),
                key=lambda r: r["id"],
            )
            for m in _tenant_models()
        }


def _cross_references(tenant_id: int) -> list[str]:
    """Rows of the tenant whose foreign keys point into another tenant."""
    found = []
    with bypass_context():
        for m in _tenant_models():
            for f in m._meta.concrete_fields:
                target = f.related_model if f.is_relation else None
                if target is None or not (issubclass(target, TenantModel) or target is User):
                    continue
                qs = (
                    m._base_manager.filter(tenant_id=tenant_id)
                    .exclude(**{f"{f.name}__isnull": True})
                    .exclude(**{f"{f.name}__tenant_id": tenant_id})
                )
                if target is User:  # the platform's operators belong to no tenant
                    qs = qs.exclude(**{f"{f.name}__tenant_id__isnull": True})
                found += [
                    f"{m._meta.label}.{f.name} #{pk}" for pk in qs.values_list("pk", flat=True)
                ]
    return found


def _stored_b_ids(rows: dict[str, list[dict[str, Any]]]) -> list[str]:
    return [
        f"{label} #{row['id']}: {key}={value!r}"
        for label, table in rows.items()
        for row in table
        for key, value in row.items()
        if key != "id" and B_TOKEN.search(str(value))
    ]


def test_no_post_endpoint_accepts_another_tenants_ids(cast, worlds):
    a, b = worlds
    b_before = _rows(cast.tenant_b.pk)
    admin = client_for(cast.admin)
    public = set(PUBLIC)
    patterns = sorted(p for p in _all_paths() if p not in public)

    submitted: dict[str, int] = {}
    answers: list[tuple[str, int]] = []

    def post(url: str, data: dict[str, list[str]]) -> None:
        if url.startswith(LOGOUT):
            return  # would end the attacker's own session
        response = admin.post(url, data, HTTP_HX_REQUEST="true")
        answers.append((url, response.status_code))
        pattern = _pattern(url)
        if pattern:
            submitted[pattern] = submitted.get(pattern, 0) + 1

    # 1. Every form of every page, ids swapped. All pages are read before anything is posted
    #    (so every twin is still there to be offered), and what removes things goes last.
    harvested: list[tuple[str, dict[str, list[str]]]] = []
    for pattern in patterns:
        if pattern in POST_ONLY:
            continue
        for url in _concrete(pattern, a):
            page = admin.get(url)
            if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
                continue
            parser = FormParser()
            parser.feed(page.content.decode())
            for form in parser.forms:
                target = _target(url, form)
                if target and target.startswith("/") and _pattern(target):
                    harvested.append((target, _body(form)))
    for target, body in sorted(harvested, key=lambda tb: bool(DESTRUCTIVE.search(tb[0]))):
        post(target, body)

    # 2. Every POST endpoint no form reached (or reached only with A's own choices): a body
    #    naming B's objects under every id field name the views read.
    generic = {
        "assignee": [str(b["agent"].pk)],
        "user": [str(b["agent"].pk)],
        "members": [str(b["agent"].pk)],
        "department": [str(b["department"].pk)],
        "departments": [str(b["department"].pk)],
        "account": [str(b["email"].pk)],
        "accounts": [str(b["email"].pk), str(b["webchat"].pk)],
        "template": [str(b["wa_template"].pk)],
        "schedule": [str(b["schedule"].pk)],
        "message": [str(b[f"message{NUMBER}"].pk)],
        "customer_identity": [str(b["identity"].pk)],
        "identity": [str(b["identity"].pk)],
        "column": [str(b["column"].pk)],
        "order": [f"{b['column'].pk},{a['column'].pk}"],
        "field": [str(b["field"].pk)],
        "op": ["link", "unlink", "split"],
        "kind": ["email"],
        "value": [b["identity"].value],
        "text": ["hola"],
        "name": ["Nombre"],
        "sentiment": ["angry"],
        "direction": ["up"],
    }
    for pattern in patterns:
        for url in _concrete(pattern, a):
            post(url, generic)

    # Every endpoint that takes a POST was attacked (the rest answer 405 to everything).
    for pattern in patterns:
        if pattern != LOGOUT:
            assert submitted.get(pattern), f"{pattern} was never submitted"
    assert not [(u, c) for u, c in answers if c >= 500], "a server error"

    b_after = _rows(cast.tenant_b.pk)
    changed = [label for label in b_before if b_before[label] != b_after[label]]
    assert not changed, f"tenant A's requests changed tenant B's {changed}"
    assert not _cross_references(cast.tenant_a.pk)
    assert not _stored_b_ids(_rows(cast.tenant_a.pk))
    # The attack was real: A's forms did write (so the swapped ids met real handlers).
    assert len(answers) > 150


def test_the_checks_see_a_planted_cross_tenant_reference(cast, worlds):
    """The invariants above can fail: a ticket of A moved to B's department, and B's account
    stored in one of A's column filters, are both reported."""
    a, b = worlds
    with bypass_context():
        Ticket.objects.filter(pk=a["ticket"].pk).update(department=b["department"])
        a["column"].filters = {"accounts": [b["email"].pk]}
        a["column"].save(update_fields=["filters"])
    assert _cross_references(cast.tenant_a.pk) == [f"tickets.Ticket.department #{a['ticket'].pk}"]
    assert any("filters" in found for found in _stored_b_ids(_rows(cast.tenant_a.pk)))
