"""What two environments hold for the configured keys, field by field (`polar-meters diff`).

Each side's meter for a key is found by the planner's identity rules (tag, then pin, then
a unique untagged name), so the comparison is about the same meters a plan would touch.
Ids, timestamps and the organization are not part of a spec, so they never differ here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from reconciler.model import DesiredMeter, RemoteMeter
from reconciler.plan.diff import FieldChange, diff_specs
from reconciler.polar.identity import match_meters

Status = Literal["same", "differs", "only_source", "only_target", "neither"]


@dataclass
class KeyComparison:
    key: str
    status: Status
    name: str  # the source's name, else the target's, else the configured one
    changes: list[FieldChange] = field(default_factory=list)  # target's value → source's


@dataclass
class Comparison:
    source: str  # the environment whose meters are the reference (e.g. sandbox)
    target: str  # the one compared with it (e.g. production)
    keys: list[KeyComparison] = field(default_factory=list)

    def with_status(self, *statuses: Status) -> list[KeyComparison]:
        return [k for k in self.keys if k.status in statuses]

    @property
    def differs(self) -> bool:
        return bool(self.with_status("differs", "only_source", "only_target"))

    @property
    def change_count(self) -> int:
        """What the target lacks: each differing field, each meter it does not have."""
        return (sum(len(k.changes) for k in self.with_status("differs"))
                + len(self.with_status("only_source", "only_target")))


def compare(
    source: str,
    source_meters: tuple[Sequence[DesiredMeter], Sequence[RemoteMeter]],
    target: str,
    target_meters: tuple[Sequence[DesiredMeter], Sequence[RemoteMeter]],
) -> Comparison:
    """Compare, key by key in configuration order, what each side's organization holds."""
    in_source = {key: m.meter for key, m in match_meters(*source_meters).items()}
    in_target = {key: m.meter for key, m in match_meters(*target_meters).items()}
    result = Comparison(source, target)
    for desired in source_meters[0]:
        a, b = in_source.get(desired.key), in_target.get(desired.key)
        found = a or b
        name = str((found.spec if found else desired.spec)["name"])
        if a and b:
            changes = diff_specs(b.spec, a.spec)
            status: Status = "differs" if changes else "same"
            result.keys.append(KeyComparison(desired.key, status, name, changes))
        else:
            status = "only_source" if a else "only_target" if b else "neither"
            result.keys.append(KeyComparison(desired.key, status, name))
    return result
