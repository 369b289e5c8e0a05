"""Templates page: quick replies (shortcut, variables, departments) and WhatsApp templates
(name, placeholders, approval status), each change audited, tenants kept apart."""

from __future__ import annotations

import re

import pytest

from admin_config.message_templates import (
    approved_whatsapp_templates,
    placeholder_count,
    placeholder_errors,
    unknown_variables,
)
from deskconfig.kinds import ChannelKind
from deskconfig.models import (
    ConfigChange,
    Department,
    DepartmentMembership,
    MessageTemplate,
    TemplateDepartment,
    WhatsAppTemplate,
)
from helpdesk.tenancy import tenant_context
from tests.admin.crud_support import assert_refused_to_non_admins, changes, make, page
from tests.conftest import client_for
from tests.tickets.factories import ChannelAccountFactory
from tickets.queries import templates_for

pytestmark = pytest.mark.django_db

URL = "/admin/templates/"
WA_URL = "/admin/templates/whatsapp/"


def templates_of(tenant):
    with tenant_context(tenant.pk):
        return list(MessageTemplate.objects.order_by("shortcut"))


def departments_of(template):
    with tenant_context(template.tenant_id):
        return sorted(
            TemplateDepartment.objects.filter(template=template).values_list(
                "department__name", flat=True
            )
        )


@pytest.fixture
def depts(cast):
    return {name: make(cast, Department, name=name) for name in ("Ventas", "Soporte", "Cobranza")}


def test_unknown_variables_are_named_once_in_order():
    assert unknown_variables("Hola {cliente}, soy {ejecutivo} del {ticket}") == []
    assert unknown_variables("{clinte} {Cliente} {clinte} {} {{1}}") == [
        "clinte",
        "Cliente",
        "",
        "1",
    ]


def test_list_shows_this_tenants_templates_only(cast, depts):
    make(cast, MessageTemplate, name="Saludo", shortcut="saludo", body="Hola {cliente}")
    make(cast, MessageTemplate, cast.tenant_b, name="De B", shortcut="secreto", body="x")
    html = page(client_for(cast.admin), URL)
    assert "/saludo" in html and "/secreto" not in html and "Todos (global)" in html
    assert f'href="{WA_URL}"' in html


def test_create_edit_delete_with_departments_each_audited(cast, depts):
    client = client_for(cast.admin)
    ventas, soporte = depts["Ventas"].pk, depts["Soporte"].pk
    response = client.post(
        f"{URL}new/",
        {
            "name": "Saludo",
            "shortcut": "/Saludo",
            "body": "Hola {cliente}, soy {ejecutivo}. Ticket {ticket}.",
            "departments": [ventas, soporte],
        },
    )
    assert response.status_code == 302
    (template,) = templates_of(cast.tenant_a)
    assert template.shortcut == "saludo"  # without the slash, lowercase
    assert departments_of(template) == ["Soporte", "Ventas"]
    with tenant_context(cast.tenant_a.pk):
        assert {link.tenant_id for link in TemplateDepartment.objects.all()} == {cast.tenant_a.pk}

    page_html = page(client, f"{URL}{template.pk}/")
    assert re.search(rf'value="{ventas}"[^>]*checked', page_html)
    assert not re.search(rf'value="{depts["Cobranza"].pk}"[^>]*checked', page_html)

    response = client.post(
        f"{URL}{template.pk}/",
        {"name": "Saludo", "shortcut": "saludo", "body": "Hola {cliente}.", "departments": []},
    )
    assert response.status_code == 302
    assert departments_of(template) == []  # global now
    assert client.post(f"{URL}{template.pk}/delete/").status_code == 302
    assert templates_of(cast.tenant_a) == []

    log = changes(cast.tenant_a, "templates")
    assert [c.action for c in log] == [
        ConfigChange.Action.CREATE,
        ConfigChange.Action.UPDATE,
        ConfigChange.Action.DELETE,
    ]
    assert log[0].after["departments"] == sorted([ventas, soporte])
    assert log[1].before == {
        "body": "Hola {cliente}, soy {ejecutivo}. Ticket {ticket}.",
        "departments": sorted([ventas, soporte]),
    }
    assert log[1].after == {"body": "Hola {cliente}.", "departments": []}


