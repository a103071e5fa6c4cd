"""What blocks an archive: Polar refuses to archive a meter that an active product's metered
price uses or a meter-credit benefit (not deleted) references (NOTES.md, "What blocks an
archive").

Planning is pure, so the question goes to Polar before it, as lock lookups do (locks.py):
:func:`archive_candidates` says which meters a plan would archive (a pure function of the
desired and remote meters); the pipeline reads the products and benefits
(polar/holders.py) only when there is one; :func:`with_holders` marks each archive a product
or benefit holds as refused ahead (apply does not send it, the other actions still run),
and, where they could not be read, each archive as one Polar may refuse.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from reconciler.model import DesiredMeter, RemoteMeter
from reconciler.plan.types import Action
from reconciler.polar.identity import match_meters

HolderKind = Literal["product", "benefit"]


@dataclass(frozen=True)
class Holder:
    """A product's metered price, or a meter-credit benefit, that uses a meter."""

    kind: HolderKind
    id: str  # the product's or the benefit's
    name: str  # the product's name, the benefit's description
    price_id: str | None = None  # the metered price (products)

    def text(self) -> str:
        if self.kind == "product":
            return (f'product "{self.name}" ({self.id}), metered price {self.price_id}: '
                    "archive the price or the product first")
        return f'meter-credit benefit "{self.name}" ({self.id}): delete the benefit first'

    def document(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "name": self.name, "price_id": self.price_id}


def holder_from_document(doc: Any) -> Holder:
    if not isinstance(doc, dict) or doc.get("kind") not in ("product", "benefit"):
        raise ValueError("held_by: not a product or benefit")
    return Holder(doc["kind"], str(doc["id"]), str(doc["name"]), doc.get("price_id"))


@dataclass(frozen=True)
class ArchiveHolders:
    """What Polar said of the products and benefits: the holders of each meter id, and why
    some could not be read (then an archive without a known holder may still be refused)."""

    by_meter: Mapping[str, tuple[Holder, ...]] = field(default_factory=dict)
    unreadable: str | None = None


def refusal_text(holders: Sequence[Holder]) -> str:
    """Why Polar will refuse the archive, and what to do."""
    return ("Polar refuses to archive this meter while these use it: "
            + "; ".join(h.text() for h in holders))


def archive_candidates(
    desired: Sequence[DesiredMeter], remote: Sequence[RemoteMeter],
    configured: Collection[str] | None = None, prune: bool = False,
    resolve_duplicates: bool = False,
) -> list[str]:
    """Ids of the active meters a plan of DESIRED against REMOTE may archive: configured
    `archived: true`, with PRUNE the managed meters no longer configured, with
    RESOLVE_DUPLICATES the duplicates of a key. Raises PlanError when meters cannot be
    matched."""
    matched = match_meters(desired, remote, configured)
    ids = [match.meter.id for d in desired if (match := matched.get(d.key)) is not None
           and d.spec.get("archived") and not match.meter.archived]
    if resolve_duplicates:
        ids += [m.id for match in matched.values() for m in match.duplicates if not m.archived]
    if prune:
        keys = set(configured) if configured is not None else {d.key for d in desired}
        claimed = {match.meter.id for match in matched.values()}
        ids += [m.id for m in remote if m.key is not None and m.key not in keys
                and not m.archived and m.id not in claimed]
    return list(dict.fromkeys(ids))


def with_holders(actions: Sequence[Action], holders: ArchiveHolders | None) -> list[Action]:
    """ACTIONS with each archive a product or benefit holds marked as refused ahead
    (``held_by``), and, where the holders could not be read, each other archive marked as
    one Polar may refuse."""
    if holders is None:
        return list(actions)
    out = []
    for action in actions:
        held = holders.by_meter.get(action.meter_id or "", ()) if action.kind == "archive" else ()
        if held:
            action = replace(action, held_by=tuple(held))
        elif action.kind == "archive" and action.meter_id and holders.unreadable:
            caveat = f"may be refused if a product or benefit uses it ({holders.unreadable})"
            action = replace(action, caveat=f"{action.caveat}; {caveat}" if action.caveat else caveat)
        out.append(action)
    return out
