"""The emulator's shape (issue 12): small modules, short functions, and a core that knows
nothing of HTTP (only the adapters and the app speak it)."""

from __future__ import annotations

import ast
from pathlib import Path

import reconciler.emulator
from tests.support.layout import long_functions, long_modules

PACKAGE = Path(reconciler.emulator.__file__).parent
#: Modules that hold Polar's model and rules: none of them may reach the HTTP side.
CORE = ("core", "auth", "meters", "statefile", "journal", "refusals", "events", "customers",
        "usage", "validation", "usage_validation", "fields", "billing")
HTTP_SIDE = {"app", "wire", "bodies", "routes", "emulator_routes", "server", "inprocess",
             "faults", "http", "http.server", "httpx", "socket"}


def _modules() -> list[Path]:
    return sorted(PACKAGE.glob("*.py"))


def test_no_module_over_400_lines() -> None:
    assert long_modules(PACKAGE) == {}


def test_no_function_over_60_lines() -> None:
    assert long_functions(PACKAGE) == []


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "reconciler.emulator":
                found.update(f"reconciler.emulator.{alias.name}" for alias in node.names)
    return found


def test_the_core_knows_nothing_of_http() -> None:
    speaking = {}
    for name in CORE:
        path = PACKAGE / f"{name}.py"
        if not path.exists():
            continue
        heard = {
            module for module in _imports(path)
            if module.removeprefix("reconciler.emulator.") in HTTP_SIDE
        }
        if heard:
            speaking[name] = sorted(heard)
    assert speaking == {}
