"""Attack class: guessing passwords. Five wrong attempts lock an (email, address) pair for
every spelling of the email, and a burst of concurrent attempts gets no more evaluations."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection
from django.test import Client

pytestmark = pytest.mark.django_db


class CountingHasher(MD5PasswordHasher):
    """The test's MD5 hasher, counting how many passwords were actually checked."""

    checked = 0
    lock = threading.Lock()

    def verify(self, password: str, encoded: str) -> bool:
        with CountingHasher.lock:
            CountingHasher.checked += 1
        return super().verify(password, encoded)


def _login(client: Client, email: str, password: str):
    return client.post("/accounts/login/", {"username": email, "password": password})


def test_repeated_failures_lock_the_login(cast, client):
    for _ in range(5):
        _login(client, cast.agent.email, "mala")
    response = _login(client, cast.agent.email, cast.password)
    assert response.status_code == 429
    assert "Demasiados intentos" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another person's login from elsewhere is not locked by it.
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert _login(other, cast.admin.email, cast.password).status_code == 302


@pytest.mark.parametrize("spelling", ["AGENT@A.TEST", "Agent@a.test", "  agent@a.test "])
def test_the_lockout_holds_whatever_the_spelling(cast, client, spelling):
    """Finding 1: axes counted ``VICTIM@…`` apart from ``victim@…`` while login lowercased."""
    for wrong in ("agent@a.test", "AGENT@a.test", "agent@A.test", "Agent@A.Test", "aGeNt@a.test"):
        _login(client, wrong, "mala")
    response = _login(client, spelling, cast.password)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_successful_login_starts_the_count_again(cast, client):
    for _ in range(4):
        _login(client, cast.agent.email.upper(), "mala")
    assert _login(client, cast.agent.email, cast.password).status_code == 302
    client.logout()
    for _ in range(4):
        _login(client, cast.agent.email, "mala")
    assert _login(client, cast.agent.email, cast.password).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_wrong_attempts_check_at_most_five_passwords(cast, settings):
    """Finding 1: axes decided before it counted, so a burst got more than five tries."""
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.checked = 0
    barrier = threading.Barrier(50)

    def attempt(i: int) -> int:
        try:
            client = Client()
            barrier.wait(timeout=30)
            spelling = cast.agent.email.upper() if i % 2 else cast.agent.email
            return _login(client, spelling, f"mala-{i}").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(attempt, range(50)))
    print(f"\n50 concurrent wrong attempts: {CountingHasher.checked} passwords checked")
    assert CountingHasher.checked <= 5, f"{CountingHasher.checked} passwords were checked"
    assert codes.count(429) >= 45
    # And the right password is refused now, without being checked.
    before = CountingHasher.checked
    assert _login(Client(), cast.agent.email, cast.password).status_code == 429
    assert CountingHasher.checked == before
