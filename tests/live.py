"""A real server for browser and multi-process tests: daphne in a subprocess, on the test DB."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.db import connection
from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _db_url(variable: str) -> str:
    """The URL in ``variable`` pointed at this run's test database."""
    url = os.environ.get(variable) or os.environ["DATABASE_URL"]
    return urlunsplit(urlsplit(url)._replace(path="/" + connection.settings_dict["NAME"]))


def server_env() -> dict[str, str]:
    """The environment of a server process that uses this test run's database and Redis."""
    return os.environ | {
        "DATABASE_URL": _db_url("DATABASE_URL"),
        "DATABASE_OWNER_URL": _db_url("DATABASE_OWNER_URL"),
        "HELPDESK_TESTING": "1",
        "DEBUG": "0",
    }


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


class Daphne:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        daphne = str(Path(sys.executable).parent / "daphne")
        ARTIFACTS.mkdir(exist_ok=True)
        self.log = open(ARTIFACTS / f"daphne-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [daphne, "-b", "127.0.0.1", "-p", str(self.port), "helpdesk.asgi:application"],
            cwd=ROOT,
            env=server_env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        _wait_for_port(self.port, self.proc)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.log.close()
        self.proc = None


@contextmanager
def daphne() -> Iterator[Daphne]:
    server = Daphne()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def login(page: Any, base: str, email: str, password: str) -> None:
    """Log in through the form, as a person does; lands on the inbox."""
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("form:has(input[type=password]) [type=submit]")
    page.wait_for_url(base + "/inbox/")


def agent_page(browser: Browser, base: str, email: str, password: str) -> Any:
    """A desktop page (es-CL) logged in through the form, its live connection up."""
    page = browser.new_context(locale="es-CL", viewport={"width": 1500, "height": 900}).new_page()
    login(page, base, email, password)
    page.locator("#conn-status[data-state=connected]").wait_for(timeout=10_000)
    return page


def in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Playwright's sync API owns this thread's event loop: database work and publishing
    (async_to_sync) run in another thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()