def test_agents_see_global_templates_and_their_departments_ones(cast, depts):
    client = client_for(cast.admin)
    with tenant_context(cast.tenant_a.pk):
        DepartmentMembership.objects.create(
            tenant=cast.tenant_a, department=depts["Ventas"], user=cast.agent
        )
    for shortcut, chosen in (("global", []), ("ventas", ["Ventas"]), ("cobro", ["Cobranza"])):
        client.post(
            f"{URL}new/",
            {
                "name": shortcut,
                "shortcut": shortcut,
                "body": "x",
                "departments": [depts[d].pk for d in chosen],
            },
        )
    with tenant_context(cast.tenant_a.pk):
        assert [t.shortcut for t in templates_for(cast.agent)] == ["global", "ventas"]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"shortcut": "hola"}, "Ya existe una plantilla con el atajo /hola."),
        ({"shortcut": "/HOLA"}, "Ya existe una plantilla con el atajo /hola."),
        ({"shortcut": "con espacio"}, "El atajo lleva solo letras sin tildes"),
        ({"shortcut": "ñandú"}, "El atajo lleva solo letras sin tildes"),
        ({"body": "Hola {clinte} y {nombre}"}, "Variables desconocidas: {clinte}, {nombre}."),
        ({"body": "Hola {Cliente}"}, "Variable desconocida: {Cliente}."),
        ({"body": ""}, "Este campo es obligatorio."),
        ({"name": ""}, "Este campo es obligatorio."),
    ],
)
def test_quick_reply_validation_errors_in_spanish(cast, data, error):
    make(cast, MessageTemplate, name="Hola", shortcut="hola", body="Hola")
    posted = {"name": "Nueva", "shortcut": "nueva", "body": "Hola {cliente}", **data}
    response = client_for(cast.admin).post(f"{URL}new/", posted)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert len(templates_of(cast.tenant_a)) == 1


def test_the_same_shortcut_in_another_tenant_is_fine(cast):
    make(cast, MessageTemplate, cast.tenant_b, name="Hola", shortcut="hola", body="x")
    response = client_for(cast.admin).post(
        f"{URL}new/", {"name": "Hola", "shortcut": "hola", "body": "x"}
    )
    assert response.status_code == 302


def test_another_tenants_departments_cannot_be_chosen(cast, depts):
    theirs = make(cast, Department, cast.tenant_b, name="De B")
    client = client_for(cast.admin)
    html = page(client, f"{URL}new/")
    assert "Ventas" in html and "De B" not in html
    response = client.post(
        f"{URL}new/",
        {"name": "x", "shortcut": "x", "body": "x", "departments": [theirs.pk]},
    )
    assert response.status_code == 200 and "Escoja una opción válida" in response.content.decode()
    assert templates_of(cast.tenant_a) == []


def test_another_tenants_template_is_404_and_untouched(cast):
    theirs = make(cast, MessageTemplate, cast.tenant_b, name="B", shortcut="b", body="x")
    client = client_for(cast.admin)
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert client.post(f"{URL}{theirs.pk}/", {"name": "x"}).status_code == 404
    assert client.post(f"{URL}{theirs.pk}/delete/").status_code == 404
    assert len(templates_of(cast.tenant_b)) == 1


# --- WhatsApp templates ----------------------------------------------------------------------


@pytest.fixture
def wa(cast):
    with tenant_context(cast.tenant_a.pk):
        return ChannelAccountFactory(
            tenant=cast.tenant_a, kind=ChannelKind.WHATSAPP, name="WhatsApp Ventas"
        )


def wa_form(account, **overrides):
    data = {
        "account": account.pk,
        "name": "pedido_enviado",
        "language": "es",
        "category": "UTILITY",
        "body": "Hola {{1}}, tu pedido {{2}} va en camino. {{1}}, gracias.",
        "status": "PENDING",
    }
    data.update(overrides)
    return data


def wa_of(tenant):
    with tenant_context(tenant.pk):
        return list(WhatsAppTemplate.objects.order_by("name"))


@pytest.mark.parametrize(
    ("body", "count", "errors"),
    [
        ("Sin parámetros", 0, []),
        ("{{1}} y {{2}} y {{ 3 }}", 3, []),
        ("{{2}} antes que {{1}}", 2, []),
        ("{{1}} y {{3}}", 3, ["falta {{2}}"]),
        ("{{2}}", 2, ["falta {{1}}"]),
        ("{{0}} y {{1}}", 1, ["empiezan en {{1}}"]),
        ("Hola {{nombre}}", 0, ["No valen: {{nombre}}"]),
    ],
)
def test_placeholders(body, count, errors):
    assert placeholder_count(body) == count
    found = placeholder_errors(body)
    assert len(found) == len(errors)
    for part, message in zip(errors, found, strict=True):
        assert part in message


def test_whatsapp_list_shows_this_tenants_templates_only(cast, wa):
    make(cast, WhatsAppTemplate, account=wa, name="bienvenida", body="Hola {{1}}")
    with tenant_context(cast.tenant_b.pk):
        theirs = ChannelAccountFactory(tenant=cast.tenant_b, kind=ChannelKind.WHATSAPP)
    make(cast, WhatsAppTemplate, cast.tenant_b, account=theirs, name="secreto_b", body="x")
    html = page(client_for(cast.admin), WA_URL)
    assert "bienvenida" in html and "secreto_b" not in html and "Pendiente" in html


