"""config/'s shape (issue 12): small modules, short functions, the YAML 1.1 traps written once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import reconciler.config
from tests.support.layout import long_functions, long_modules

PACKAGE = Path(reconciler.config.__file__).parent


def _modules() -> list[Path]:
    return sorted(PACKAGE.glob("*.py"))


def test_modules_of_400_lines_at_most_and_functions_of_60() -> None:
    assert (long_modules(PACKAGE), long_functions(PACKAGE)) == ({}, [])


def _imported_names(path: Path, module: str) -> set[str]:
    return {alias.name for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom) and node.module == module
            for alias in node.names}


def test_both_readers_judge_scalars_by_yamltraps() -> None:
    traps = "reconciler.config.yamltraps"
    assert "scalar_value" in _imported_names(PACKAGE / "yamlbuild.py", traps)
    assert "key_problem" in _imported_names(PACKAGE / "yamlbuild.py", traps)
    assert "plain_value" in _imported_names(PACKAGE / "yamlflow.py", traps)


def test_the_trap_words_and_tags_live_in_yamltraps_only() -> None:
    """The YAML 1.1 booleans and the resolver's tags are spelled in one module."""
    spelled = re.compile(r'"(?:yes|on|off)"|tag:yaml\.org,2002:')
    found = sorted(p.name for p in _modules() if spelled.search(p.read_text()))
    assert found == ["yamltraps.py"]


def test_one_type_for_a_located_problem() -> None:
    """Issue 12: model.Diagnostic only (no Finding, Problem or EventProblem), and PlanError
    keeps its diagnostics, no strings beside them."""
    from reconciler.errors import PlanError
    from reconciler.model import Diagnostic

    classes = {node.name for path in PACKAGE.parent.rglob("*.py")
               for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ClassDef)}
    assert "Diagnostic" in classes and not classes & {"Finding", "Problem", "EventProblem"}
    error = PlanError([Diagnostic("error", "is pinned twice", None, ("meters", "m"))])
    assert list(vars(error)) == ["diagnostics"]
    assert str(error) == "cannot plan: meters.m: is pinned twice"
