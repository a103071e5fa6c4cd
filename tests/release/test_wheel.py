"""A release a user can install: `python -m build` makes an sdist and a wheel, and the wheel
installed into a clean venv (offline: no index, the dependencies read from this test venv
but never this checkout) runs --version, schema, validate and `--server local plan` from a
folder outside the repository: the schema and the emulator ship inside the package."""

from __future__ import annotations

import json
import shutil
import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from reconciler import __version__
from tests.support.e2e import copy_examples
from tests.support.paths import ROOT


def run(*cmd: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False, env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})
    assert done.returncode == 0, f"{cmd}:\n{done.stdout}\n{done.stderr}"
    return done


def build(tmp: Path) -> tuple[Path, Path]:
    source = tmp / "source"  # a copy: build writes *.egg-info beside the sources
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".venv", ".tools", ".git", "__pycache__", "*.egg-info", ".hypothesis", "build", "dist",
        ".polar-meters", "bench"))
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp / "dist"),
                    str(source)], check=True, capture_output=True, timeout=300)
    (sdist,) = (tmp / "dist").glob("polar_meters-*.tar.gz")
    (wheel,) = (tmp / "dist").glob("polar_meters-*.whl")
    return sdist, wheel


def clean_venv(tmp: Path, wheel: Path) -> Path:
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    purelib = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip())
    # the dependencies from this venv's site-packages, added after the venv's own (a plain
    # path: its .pth files, this checkout's editable install among them, are not read)
    (purelib / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
        "--no-index", wheel)
    return venv


def test_the_wheel_installs_and_runs_offline(tmp_path: Path) -> None:
    sdist, wheel = build(tmp_path)
    assert sdist.name == f"polar_meters-{__version__}.tar.gz" and f"-{__version__}-" in wheel.name
    with zipfile.ZipFile(wheel) as z:
        assert "reconciler/meters.schema.json" in z.namelist()
    with tarfile.open(sdist) as t:
        names = t.getnames()
    assert f"polar_meters-{__version__}/reconciler/meters.schema.json" in names
    venv = clean_venv(tmp_path, wheel)
    exe = venv / "bin" / "polar-meters"
    work = tmp_path / "work"
    work.mkdir()
    where = run(venv / "bin" / "python", "-c", "import reconciler; print(reconciler.__file__)", cwd=work)
    assert where.stdout.startswith(str(venv)), where.stdout  # the wheel, not this checkout
    assert run(exe, "--version", cwd=work).stdout == f"polar-meters, version {__version__}\n"
    schema = json.loads(run(exe, "schema", cwd=work).stdout)
    assert schema == json.loads((ROOT / "schemas" / "meters.schema.json").read_text())
    meters = copy_examples(work)
    assert "Valid: 7 meters in 3 files." in run(exe, "validate", meters, cwd=work).stdout
    plan = run(exe, "--server", "local", "plan", meters, cwd=work).stdout
    assert "Plan: 7 to create" in plan
