"""The business hours and SLA pages: list, create, edit, delete, validation in Spanish, the
audit log, and tenant isolation."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from admin_config.views_hours import DASH
from deskconfig.accounts import ChannelAccount
from deskconfig.business_hours import END_OF_DAY
from deskconfig.models import (
    BusinessInterval,
    BusinessSchedule,
    ConfigChange,
    Holiday,
    TenantSettings,
)
from helpdesk.tenancy import tenant_context
from tests.conftest import client_for
from tests.tickets.factories import ChannelAccountFactory

pytestmark = pytest.mark.django_db

T = datetime.time
HOURS = "/admin/business-hours/"


def rows(prefix: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """A formset's POST data: the management form and one numbered row per item."""
    data: dict[str, Any] = {
        f"{prefix}-TOTAL_FORMS": str(len(items)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, item in enumerate(items):
        data.update({f"{prefix}-{i}-{k}": v for k, v in item.items()})
    return data


def schedule_post(
    name: str = "Oficina",
    time_zone: str = "America/Santiago",
    intervals: list[dict[str, Any]] | None = None,
    holidays: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    if intervals is None:
        intervals = [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)]
    return {
        "name": name,
        "time_zone": time_zone,
        **rows("intervals", intervals),
        **rows("holidays", holidays or []),
    }


def changes(tenant_id: int, section: str) -> list[ConfigChange]:
    with tenant_context(tenant_id):
        return list(ConfigChange.objects.filter(section=section).order_by("at", "id"))


@pytest.fixture
def office(cast) -> BusinessSchedule:
    with tenant_context(cast.tenant_a.pk):
        schedule = BusinessSchedule.objects.create(name="Oficina", is_default=True)
        for d in range(5):
            BusinessInterval.objects.create(schedule=schedule, weekday=d, start=T(9), end=T(18))
        Holiday.objects.create(schedule=schedule, date=datetime.date(2025, 9, 18), name="Fiestas")
        return schedule


@pytest.fixture
def theirs(cast) -> BusinessSchedule:
    with tenant_context(cast.tenant_b.pk):
        return BusinessSchedule.objects.create(name="Horario de B", is_default=True)


# --- business hours: list ---------------------------------------------------------------------


def test_the_list_shows_the_main_schedule_first_and_only_this_tenants(cast, office, theirs):
    with tenant_context(cast.tenant_a.pk):
        BusinessSchedule.objects.create(name="Apertura")  # sorts before "Oficina" by name
    page = client_for(cast.admin).get(HOURS).content.decode()
    assert page.index("Oficina") < page.index("Apertura")
    assert "Horario de B" not in page
    assert f"Lun</b> 09:00{DASH}18:00" in page and "Principal" in page


def test_the_list_and_form_are_for_admins_only(cast, office):
    for user in (cast.agent, cast.analyst):
        client = client_for(user)
        assert client.get(HOURS).status_code == 403
        assert client.post(f"{HOURS}{office.pk}/delete/").status_code == 403
        assert client.get("/admin/sla/").status_code == 403


# --- business hours: create and edit --------------------------------------------------------


def test_create_a_schedule_with_several_intervals_a_day_and_holidays(cast):
    data = schedule_post(
        intervals=[
            {"weekday": 0, "start": "09:00", "end": "13:00"},
            {"weekday": 0, "start": "14:00", "end": "18:00"},
            {"weekday": 5, "start": "20:00", "end": "00:00"},  # until midnight
            {"weekday": "", "start": "", "end": ""},  # a blank row is ignored
            {"weekday": 2, "start": "01:00", "end": "02:00", "DELETE": "on"},  # removed
        ],
        holidays=[{"date": "2025-12-25", "name": "Navidad"}],
    )
    response = client_for(cast.admin).post(f"{HOURS}new/", data)
    assert response.status_code == 302 and response["Location"] == HOURS
    with tenant_context(cast.tenant_a.pk):
        schedule = BusinessSchedule.objects.get(name="Oficina")
        assert schedule.is_default  # the tenant's first schedule is its main one
        assert list(schedule.intervals.values_list("weekday", "start", "end")) == [
            (0, T(9), T(13)),
            (0, T(14), T(18)),
            (5, T(20), END_OF_DAY),
        ]
        assert list(schedule.holidays.values_list("date", "name")) == [
            (datetime.date(2025, 12, 25), "Navidad")
        ]
    (change,) = changes(cast.tenant_a.pk, "business-hours")
    assert change.action == ConfigChange.Action.CREATE and change.actor_id == cast.admin.pk
    assert change.after["intervals"] == [
        f"Lun 09:00{DASH}13:00",
        f"Lun 14:00{DASH}18:00",
        f"Sáb 20:00{DASH}24:00",
    ]
    assert change.after["holidays"] == ["2025-12-25 Navidad"]
    assert change.after["name"] == "Oficina"


def test_the_new_form_offers_office_hours_in_the_tenants_zone(cast):
    page = client_for(cast.admin).get(f"{HOURS}new/").content.decode()
    assert 'value="09:00"' in page and 'value="18:00"' in page
    assert '<option value="America/Santiago" selected>' in page


def test_edit_replaces_the_rows_and_logs_before_and_after(cast, office):
    data = schedule_post(
        intervals=[{"weekday": d, "start": "08:30", "end": "17:30"} for d in range(5)],
        holidays=[{"date": "2025-09-19", "name": "Glorias del Ejército"}],
    )
    edit = f"{HOURS}{office.pk}/"
    page = client_for(cast.admin).get(edit).content.decode()
    assert 'value="2025-09-18"' in page and 'value="Fiestas"' in page
    assert client_for(cast.admin).post(edit, data).status_code == 302
    with tenant_context(cast.tenant_a.pk):
        assert set(office.intervals.values_list("start", flat=True)) == {T(8, 30)}
        assert list(office.holidays.values_list("name", flat=True)) == ["Glorias del Ejército"]
    (change,) = changes(cast.tenant_a.pk, "business-hours")
    assert change.action == ConfigChange.Action.UPDATE
    assert change.before["intervals"][0] == f"Lun 09:00{DASH}18:00"
    assert change.after["intervals"][0] == f"Lun 08:30{DASH}17:30"
    assert change.before["holidays"] == ["2025-09-18 Fiestas"]
    assert "name" not in change.after  # only what changed


def test_an_interval_until_midnight_is_shown_as_00_00_in_the_form(cast, office):
    with tenant_context(cast.tenant_a.pk):
        BusinessInterval.objects.create(schedule=office, weekday=6, start=T(20), end=END_OF_DAY)
    page = client_for(cast.admin).get(f"{HOURS}{office.pk}/").content.decode()
    assert 'value="00:00"' in page
    assert f"Dom</b> 20:00{DASH}24:00" in client_for(cast.admin).get(HOURS).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            schedule_post(intervals=[{"weekday": 0, "start": "18:00", "end": "09:00"}]),
            "La hora de inicio debe ser anterior a la de término.",
        ),
        (
            schedule_post(
                intervals=[
                    {"weekday": 1, "start": "09:00", "end": "13:00"},
                    {"weekday": 1, "start": "12:00", "end": "18:00"},
                ]
            ),
            f"Los tramos del martes se superponen: 09:00{DASH}13:00 y 12:00{DASH}18:00.",
        ),
        (
            schedule_post(time_zone="Marte/Olympus"),
            "«Marte/Olympus» no es una zona horaria válida.",
        ),
        (
            schedule_post(
                holidays=[
                    {"date": "2025-12-25", "name": "Navidad"},
                    {"date": "2025-12-25", "name": "Otra vez"},
                ]
            ),
            "El feriado del 25-12-2025 está repetido.",
        ),
        (
            schedule_post(holidays=[{"date": "2025-12-25", "name": ""}]),
            "Este campo es obligatorio.",
        ),
        (schedule_post(name=""), "Este campo es obligatorio."),
    ],
)
def test_validation_errors_say_what_is_wrong_in_spanish(cast, data, message):
    response = client_for(cast.admin).post(f"{HOURS}new/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    with tenant_context(cast.tenant_a.pk):
        assert not BusinessSchedule.objects.exists()
    assert not changes(cast.tenant_a.pk, "business-hours")


def test_a_name_already_used_is_a_form_error(cast, office):
    response = client_for(cast.admin).post(f"{HOURS}new/", schedule_post(name="Oficina"))
    assert response.status_code == 200
    assert "Ya hay un horario llamado «Oficina»." in response.content.decode()


def test_the_same_name_in_another_tenant_is_fine(cast, theirs):
    response = client_for(cast.admin).post(f"{HOURS}new/", schedule_post(name="Horario de B"))
    assert response.status_code == 302


# --- business hours: main and delete ----------------------------------------------------------


def test_make_another_schedule_the_main_one(cast, office):
    with tenant_context(cast.tenant_a.pk):
        night = BusinessSchedule.objects.create(name="Noche")
    response = client_for(cast.admin).post(f"{HOURS}{night.pk}/main/")
    assert response.status_code == 302
    with tenant_context(cast.tenant_a.pk):
        assert list(BusinessSchedule.objects.filter(is_default=True)) == [night]
    unset, made = changes(cast.tenant_a.pk, "business-hours")
    assert (unset.object_repr, unset.before, unset.after) == (
        "Oficina",
        {"is_default": True},
        {"is_default": False},
    )
    assert (made.object_repr, made.after) == ("Noche", {"is_default": True})


def test_delete_is_refused_while_accounts_use_the_schedule(cast, office):
    with tenant_context(cast.tenant_a.pk):
        ChannelAccountFactory(tenant=cast.tenant_a, name="Ventas", schedule=office)
    response = client_for(cast.admin).post(f"{HOURS}{office.pk}/delete/", follow=True)
    assert "No se puede eliminar «Oficina»: lo usan" in response.content.decode()
    assert "Ventas" in response.content.decode()
    with tenant_context(cast.tenant_a.pk):
        assert BusinessSchedule.objects.filter(pk=office.pk).exists()
    assert not changes(cast.tenant_a.pk, "business-hours")


def test_delete_an_unused_schedule_logs_it_with_its_rows(cast, office):
    response = client_for(cast.admin).post(f"{HOURS}{office.pk}/delete/")
    assert response.status_code == 302
    with tenant_context(cast.tenant_a.pk):
        assert not BusinessSchedule.objects.exists()
        assert not BusinessInterval.objects.exists() and not Holiday.objects.exists()
    (change,) = changes(cast.tenant_a.pk, "business-hours")
    assert change.action == ConfigChange.Action.DELETE
    assert change.before["name"] == "Oficina" and len(change.before["intervals"]) == 5


def test_another_tenants_schedule_is_not_found(cast, theirs):
    client = client_for(cast.admin)
    assert client.get(f"{HOURS}{theirs.pk}/").status_code == 404
    assert client.post(f"{HOURS}{theirs.pk}/", schedule_post()).status_code == 404
    assert client.post(f"{HOURS}{theirs.pk}/main/").status_code == 404
    assert client.post(f"{HOURS}{theirs.pk}/delete/").status_code == 404
    with tenant_context(cast.tenant_b.pk):
        assert BusinessSchedule.objects.get(pk=theirs.pk).is_default


# --- SLA ----------------------------------------------------------------------------------------


@pytest.fixture
def accounts(cast):
    with tenant_context(cast.tenant_a.pk):
        mail = ChannelAccountFactory(tenant=cast.tenant_a, name="Correo A", sla_minutes=60)
        chat = ChannelAccountFactory(tenant=cast.tenant_a, name="Chat A", sla_minutes=15)
    with tenant_context(cast.tenant_b.pk):
        other = ChannelAccountFactory(tenant=cast.tenant_b, name="Cuenta de B", sla_minutes=5)
    return mail, chat, other


def sla_post(risk: Any, items: list[tuple[ChannelAccount, Any, Any, Any]]) -> dict[str, Any]:
    data = {"sla_risk_percent": risk, **rows("accounts", [])}
    data["accounts-TOTAL_FORMS"] = data["accounts-INITIAL_FORMS"] = str(len(items))
    for i, (account, sla, resolution, schedule) in enumerate(items):
        data.update(
            {
                f"accounts-{i}-id": account.pk,
                f"accounts-{i}-sla_minutes": sla,
                f"accounts-{i}-resolution_minutes": resolution,
                f"accounts-{i}-schedule": schedule,
            }
        )
    return data


def test_the_sla_page_lists_this_tenants_accounts_with_their_settings(cast, accounts, office):
    page = client_for(cast.admin).get("/admin/sla/").content.decode()
    assert "Correo A" in page and "Chat A" in page and "Cuenta de B" not in page
    assert 'value="75"' in page  # the default "at risk" share
    assert "Sin horario (24/7)" in page and "Oficina" in page


def test_save_the_risk_share_and_every_account_in_one_post(cast, accounts, office):
    mail, chat, _other = accounts
    data = sla_post(80, [(mail, 120, 1440, office.pk), (chat, 15, "", "")])
    response = client_for(cast.admin).post("/admin/sla/", data)
    assert response.status_code == 302
    with tenant_context(cast.tenant_a.pk):
        assert TenantSettings.objects.get().sla_risk_percent == 80
        mail.refresh_from_db()
        assert (mail.sla_minutes, mail.resolution_minutes, mail.schedule_id) == (
            120,
            1440,
            office.pk,
        )
    settings_change, mail_change = changes(cast.tenant_a.pk, "sla")  # chat did not change
    assert settings_change.action == ConfigChange.Action.CREATE
    assert settings_change.after["sla_risk_percent"] == 80
    assert settings_change.object_repr == "Ajustes de SLA"
    assert mail_change.action == ConfigChange.Action.UPDATE
    assert mail_change.before == {
        "resolution_minutes": None,
        "schedule_id": None,
        "sla_minutes": 60,
    }
    assert mail_change.after == {
        "resolution_minutes": 1440,
        "schedule_id": office.pk,
        "sla_minutes": 120,
    }
    # Saving again without changes logs nothing more.
    with tenant_context(cast.tenant_a.pk):
        mail.refresh_from_db()
    client_for(cast.admin).post("/admin/sla/", data)
    assert len(changes(cast.tenant_a.pk, "sla")) == 2


@pytest.mark.parametrize(
    ("risk", "sla", "resolution", "message"),
    [
        (0, 60, "", "El porcentaje debe estar entre 1 y 100."),
        (101, 60, "", "El porcentaje debe estar entre 1 y 100."),
        (75, 0, "", "El SLA debe ser de al menos 1 minuto."),
        (75, 60, 0, "El tiempo de resolución debe ser de al menos 1 minuto."),
        (75, "", "", "Este campo es obligatorio."),
    ],
)
def test_sla_validation_errors_in_spanish(cast, accounts, risk, sla, resolution, message):
    mail, chat, _other = accounts
    data = sla_post(risk, [(mail, sla, resolution, ""), (chat, 15, "", "")])
    response = client_for(cast.admin).post("/admin/sla/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not changes(cast.tenant_a.pk, "sla")
    with tenant_context(cast.tenant_a.pk):
        assert not TenantSettings.objects.exists()


def test_another_tenants_account_or_schedule_cannot_be_set(cast, accounts, theirs):
    mail, _chat, other = accounts
    client = client_for(cast.admin)
    response = client.post("/admin/sla/", sla_post(75, [(mail, 60, "", theirs.pk)]))
    assert response.status_code == 200 and "Ese horario no existe." in response.content.decode()
    response = client.post("/admin/sla/", sla_post(75, [(other, 1, "", "")]))
    assert response.status_code == 200
    with tenant_context(cast.tenant_b.pk):
        other.refresh_from_db()
        assert other.sla_minutes == 5
    assert not changes(cast.tenant_a.pk, "sla")
