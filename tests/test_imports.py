"""Every module of the live inbox imports first in a fresh process (an import cycle hides
when another module happens to be imported before it, as in the test run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ["tickets.inbox", "tickets.cards", "tickets.live", "tickets.sla"]


def test_each_inbox_module_imports_first_in_a_fresh_process():
    code = "import django, importlib, sys; django.setup(); importlib.import_module(sys.argv[1])"
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "helpdesk.settings", "HELPDESK_TESTING": "1"}
    runs = {
        name: subprocess.Popen(
            [sys.executable, "-c", code, name],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in MODULES
    }
    failed = {name: run.communicate()[1] for name, run in runs.items() if run.wait() != 0}
    assert not failed, failed
