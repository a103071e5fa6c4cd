"""Running meter tests: what each meter of the configuration makes of a test's events.

Pure and local: Polar's matching and aggregation rules from :mod:`reconciler.engine`, the
meters as configured (not as Polar has them), no network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from reconciler.config.metertests import MeterTest
from reconciler.engine import aggregate, matches
from reconciler.eventfile import SampleEvent


@dataclass
class Evaluation:
    """A meter's result over sample events."""

    total: int | float
    matched: list[SampleEvent]


def evaluate(spec: dict[str, Any], events: list[SampleEvent]) -> Evaluation:
    """The meter's total (Polar's quantities total) and the events its filter matches."""
    matched = [e for e in events if matches(spec["filter"], e.event)]
    return Evaluation(aggregate(spec["aggregation"], (e.event for e in matched)), matched)


@dataclass
class MeterOutcome:
    key: str
    expected: dict[str, Any]
    result: Evaluation
    failed: list[str] = field(default_factory=list)  # "total", "matched"

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass
class MeterTestOutcome:
    test: MeterTest
    meters: list[MeterOutcome]

    @property
    def ok(self) -> bool:
        return all(m.ok for m in self.meters)


def same_total(expected: float, actual: float) -> bool:
    """Equal, allowing for float rounding (an avg, a sum of fractions)."""
    return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)


def run_test(test: MeterTest, specs: dict[str, dict[str, Any]]) -> MeterTestOutcome:
    """``specs``: the configured meters' specs by key (every key the test expects)."""
    outcomes = []
    for key, expected in test.expect.items():
        result = evaluate(specs[key], test.events)
        failed = []
        if "total" in expected and not same_total(expected["total"], result.total):
            failed.append("total")
        if "matched" in expected and expected["matched"] != len(result.matched):
            failed.append("matched")
        outcomes.append(MeterOutcome(key, expected, result, failed))
    return MeterTestOutcome(test, outcomes)
