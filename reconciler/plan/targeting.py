"""`--target KEY` / `--exclude KEY`, like `terraform plan -target`: plan only some meters.

A refused change on one meter (a locked filter) need not block an urgent change on another:
`apply --exclude the-locked-one` or `--target the-urgent-one`. The plan records the
targeting and how many meters it left out; a saved plan's staleness check covers only the
meters it planned; `--prune` refuses to run with a target (it would archive the rest).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.errors import UserError
from reconciler.model import DesiredMeter


@dataclass(frozen=True)
class Targeting:
    target: tuple[str, ...] = ()  # empty: every configured meter
    exclude: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.target or self.exclude)

    def check(self, desired: Sequence[DesiredMeter], prune: bool) -> None:
        """Unknown keys and --prune with a target are errors, before any request."""
        if prune and self.active:
            raise UserError(
                "--prune with --target/--exclude would archive meters the targeting only left "
                "out; plan every meter to prune"
            )
        known = {d.key for d in desired}
        for flag, keys in (("--target", self.target), ("--exclude", self.exclude)):
            unknown = [k for k in keys if k not in known]
            if unknown:
                raise UserError(f"{flag} {', '.join(unknown)}: no such key in the configuration")

    def select(self, desired: Sequence[DesiredMeter]) -> list[DesiredMeter]:
        wanted = set(self.target)
        left_out = set(self.exclude)
        return [d for d in desired if (not wanted or d.key in wanted) and d.key not in left_out]

    def describe(self) -> str:
        parts = [f"--target {k}" for k in self.target] + [f"--exclude {k}" for k in self.exclude]
        return " ".join(parts)

    def document(self) -> dict[str, list[str]]:
        return {"target": list(self.target), "exclude": list(self.exclude)}


NO_TARGETING = Targeting()
