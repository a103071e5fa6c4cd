"""The Plan: a value describing what apply would do. Planning does no I/O; rendering and
applying both consume the same Plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from reconciler.model import Location, content_digest
from reconciler.plan.diff import FieldChange
from reconciler.plan.targeting import NO_TARGETING, Targeting

if TYPE_CHECKING:
    from reconciler.plan.archives import Holder
    from reconciler.plan.live import LiveReview
    from reconciler.usage.preview import Preview

ActionKind = Literal["create", "update", "adopt", "archive", "unarchive"]
#: What polar-meters knows of a meter's lock (plan/locks.py says what each means).
LockState = Literal["confirmed", "predicted", "unknown"]
LOCK_STATES: tuple[LockState, ...] = ("confirmed", "predicted", "unknown")
ACTION_KINDS: tuple[ActionKind, ...] = ("create", "update", "adopt", "archive", "unarchive")


@dataclass(frozen=True)
class Request:
    """The exact request apply will send for an action."""

    method: str
    path: str
    body: dict[str, Any]


@dataclass
class Action:
    kind: ActionKind
    key: str
    name: str
    meter_id: str | None  # None for a create
    before: dict[str, Any] | None  # remote spec (None for a create)
    after: dict[str, Any]  # desired spec
    changes: list[FieldChange]
    request: Request
    location: Location | None = None
    note: str | None = None  # why an adopt matched, a re-keying, a prune…
    locked: bool | None = None  # has the meter matched (or billed) events? None: not known
    lock: LockState | None = None  # confirmed (422 seen), predicted (events match), unknown
    problem: str | None = None  # set when Polar would refuse this action: apply refuses the plan
    caveat: str | None = None  # set when Polar may refuse it (lock state unknown)
    # an archive a product or benefit holds (archives.py): refused ahead, apply never sends it
    held_by: tuple[Holder, ...] = ()

    @property
    def changed_fields(self) -> set[str]:
        return {c.field for c in self.changes}


@dataclass(frozen=True)
class RemoteRef:
    """A remote meter the plan saw but leaves alone."""

    id: str
    name: str
    key: str | None = None


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """What a plan saw of one remote meter, to tell later whether it changed since.

    A plan made here keeps the meter as Polar answered it (``raw``) and computes the digest
    only when asked (:meth:`content_digest`: when the plan is saved or compared): 10,000
    digests cost 0.15 s that a plan shown and dropped does not need. A plan read from a file
    has ``digest``. Equal fingerprints have equal digests, however each was made.
    """

    id: str
    key: str | None
    name: str
    modified_at: str | None
    digest: str | None = None  # sha256 of the meter's content as Polar answered it
    archived: bool = False
    raw: dict[str, Any] | None = field(default=None, repr=False)

    def content_digest(self) -> str:
        if self.digest is not None:
            return self.digest
        return content_digest(self.raw)

    def _identity(self) -> tuple[Any, ...]:
        return (self.id, self.key, self.name, self.modified_at, self.content_digest(),
                self.archived)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fingerprint) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())


@dataclass
class Plan:
    server: str
    organization_id: str | None
    actions: list[Action] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # keys already as configured
    unmanaged: list[RemoteRef] = field(default_factory=list)  # remote meters without our tag
    missing: list[RemoteRef] = field(default_factory=list)  # tagged, key not in configuration
    # tagged, key not in the configuration, archived already (pruned earlier): nothing to do
    retired: list[RemoteRef] = field(default_factory=list)
    # active meters tagged with a configured key that another meter holds (a concurrent run,
    # a dashboard copy); `--resolve-duplicates` archives and untags them. key: the key.
    duplicates: list[RemoteRef] = field(default_factory=list)
    seen: list[Fingerprint] = field(default_factory=list)  # every remote meter read
    server_url: str | None = None
    environment: str | None = None  # of polar-meters.yaml, when the plan was made for one
    config_digest: str | None = None  # of the configuration files the plan was made from
    config_files: list[str] = field(default_factory=list)
    redundant_pins: list[str] = field(default_factory=list)  # keys whose `id:` the tag makes needless
    targeting: Targeting = NO_TARGETING  # --target/--exclude
    left_out: int = 0  # configured meters the targeting left out of the plan
    preview: Preview | None = None  # `plan --events`: computed after planning (preview.py)
    live: LiveReview | None = None  # the review against recent events (live.py); None: not made

    def count(self, kind: ActionKind) -> int:
        return sum(1 for a in self.actions if a.kind == kind)

    @property
    def has_changes(self) -> bool:
        return bool(self.actions)

    @property
    def problems(self) -> list[Action]:
        return [a for a in self.actions if a.problem]
