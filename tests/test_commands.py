"""Management commands, production settings, and the translation catalogs."""

from __future__ import annotations

import gettext
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from helpdesk.models import Role, Tenant, User
from helpdesk.tenancy import bypass_context, tenant_context

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_createtenant_creates_the_tenant_its_bot_and_admin():
    call_command(
        "createtenant",
        "pasteleria",
        "Pastelería Sur",
        "--admin-email",
        "jefa@pasteleria.test",
        "--admin-password",
        "una-clave-larga-1",
    )
    with bypass_context():
        tenant = Tenant.objects.get(slug="pasteleria")
    assert tenant.time_zone == "America/Santiago" and tenant.language == "es"
    with tenant_context(tenant.pk):
        bot = User.objects.get(is_bot=True)
        admin = User.objects.get(email="jefa@pasteleria.test")
    assert not bot.has_usable_password()
    assert admin.role == Role.ADMIN and admin.check_password("una-clave-larga-1")


@pytest.mark.django_db
def test_createtenant_refuses_a_bad_time_zone_and_a_taken_slug():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="zona horaria"):
        call_command("createtenant", "x", "X", "--time-zone", "Marte/Olympus")
    call_command("createtenant", "y", "Y")
    with pytest.raises(CommandError, match="exists already"):
        call_command("createtenant", "y", "Y")


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    call_command("seed_demo")
    with bypass_context():
        assert set(Tenant.objects.values_list("slug", flat=True)) == {"demo", "acme"}
        emails = set(User.objects.filter(is_bot=False).values_list("email", flat=True))
        assert emails == {
            "admin@demo.test",
            "analyst@demo.test",
            "agent@demo.test",
            "agent2@demo.test",
            "admin@acme.test",
        }
        assert User.objects.filter(is_bot=True).count() == 2
        assert User.objects.get(email="agent@demo.test").check_password("demo1234")


def test_check_deploy_is_clean_with_a_production_environment():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "HELPDESK_TESTING"}} | {
        "SECRET_KEY": "x" * 20 + "-a-long-and-random-production-secret-key-0123456789",
        "ALLOWED_HOSTS": "soporte.example.com",
        "DATABASE_URL": "postgresql://helpdesk_app@db/helpdesk",
        "DATABASE_OWNER_URL": "postgresql://helpdesk_owner@db/helpdesk",
        "FIELD_ENCRYPTION_KEY": "kFyqM4xRmhKh0xk8R2WwGJ0aQ3n3oU0sQ1vq0h1o6Gk=",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {
        k: v for k, v in os.environ.items() if k not in {"DEBUG", "HELPDESK_TESTING", "SECRET_KEY"}
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def _po_entries(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file (singular entries; the header excluded)."""
    entries: dict[str, str] = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        if "#, fuzzy" in block and 'msgid ""\nmsgstr ""' not in block:
            raise AssertionError(f"fuzzy entry in {path}:\n{block}")
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr ((?:".*"\n?)+)', block, re.M)
        if not msgid or not msgstr:
            continue

        def join(chunk: str) -> str:
            return (
                "".join(re.findall(r'"(.*)"', chunk))
                .encode()
                .decode("unicode_escape")
                .encode("latin-1")
                .decode("utf-8")
            )

        key = join(msgid.group(1))
        if key:
            entries[key] = join(msgstr.group(1))
    return entries


def test_every_string_has_its_english_translation_compiled():
    po = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
    entries = _po_entries(po)
    assert len(entries) > 100
    missing = [k for k, v in entries.items() if not v]
    assert not missing, f"untranslated in English: {missing}"
    with open(po.with_suffix(".mo"), "rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = [k for k, v in entries.items() if compiled.gettext(k) != v]
    assert not stale, f"django.mo is older than django.po (run make messages): {stale[:5]}"


@pytest.mark.django_db(transaction=True)
def test_the_bench_seeder_still_fills_every_table_it_loads():
    """A tiny bench_search: the bench tenant is seeded through COPY (every required column,
    including ones added after the seeder was written), searched, explained and dropped."""
    from io import StringIO

    out = StringIO()
    call_command("bench_search", tickets=40, messages=80, rounds=1, stdout=out)
    text = out.getvalue()
    assert "GET /search/" in text and "bench tenant dropped" in text
    assert "Traceback" not in text
    with bypass_context():
        assert not Tenant.objects.filter(slug="bench").exists()
