"""The shape of the code: one direction of imports, one writer of history, hooks in place."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from channels_conn.whatsapp import window
from deskconfig.kinds import ChannelKind
from tickets import hooks
from workflow.hooks import DeskWorkflow

ROOT = Path(__file__).resolve().parents[1]
SKIP = {"tests", ".venv", "var", "migrations", "node_modules"}
HISTORY_WRITER = Path("tickets/history.py")
WRITES = {"create", "bulk_create", "get_or_create", "update_or_create"}


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def event_writes(source: str) -> list[int]:
    """Lines that create history events: ``Event(...)``, ``Event.<manager>.create(...)`` and
    the other ways a manager creates rows."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (isinstance(func, ast.Name) and func.id == "Event") or (
            isinstance(func, ast.Attribute)
            and func.attr in WRITES
            and _root_name(func.value) == "Event"
        ):
            found.append(node.lineno)
    return found


def _code_files() -> list[Path]:
    return [path for path in ROOT.rglob("*.py") if not SKIP & set(path.relative_to(ROOT).parts)]


def test_the_scanner_finds_every_way_of_writing_an_event():
    source = (
        "Event.objects.create(kind='x')\n"
        "Event.all_tenants.bulk_create([])\n"
        "e = Event(kind='x')\n"
        "Event.objects.get_or_create(kind='x')\n"
        "Message.objects.create(text='x')\n"
        "Event.objects.filter(kind='x').first()\n"
    )
    assert event_writes(source) == [1, 2, 3, 4]


def test_only_the_history_helper_writes_events():
    writers = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in _code_files()
        for line in event_writes(path.read_text())
        if path.relative_to(ROOT) != HISTORY_WRITER
    }
    assert writers == set(), "write history through tickets.history.event_record"
    assert event_writes((ROOT / HISTORY_WRITER).read_text())  # the helper itself does


def test_no_code_module_is_over_800_lines():
    """Modules that only hold data (``data_*.py``) aside."""
    long = {
        str(path.relative_to(ROOT)): n
        for path in _code_files()
        if (n := len(path.read_text().splitlines())) > 800 and not path.name.startswith("data_")
    }
    assert long == {}


def test_tickets_reaches_the_workflow_and_whatsapp_through_the_hooks():
    assert isinstance(hooks.workflow(), DeskWorkflow)
    assert hooks._send_rules[ChannelKind.WHATSAPP] is window.send_rule


def test_the_layers_contract_holds():
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports is not None
    result = subprocess.run([lint_imports], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
