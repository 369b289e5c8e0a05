"""Print the app-level import graph: for each app, the apps it imports and how many import
statements do (function-local ones count too; tests and migrations are left out).

Run it with ``make import-graph`` (or ``python -m devtools.import_graph [path]``); the layers it
must respect are checked by ``lint-imports`` (see pyproject.toml)."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The project's wiring may import any app (see the import-linter contract): shown apart.
WIRING_MODULES = ("settings", "urls", "asgi", "routing", "wsgi", "celery")
WIRING = {f"helpdesk/{name}.py" for name in WIRING_MODULES}
SKIP = {"tests", ".venv", "var", "migrations", "node_modules", "locale", "static"}


def apps(root: Path) -> set[str]:
    return {p.parent.name for p in root.glob("*/__init__.py") if p.parent.name not in SKIP}


def module_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
    return out


def main() -> None:
    root = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT
    names = apps(root)
    edges: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for path in root.rglob("*.py"):
        rel = path.relative_to(root)
        if rel.parts[0] not in names or SKIP & set(rel.parts):
            continue
        source = "helpdesk (wiring)" if rel.as_posix() in WIRING else rel.parts[0]
        for mod in module_imports(path):
            top = mod.split(".")[0]
            if top in names and top != rel.parts[0]:
                edges[source][top] += 1
    for src in sorted(names | set(edges)):
        targets = ", ".join(f"{t} ({n})" for t, n in sorted(edges[src].items()))
        print(f"{src} -> {targets or '-'}")


if __name__ == "__main__":
    main()
