"""Where things are, for every test: the repository, its examples, and the tests' own data."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
EXAMPLES = ROOT / "examples" / "meters"
BAD = TESTS / "bad_configs"
# Polar's published OpenAPI document (the part the tests use): see tests/polar-api/README.md
SPEC = TESTS / "polar-api" / "polar-api.2026-10.json"
