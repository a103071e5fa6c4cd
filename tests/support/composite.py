"""Run a composite GitHub Action (action.yml) the way a runner does, for tests: each step's
`if:` decided, its `env:` with `${{ … }}` filled in from inputs, `github.*` and earlier
steps' outputs, each `run:` block executed by bash as GitHub runs `shell: bash`
(`bash --noprofile --norc -eo pipefail`), with its own GITHUB_OUTPUT file. A `uses:` step
cannot run here: it must be skipped by its `if:` (the test gives the inputs that skip it)."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class ActionRun:
    code: int  # the first failing step's exit code, else 0
    outputs: dict[str, str]
    steps: dict[str, dict[str, str]]
    log: str
    skipped: list[str] = field(default_factory=list)


def _lookup(name: str, scope: dict[str, Any]) -> str:
    value: Any = scope
    for part in name.split("."):
        value = value.get(part, "") if isinstance(value, dict) else ""
    return "" if value is None else str(value)


def evaluate(expr: str, scope: dict[str, Any]) -> str:
    """The expressions action.yml uses: a property path, or `A == B` / `A != B` with
    property paths and '…' strings."""
    m = re.fullmatch(r"(.+?)\s*(==|!=)\s*(.+)", expr)
    if m:
        left, op, right = (evaluate(m.group(1), scope), m.group(2), evaluate(m.group(3), scope))
        return "true" if (left == right) == (op == "==") else ""
    if expr.startswith("'") and expr.endswith("'"):
        return expr[1:-1].replace("''", "'")
    if not re.fullmatch(r"[A-Za-z_][\w.-]*", expr):
        raise ValueError(f"expression not understood by the test runner: {expr}")
    return _lookup(expr, scope)


def fill(text: str, scope: dict[str, Any]) -> str:
    return EXPR.sub(lambda m: evaluate(m.group(1), scope), str(text))


def read_outputs(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT's two forms: name=value, and name<<DELIM … DELIM."""
    out: dict[str, str] = {}
    lines = iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            block: list[str] = []
            for more in lines:
                if more == delim:
                    break
                block.append(more)
            out[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
    return out


def run_action(action_yml: Path, inputs: dict[str, str], github: dict[str, str],
               env: dict[str, str], cwd: Path) -> ActionRun:
    spec = yaml.safe_load(action_yml.read_text())
    assert spec["runs"]["using"] == "composite"
    given = {name: str(d.get("default", "")) for name, d in spec["inputs"].items()}
    unknown = set(inputs) - set(given)
    assert not unknown, f"not inputs of the action: {unknown}"
    scope: dict[str, Any] = {"github": github, "steps": {}, "env": env}
    scope["inputs"] = {k: fill(v, scope) for k, v in {**given, **inputs}.items()}
    run = ActionRun(0, {}, scope["steps"], "")
    for index, step in enumerate(spec["runs"]["steps"]):
        step_id = step.get("id", f"step{index}")
        if "if" in step and not evaluate(str(step["if"]).strip(), scope):
            run.skipped.append(step_id)
            continue
        assert "run" in step, f"step {step_id} uses {step.get('uses')}: cannot run in a test"
        code, outputs, log = _run_step(step, scope, env, cwd)
        scope["steps"][step_id] = {"outputs": outputs}
        run.log += log
        if code:
            run.code = code
            break
    run.outputs = {k: fill(v["value"], scope) for k, v in spec.get("outputs", {}).items()}
    return run


def _run_step(step: dict[str, Any], scope: dict[str, Any], env: dict[str, str],
              cwd: Path) -> tuple[int, dict[str, str], str]:
    assert step.get("shell") == "bash", "every run step says shell: bash"
    assert not EXPR.search(step["run"]), "run blocks take values from env:, never ${{ }}"
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "output"
        output.touch()
        script = Path(tmp) / "step.sh"
        script.write_text(step["run"])
        step_env = {**env, **{k: fill(v, scope) for k, v in (step.get("env") or {}).items()},
                    "GITHUB_OUTPUT": str(output)}
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              env=step_env, cwd=cwd, capture_output=True, text=True, timeout=120,
                              check=False)
        return done.returncode, read_outputs(output), done.stdout + done.stderr


def base_env() -> dict[str, str]:
    """The runner's environment without anything of polar-meters' or GitHub's."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    return {k: v for k, v in os.environ.items() if k in keep}
