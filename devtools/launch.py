"""`make run`: migrate, seed the demo on an empty database, then run web, worker and beat.

All three run in the foreground under this supervisor; Ctrl-C (or any one of them dying)
stops the others cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _manage(*args: str) -> None:
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], check=True)  # noqa: S603


def _database_is_empty() -> bool:
    import django

    django.setup()
    from helpdesk.models import Tenant
    from helpdesk.tenancy import bypass_context

    with bypass_context():
        return not Tenant.objects.exists()


def _chat_pages() -> list[tuple[str, str]]:
    """The web chat pages, to print at start (the demo's among them)."""
    from deskconfig.accounts import ChannelAccount
    from helpdesk.tenancy import bypass_context

    with bypass_context():
        return [
            (f"{a.tenant.name} · {a.name}", f"/chat/{a.uuid}/")
            for a in ChannelAccount.all_tenants.select_related("tenant").filter(kind="webchat")
        ]


def _processes(port: str) -> dict[str, list[str]]:
    bindir = Path(PYTHON).parent
    beat_schedule = ROOT / "var" / "celerybeat-schedule"
    return {
        "web": [
            str(bindir / "daphne"),
            "-b",
            os.environ.get("HOST", "127.0.0.1"),
            "-p",
            port,
            "helpdesk.asgi:application",
        ],
        "worker": [
            str(bindir / "celery"),
            "-A",
            "helpdesk",
            "worker",
            "-l",
            "info",
            "--concurrency",
            os.environ.get("CELERY_CONCURRENCY", "2"),
            "-n",
            "worker@%h",
        ],
        "beat": [
            str(bindir / "celery"),
            "-A",
            "helpdesk",
            "beat",
            "-l",
            "info",
            "-s",
            str(beat_schedule),
        ],
    }


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    (ROOT / "var").mkdir(exist_ok=True)
    _manage("migrate", "--no-input")
    if _database_is_empty():
        _manage("seed_demo")
    port = os.environ.get("PORT", "8000")
    print(
        f"\n  Helpdesk on http://127.0.0.1:{port}/  ·  demo logins: admin@demo.test, "
        "analyst@demo.test, agent@demo.test, agent2@demo.test, admin@acme.test "
        "(password demo1234)",
        flush=True,
    )
    for name, path in _chat_pages():
        print(f"  Web chat «{name}»: http://127.0.0.1:{port}{path}", flush=True)
    print(flush=True)
    children = {
        name: subprocess.Popen(cmd, cwd=ROOT)  # noqa: S603
        for name, cmd in _processes(port).items()
    }
    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        exited = [name for name, p in children.items() if p.poll() is not None]
        if exited:
            print(f"{', '.join(exited)} stopped; stopping the rest.", file=sys.stderr)
            break
        time.sleep(0.5)
    for proc in children.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.time() + 15
    for proc in children.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
