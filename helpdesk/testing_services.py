"""pytest plugin (loaded with -p, before Django's settings are read).

Starts the embedded PostgreSQL and a separate embedded Redis for tests when DATABASE_URL /
REDIS_URL are not set, so a plain `pytest` works like `make test`. The test Redis is not the
development one: a running `make run` worker must never consume the tests' tasks.
"""

from __future__ import annotations

import os

from helpdesk import devservices

os.environ.setdefault("HELPDESK_TESTING", "1")
_services = devservices.start(redis_name="redis-test")


def pytest_unconfigure(config: object) -> None:
    _services.stop()