def test_whatsapp_create_edit_delete_each_audited(cast, wa):
    client = client_for(cast.admin)
    assert client.post(f"{WA_URL}new/", wa_form(wa)).status_code == 302
    (template,) = wa_of(cast.tenant_a)
    assert template.account_id == wa.pk and template.status == WhatsAppTemplate.Status.PENDING
    with tenant_context(cast.tenant_a.pk):
        assert approved_whatsapp_templates(wa) == []

    assert client.post(f"{WA_URL}{template.pk}/", wa_form(wa, status="APPROVED")).status_code == 302
    with tenant_context(cast.tenant_a.pk):
        assert [t.name for t in approved_whatsapp_templates(wa)] == ["pedido_enviado"]
    assert client.post(f"{WA_URL}{template.pk}/delete/").status_code == 302
    assert wa_of(cast.tenant_a) == []

    log = changes(cast.tenant_a, "templates")
    assert [c.action for c in log] == ["create", "update", "delete"]
    assert log[0].object_type == "whatsapptemplate"
    assert log[1].before == {"status": "PENDING"} and log[1].after == {"status": "APPROVED"}


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"name": "Pedido Enviado"}, "WhatsApp solo acepta minúsculas"),
        ({"name": "pedido-enviado"}, "WhatsApp solo acepta minúsculas"),
        ({"name": "envío"}, "WhatsApp solo acepta minúsculas"),
        ({"body": "Hola {{1}} y {{3}}"}, "falta {{2}}"),
        ({"body": "Hola {{nombre}}"}, "No valen: {{nombre}}"),
        ({"body": "x" * 1025}, "hasta 1024 caracteres"),
        ({"language": "klingon"}, "Escoja una opción válida"),
        ({"status": "LIVE"}, "Escoja una opción válida"),
        ({"name": "ya_existe"}, "Esta cuenta ya tiene la plantilla «ya_existe» en ese idioma."),
    ],
)
def test_whatsapp_validation_errors_in_spanish(cast, wa, overrides, error):
    make(cast, WhatsAppTemplate, account=wa, name="ya_existe", language="es", body="x")
    response = client_for(cast.admin).post(f"{WA_URL}new/", wa_form(wa, **overrides))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert len(wa_of(cast.tenant_a)) == 1


def test_same_name_in_another_language_is_fine(cast, wa):
    make(cast, WhatsAppTemplate, account=wa, name="ya_existe", language="es", body="x")
    response = client_for(cast.admin).post(
        f"{WA_URL}new/", wa_form(wa, name="ya_existe", language="en_US")
    )
    assert response.status_code == 302


def test_only_whatsapp_accounts_of_this_tenant_are_offered(cast, wa):
    with tenant_context(cast.tenant_a.pk):
        mail = ChannelAccountFactory(tenant=cast.tenant_a, kind=ChannelKind.EMAIL, name="Correo")
    with tenant_context(cast.tenant_b.pk):
        theirs = ChannelAccountFactory(
            tenant=cast.tenant_b, kind=ChannelKind.WHATSAPP, name="WA de B"
        )
    client = client_for(cast.admin)
    html = page(client, f"{WA_URL}new/")
    assert "WhatsApp Ventas" in html and "Correo" not in html and "WA de B" not in html
    for account in (mail, theirs):
        response = client.post(f"{WA_URL}new/", wa_form(account))
        assert "Escoja una opción válida" in response.content.decode()
    assert wa_of(cast.tenant_a) == []


def test_another_tenants_whatsapp_template_is_404(cast):
    with tenant_context(cast.tenant_b.pk):
        account = ChannelAccountFactory(tenant=cast.tenant_b, kind=ChannelKind.WHATSAPP)
    theirs = make(cast, WhatsAppTemplate, cast.tenant_b, account=account, name="b", body="x")
    client = client_for(cast.admin)
    assert client.get(f"{WA_URL}{theirs.pk}/").status_code == 404
    assert client.post(f"{WA_URL}{theirs.pk}/delete/").status_code == 404
    assert len(wa_of(cast.tenant_b)) == 1


def test_agents_and_analysts_are_refused(cast, wa):
    template = make(cast, MessageTemplate, name="x", shortcut="x", body="x")
    wa_template = make(cast, WhatsAppTemplate, account=wa, name="x", body="x")
    assert_refused_to_non_admins(
        cast,
        client_for,
        [
            URL,
            f"{URL}new/",
            f"{URL}{template.pk}/",
            f"{URL}{template.pk}/delete/",
            WA_URL,
            f"{WA_URL}new/",
            f"{WA_URL}{wa_template.pk}/",
            f"{WA_URL}{wa_template.pk}/delete/",
        ],
    )


def test_a_stored_language_outside_the_list_stays_editable(cast, wa):
    template = make(cast, WhatsAppTemplate, account=wa, name="viejo", language="es_CL", body="x")
    client = client_for(cast.admin)
    assert 'value="es_CL" selected' in page(client, f"{WA_URL}{template.pk}/")
    response = client.post(f"{WA_URL}{template.pk}/", wa_form(wa, name="viejo", language="es_CL"))
    assert response.status_code == 302


def test_the_form_says_to_connect_whatsapp_first(cast):
    assert "Conecta primero una cuenta de WhatsApp" in page(client_for(cast.admin), f"{WA_URL}new/")
