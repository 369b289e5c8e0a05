"""FIELD_ENCRYPTION_KEY: a production process refuses to start without a usable key (not a
500 at the first credential read)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def _check(**extra: str) -> subprocess.CompletedProcess[str]:
    """`manage.py check` in a production environment (no DEBUG, no test mode)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "HELPDESK_TESTING", "FIELD_ENCRYPTION_KEY"}
    } | {
        "SECRET_KEY": "y" * 20 + "-a-long-and-random-production-secret-key-0123456789",
        "ALLOWED_HOSTS": "soporte.example.com",
        **extra,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("key", "message"),
    [("", "FIELD_ENCRYPTION_KEY is not set"), ("not-a-key", "is not a Fernet key")],
)
def test_production_refuses_to_start_without_a_usable_encryption_key(key, message):
    result = _check(FIELD_ENCRYPTION_KEY=key)
    assert result.returncode != 0
    assert message in result.stderr and "Fernet.generate_key()" in result.stderr


def test_production_starts_with_a_key_and_development_without_one():
    assert _check(FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode()).returncode == 0
    development = _check(DEBUG="1")
    assert development.returncode == 0, development.stderr
