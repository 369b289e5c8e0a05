"""The Analítica page and its CSVs: who may open them, filters in the URL, another tenant's
ids, formula-safe CSV, the htmx partial and the page's query count."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
import time_machine
from django.test import Client

from analytics.panels import PANELS
from helpdesk.tenancy import bypass_context, tenant_context
from tests.analytics.conftest import WED, at
from tests.conftest import client_for
from tests.tickets.factories import ChannelAccountFactory

pytestmark = pytest.mark.django_db

PERIOD = "range=custom&from=2025-06-06&to=2025-06-11"


@pytest.fixture
def wednesday():
    with time_machine.travel(at(WED, 12), tick=False):
        yield


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_an_analyst_reads_every_panel(history, wednesday, in_a):
    body = client_for(in_a.analyst).get(f"/analytics/?{PERIOD}").content.decode()
    for title in (
        "Tickets por día",
        "Primera respuesta humana",
        "Cumplimiento de SLA",
        "Pendientes al cierre de cada día",
        "Ejecutivos",
        "Tipificación",
    ):
        assert title in body
    assert "Ana Ñandú" in body and "Beto Ñandú" in body
    assert "47 min" in body  # the median first response: (4,950 + 750) / 2 seconds (buckets)
    assert body.count("<svg") >= 6
    assert 'href="/admin/exports/"' in body  # Analítica → Exportaciones


def test_filters_are_kept_in_the_url_and_apply_to_every_link(history, wednesday, in_a):
    chat = history["chat"].pk
    body = client_for(in_a.admin).get(f"/analytics/?{PERIOD}&account={chat}").content.decode()
    assert f'<option value="{chat}" selected>' in body
    assert (
        f"/analytics/csv/agents/?range=custom&amp;from=2025-06-06&amp;to=2025-06-11&amp;account={chat}"
        in body
    )


def test_a_panel_downloads_as_csv_with_raw_numbers(history, wednesday, in_a):
    response = client_for(in_a.analyst).get(f"/analytics/csv/first_response/?{PERIOD}")
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    rows = _csv(response)
    header = ["Día", "Tickets respondidos", "Mediana", "Mediana (s)", "P90", "P90 (s)"]
    assert rows[0] == header
    # Bucket middles (test_figures.py), as people read them and in seconds.
    assert ["2025-06-10", "2", "47 min 30 s", "2850", "1 h 15 min", "4530"] in rows
    assert ["2025-06-09", "0", "", "", "", ""] in rows


def test_the_agent_table_reads_durations_and_its_csv_keeps_the_seconds(history, wednesday, in_a):
    client = client_for(in_a.analyst)
    body = client.get(f"/analytics/?{PERIOD}").content.decode()
    assert "Mediana 1ª respuesta</th>" in body and "(s)</th>" not in body
    assert "<td>47 min 30 s</td>" in body
    rows = _csv(client.get(f"/analytics/csv/agents/?{PERIOD}"))
    at = rows[0].index("Mediana 1ª respuesta")
    assert rows[0][at + 1] == "Mediana 1ª respuesta (s)"
    by_name = {row[0]: row[at : at + 2] for row in rows[1:]}
    assert by_name == {"Ana Ñandú": ["47 min 30 s", "2850"], "Beto Ñandú": ["", ""]}


def test_csv_cells_cannot_start_a_formula(history, wednesday, in_a):
    ana = history["ana"]
    ana.name = '=HYPERLINK("http://evil.test")'
    ana.save()
    rows = _csv(client_for(in_a.analyst).get(f"/analytics/csv/agents/?{PERIOD}"))
    names = [row[0] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil.test")' in names


@pytest.mark.parametrize("panel", sorted(PANELS))
def test_every_panel_csv_is_for_analysts_and_admins(cast, panel):
    assert client_for(cast.agent).get(f"/analytics/csv/{panel}/").status_code == 403
    for user in (cast.analyst, cast.admin):
        assert client_for(user).get(f"/analytics/csv/{panel}/").status_code == 200
    anonymous = Client().get(f"/analytics/csv/{panel}/")
    assert anonymous.status_code == 302


def test_an_unknown_panel_is_a_404(cast):
    assert client_for(cast.admin).get("/analytics/csv/nope/").status_code == 404


def test_the_outsider_sees_none_of_tenant_a(history, wednesday, cast):
    outsider = client_for(cast.outsider)
    chat = history["chat"].pk
    page = outsider.get(f"/analytics/?{PERIOD}&account={chat}").content.decode()
    assert "Ñandú" not in page
    assert "Ese filtro no existe (quizás se eliminó): se muestran todos." in page
    for panel in PANELS:
        body = outsider.get(f"/analytics/csv/{panel}/?{PERIOD}").content.decode()
        assert "Ñandú" not in body, panel
        rows = _csv(outsider.get(f"/analytics/csv/tickets/?{PERIOD}"))
        assert all(row[1:] == ["0", "0", "0"] for row in rows[1:]), panel


def test_the_htmx_request_answers_the_panels_only(history, wednesday, in_a):
    response = client_for(in_a.analyst).get(f"/analytics/?{PERIOD}", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="analytics-body"' in body and "<header" not in body.split('id="analytics-body"')[0]


def test_bad_dates_say_why_and_fall_back_to_30_days(cast):
    body = client_for(cast.admin).get("/analytics/?range=custom&from=2025-06-11&to=2025-06-01")
    assert "La fecha final es anterior a la inicial." in body.content.decode()
    assert body.context["f"].preset == "30d"


def test_the_page_query_count_does_not_grow_with_the_data(
    history, wednesday, in_a, django_assert_max_num_queries
):
    client = client_for(in_a.analyst)
    client.get(f"/analytics/?{PERIOD}")  # session, caches
    with django_assert_max_num_queries(30) as first:
        client.get(f"/analytics/?{PERIOD}")
    with tenant_context(in_a.tenant_a.pk):
        ChannelAccountFactory(tenant=in_a.tenant_a, kind="whatsapp", name="Otra")
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get(f"/analytics/?{PERIOD}")


def test_no_page_reads_tickets_or_messages(history, wednesday, in_a, django_assert_max_num_queries):
    client = client_for(in_a.analyst)
    with django_assert_max_num_queries(40) as captured:
        client.get(f"/analytics/?{PERIOD}")
    tables = " ".join(q["sql"] for q in captured.captured_queries)
    assert '"tickets_ticket"' not in tables and '"tickets_message"' not in tables


def test_rollup_rows_carry_their_tenant_and_only_it_reads_them(history, cast):
    """Every rollup table, as the application's role: the rows carry tenant A, tenant A's
    context sees them, tenant B's and no context see none (row-level security, in SQL)."""
    from django.db import connection

    from analytics.models import ROLLUP_MODELS
    from helpdesk.tenancy import no_tenant_context

    def count(table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            return cursor.fetchone()[0]

    for model in ROLLUP_MODELS:
        table = model._meta.db_table
        with bypass_context():
            tenants = set(model.all_tenants.values_list("tenant_id", flat=True))
        assert tenants == {history["chat"].tenant_id}, table
        with tenant_context(cast.tenant_a.pk):
            assert count(table) > 0, table
        with tenant_context(cast.tenant_b.pk):
            assert count(table) == 0, table
        with no_tenant_context():
            assert count(table) == 0, table


def test_open_tickets_of_a_person_open_as_a_prefilled_inbox_column(history, wednesday, in_a):
    client = client_for(in_a.admin)
    body = client.get(f"/analytics/?{PERIOD}").content.decode()
    ana = history["ana"].pk
    link = re.search(rf'href="(/inbox/columns/new/\?[^"]*assignee_users={ana}[^"]*)"', body)
    assert link is not None
    url = html.unescape(link.group(1))
    form = client.get(url).content.decode()
    assert 'value="Abiertos · Ana Ñandú"' in form
    assert f'name="assignee_users" value="{ana}" checked' in form
    # Waits past due on the web chat open as a column of breached SLAs on that channel.
    assert "sla=breached&amp;channels=webchat" in body


@pytest.mark.parametrize("narrowed", ["channel=webchat", "department={ventas}"])
def test_a_page_narrowed_by_one_dimension_reads_no_row_per_combination(
    narrowed, history, wednesday, in_a, django_assert_max_num_queries
):
    from deskconfig.models import Department

    with tenant_context(in_a.tenant_a.pk):
        ventas = Department.objects.create(name="Ventas")
    query = f"{PERIOD}&{narrowed.format(ventas=ventas.pk)}"
    with django_assert_max_num_queries(40) as captured:
        response = client_for(in_a.analyst).get(f"/analytics/?{query}")
    assert response.status_code == 200
    tables = " ".join(q["sql"] for q in captured.captured_queries)
    assert "analytics_dimensiontotal" in tables and "analytics_dimensionresponsetotal" in tables
    assert "analytics_dailystat" not in tables and "analytics_responsestat" not in tables
