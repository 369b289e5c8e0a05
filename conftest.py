"""Test database setup: created and migrated as the owner role, then used as the app role.

So every test runs exactly as production does: as a role that row-level security applies to.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from helpdesk.dbroles import as_owner
from helpdesk.rls import app_role_name


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: Any,
    django_db_keepdb: bool,
    django_db_modify_db_settings: None,
) -> Iterator[None]:
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock(), as_owner():
        db_cfg = setup_databases(
            verbosity=request.config.option.verbose, interactive=False, keepdb=django_db_keepdb
        )
        # Transactional tests empty the tables between tests with TRUNCATE; only tests need
        # that privilege, so it is granted here and not by the migrations.
        role = app_role_name()
        if role:
            with connections["default"].cursor() as cursor:
                cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{role}"')
    yield
    with django_db_blocker.unblock(), as_owner():
        try:
            teardown_databases(db_cfg, verbosity=request.config.option.verbose)
        except Exception as exc:  # pragma: no cover - a leftover test db is harmless
            print(f"could not drop the test database: {exc}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (HELPDESK_FORBID_SKIPS=1) a skipped test fails the run: a test skipped because a
    service (Chromium, Dovecot...) is missing has proven nothing."""
    import os

    if os.environ.get("HELPDESK_FORBID_SKIPS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        if reporter:
            reporter.write_line(f"{skipped} test(s) skipped: CI forbids skips", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
