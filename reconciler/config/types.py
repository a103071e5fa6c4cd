"""What loading a configuration yields: desired meters and located diagnostics (the one
located-problem type, :class:`~reconciler.model.Diagnostic`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler.model import DesiredMeter, Diagnostic, Location, Severity

if TYPE_CHECKING:
    from reconciler.config.metertests import MeterTest

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


__all__ = ["Config", "Diagnostic", "Severity"]
