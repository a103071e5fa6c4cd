"""What loading a configuration yields: desired meters and located diagnostics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from reconciler.model import DesiredMeter, Location

if TYPE_CHECKING:
    from reconciler.config.metertests import MeterTest

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One problem, located at the YAML node it is about (1-based line and column)."""

    severity: Severity
    message: str
    location: Location | None = None

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}{prefix}{self.message}"


@dataclass
class Config:
    """Every meter of every file, plus every problem found in any of them."""

    meters: list[DesiredMeter] = field(default_factory=list)
    organization_id: str | None = None
    organization_id_location: Location | None = None
    files: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    tests: list[MeterTest] = field(default_factory=list)  # the `tests:` of every file
    #: Of the files' names and bytes as read (once) and checked: what a plan was made from.
    digest: str = ""
    #: False when part of a meter path could not be read (an unreadable or linked directory,
    #: a link out of it, a file that vanished): nothing may be pruned on such a reading.
    complete: bool = True

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]
