"""Running meter tests: what each meter of the configuration makes of a test's events.

Pure and local: Polar's matching and aggregation rules from :mod:`reconciler.usage.engine`, the
meters as configured (not as Polar has them), no network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from reconciler.config.metertests import MeterTest
from reconciler.usage.engine import Divergence, aggregate, applies, divergence, matches
from reconciler.usage.eventfile import SampleEvent


@dataclass
class Evaluation:
    """A meter's result over sample events."""

    total: int | float
    matched: list[SampleEvent]
    filter_only: int = 0  # events the filter matched without the number the aggregation reads
    #: Events Polar's quantities and its billing count differently, with how.
    divergent: list[tuple[SampleEvent, Divergence]] = field(default_factory=list)

    def warnings(self, key: str) -> list[str]:
        """One line per divergent event: where it is, the meter, the clause."""
        return [f"{e.where}: meter {key}: {d.message()}" for e, d in self.divergent]


def evaluate(spec: dict[str, Any], events: list[SampleEvent]) -> Evaluation:
    """The meter's total (Polar's quantities total) and the events it matches: its filter
    holds and, for sum/max/min/avg, the event has a number at the aggregated property."""
    filter_, aggregation = spec["filter"], spec["aggregation"]
    filtered = [e for e in events if matches(filter_, e.event)]
    matched = [e for e in filtered if applies(aggregation, e.event)]
    total = aggregate(aggregation, (e.event for e in matched))
    divergent = [
        (e, d) for e in events if (d := divergence(filter_, aggregation, e.event)) is not None
    ]
    return Evaluation(total, matched, len(filtered) - len(matched), divergent)


@dataclass
class MeterOutcome:
    key: str
    spec: dict[str, Any]
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
        outcomes.append(MeterOutcome(key, specs[key], expected, result, failed))
    return MeterTestOutcome(test, outcomes)
