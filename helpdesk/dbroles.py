"""Switch Django's default connection between the application role and the owner role."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections

# The database name is not among them: test setup renames the database while connected as the
# owner, and that rename must survive the switch back.
_CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


@contextmanager
def as_owner(using: str = "default") -> Iterator[None]:
    """Run the block connected as the tables' owner (migrations, test database setup)."""
    conn = connections[using]
    saved = {key: conn.settings_dict.get(key) for key in _CREDENTIALS}
    owner = {key: settings.DATABASE_OWNER.get(key) for key in _CREDENTIALS}
    if owner == saved:
        yield
        return
    conn.close()
    conn.settings_dict.update(owner)
    try:
        yield
    finally:
        conn.close()
        conn.settings_dict.update(saved)
