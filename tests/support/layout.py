"""The shape rules of the package (issue 12), for the tests that keep each part to them."""

from __future__ import annotations

import ast
from pathlib import Path


def long_modules(package: Path, most: int = 400) -> dict[str, int]:
    """The modules of ``package`` (not below it) over ``most`` lines, with their length."""
    return {p.name: n for p in sorted(package.glob("*.py"))
            if (n := len(p.read_text().splitlines())) > most}


def long_functions(package: Path, most: int = 60) -> list[str]:
    """``module:function (N lines)`` for every function of ``package`` over ``most`` lines."""
    long = []
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > most:
                    long.append(f"{path.name}:{node.name} ({length} lines)")
    return long
