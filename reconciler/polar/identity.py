"""Which remote meter a configured key names: ONE implementation, used by the planner (over
every meter read) and by quantities' and customer-meters' key lookup (asking Polar).

For each key, in order:
1. the meter tagged with the key (metadata ``polar_meters_key``). Several meters tagged with
   one key (two runs that overlapped, a copy made in the dashboard) are resolvable: the
   ``id:`` pin decides, else the oldest active one is the meter; archived copies never
   conflict; the other active ones are its duplicates;
2. the meter pinned by ``id:`` (adopted, i.e. tagged, when it is not tagged yet);
3. exactly one untagged, active meter with exactly the same name (adopted).
Otherwise there is no meter yet (plan: create). Ambiguities are problems listing the ids.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from reconciler.errors import PlanError, PolarAPIError, UserError
from reconciler.model import DesiredMeter, Diagnostic, RemoteMeter, remote_from_api
from reconciler.rules import UUID4

if TYPE_CHECKING:
    from reconciler.config.types import Config
    from reconciler.polar.client import PolarClient

UUID = re.compile(UUID4)

How = Literal["tag", "pin", "name"]


@dataclass(frozen=True)
class Match:
    meter: RemoteMeter
    how: How
    duplicates: tuple[RemoteMeter, ...] = ()  # other active meters tagged with the same key


class Candidates(Protocol):
    """Where identity looks: every meter read (planning) or Polar itself (a key lookup)."""

    def tagged(self, key: str) -> Sequence[RemoteMeter]: ...
    def pinned(self, meter_id: str) -> RemoteMeter | None: ...
    def named(self, name: str) -> Sequence[RemoteMeter]: ...  # untagged, active, that name


def _age(meter: RemoteMeter) -> tuple[str, str]:
    return (meter.created_at or "", meter.id)


def oldest_active(tagged: Sequence[RemoteMeter]) -> RemoteMeter:
    """Which of several meters tagged with one key is the key's meter, without a pin: the
    oldest active one (else the oldest). Every run picks the same one."""
    active = [m for m in tagged if not m.archived]
    return min(active or tagged, key=_age)


def _among_tagged(key: str, pin: str | None, tagged: Sequence[RemoteMeter], where: str) -> Match:
    if pin:
        chosen = next((m for m in tagged if m.id == pin), None)
        if chosen is None:
            ids = ", ".join(m.id for m in tagged)
            raise _Unresolved(f"key {key!r}{where} is pinned to {pin} but meter {ids} carries it")
    else:
        chosen = oldest_active(tagged)
    others = tuple(sorted((m for m in tagged if m is not chosen and not m.archived), key=_age))
    return Match(chosen, "tag", others)


class _Unresolved(Exception):
    pass


def identify(
    key: str,
    pin: str | None,
    name: str | None,
    candidates: Candidates,
    configured: Collection[str] = (),
    where: str = "",
) -> Match | None:
    """The meter KEY names (None: none yet); raises PlanError saying why it is ambiguous.
    PIN is the configured ``id:``, NAME the configured name (None: no configuration)."""
    try:
        return _identify(key, pin, name, candidates, configured, where)
    except _Unresolved as exc:
        raise PlanError([Diagnostic("error", str(exc))]) from None


def _identify(
    key: str, pin: str | None, name: str | None, candidates: Candidates,
    configured: Collection[str], where: str,
) -> Match | None:
    tagged = candidates.tagged(key)
    if tagged:
        return _among_tagged(key, pin, tagged, where)
    if pin:
        pinned = candidates.pinned(pin)
        if pinned is None:
            raise _Unresolved(
                f"key {key!r}{where} is pinned to {pin}, which is not a meter of this organization: "
                "the `id:` pin is wrong (another organization's meter, or a typo); fix or remove it"
            )
        if pinned.key is not None and pinned.key in configured:
            raise _Unresolved(f"key {key!r}{where} is pinned to {pin}, which belongs to key {pinned.key!r}")
        return Match(pinned, "pin")
    named = candidates.named(name) if name is not None else []
    if len(named) > 1:
        ids = ", ".join(m.id for m in named)
        raise _Unresolved(
            f"key {key!r}{where}: several untagged meters are named {name!r} ({ids}); pin one with `id:`"
        )
    return Match(named[0], "name") if named else None


class ReadMeters:
    """Candidates among meters already read (the planner's)."""

    def __init__(self, remote: Sequence[RemoteMeter]) -> None:
        self.by_id = {m.id: m for m in remote}
        self.by_tag: dict[str, list[RemoteMeter]] = defaultdict(list)
        self.by_name: dict[str, list[RemoteMeter]] = defaultdict(list)
        for m in remote:
            if m.key is not None:
                self.by_tag[m.key].append(m)
            elif not m.archived:
                self.by_name[m.spec["name"]].append(m)

    def tagged(self, key: str) -> Sequence[RemoteMeter]:
        return self.by_tag.get(key, ())

    def pinned(self, meter_id: str) -> RemoteMeter | None:
        return self.by_id.get(meter_id)

    def named(self, name: str) -> Sequence[RemoteMeter]:
        return self.by_name.get(name, ())


def _where(meter: DesiredMeter) -> str:
    return f" ({meter.location})" if meter.location else ""


def match_meters(
    desired: Sequence[DesiredMeter], remote: Sequence[RemoteMeter],
    configured: Collection[str] | None = None,
) -> dict[str, Match]:
    """Each key's meter, where there is one; PlanError with every problem. CONFIGURED: every
    key of the configuration, when DESIRED holds only some of them (targeting)."""
    problems: list[Diagnostic] = []
    candidates = ReadMeters(remote)
    configured = {d.key for d in desired} if configured is None else configured
    matched: dict[str, Match] = {}
    claimed: dict[str, str] = {}  # remote id -> key that claimed it
    for d in desired:
        try:
            match = _identify(d.key, d.id, d.spec["name"], candidates, configured, _where(d))
        except _Unresolved as exc:
            problems.append(Diagnostic("error", str(exc), d.location))
            continue
        if match is None:
            continue
        matched[d.key] = match
        if match.meter.id in claimed:
            problems.append(Diagnostic(
                "error",
                f"keys {claimed[match.meter.id]!r} and {d.key!r}{_where(d)} both match meter {match.meter.id}",
                d.location,
            ))
        claimed[match.meter.id] = d.key
    if problems:
        raise PlanError(problems)
    return matched


def _read(item: dict[str, Any]) -> RemoteMeter:
    try:
        return remote_from_api(item)
    except ValueError as exc:
        raise UserError(f"Polar answered something polar-meters cannot read: {exc}") from None


class AskPolar:
    """Candidates asked of Polar, one question at a time, only as far as identity needs."""

    def __init__(self, client: PolarClient) -> None:
        self.client = client

    def tagged(self, key: str) -> Sequence[RemoteMeter]:
        return [_read(m) for m in self.client.find_by_key(key)]

    def pinned(self, meter_id: str) -> RemoteMeter | None:
        try:
            return _read(self.client.get_meter(meter_id))
        except PolarAPIError as exc:
            if exc.status == 404:
                return None
            raise

    def named(self, name: str) -> Sequence[RemoteMeter]:
        same = [_read(m) for m in self.client.list_meters(query=name)]
        return [m for m in same if m.spec["name"] == name and not m.archived and m.key is None]


def resolve_meter(client: PolarClient, key: str, config: Config | None = None) -> dict[str, Any]:
    """Polar's meter (as it answers) for KEY, a configured key or a meter id, by the same
    rules as planning; a UserError saying why when there is none or several."""
    desired = next((m for m in config.meters if m.key == key), None) if config else None
    configured = {m.key for m in config.meters} if config else set()
    candidates = AskPolar(client)
    if desired is not None:
        match = identify(key, desired.id, desired.spec["name"], candidates, configured)
    else:
        match = identify(key, None, None, candidates)
    if match is not None:
        return match.meter.raw
    if UUID.fullmatch(key):
        return client.get_meter(key.lower())
    where = " nor in the configuration" if config is not None else ""
    raise UserError(
        f"no meter is tagged with key {key!r}{where}: apply the configuration first, pass the "
        "meter files with --config, or give the meter's id"
    )
