"""Planning: match desired meters to remote ones, diff them, and say what to send.

Pure: takes already-loaded desired and remote meters (and what Polar said of the locks of
the meters whose filter or aggregation changes, see locks.py) and returns a complete Plan, or
raises PlanError. Which remote meter a key names is polar/identity.py's (tag → pin → name).
Otherwise the meter is created.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from reconciler.errors import MOST_SHOWN, PlanError
from reconciler.model import TAG_KEY, DesiredMeter, Diagnostic, RemoteMeter
from reconciler.plan.archives import ArchiveHolders, with_holders
from reconciler.plan.bodies import create_body, update_body
from reconciler.plan.diff import ABSENT, FieldChange, diff_specs
from reconciler.plan.impact import review
from reconciler.plan.live import LiveAnswers
from reconciler.plan.locks import Locks, with_locks
from reconciler.plan.targeting import NO_TARGETING, Targeting
from reconciler.plan.types import Action, ActionKind, Fingerprint, Plan, RemoteRef, Request
from reconciler.polar.identity import Match, match_meters

if TYPE_CHECKING:
    from reconciler.usage.preview import Preview

__all__ = ["PlanError", "create_body", "fingerprint", "make_plan", "prune_action", "update_body"]

NO_LOCKS: Locks = {}


def _listed(names: list[str]) -> str:
    """``a, b, c``, or the first :data:`MOST_SHOWN` and how many more."""
    shown = ", ".join(names[:MOST_SHOWN])
    return shown + (f" and {len(names) - MOST_SHOWN} more" if len(names) > MOST_SHOWN else "")


def fingerprint(meter: RemoteMeter) -> Fingerprint:
    return Fingerprint(
        id=meter.id,
        key=meter.key,
        name=str(meter.spec["name"]),
        modified_at=meter.modified_at,
        raw=meter.raw,
        archived=meter.archived,
    )


def prune_action(meter: RemoteMeter) -> Action:
    """Archive a managed meter whose key left the configuration."""
    after = {**meter.spec, "archived": True}
    return Action(
        kind="archive",
        key=str(meter.key),
        name=str(meter.spec["name"]),
        meter_id=meter.id,
        before=meter.spec,
        after=after,
        changes=diff_specs(meter.spec, after),
        request=Request("PATCH", f"/v1/meters/{meter.id}", {"is_archived": True}),
        note="pruned: missing from the configuration",
    )


def duplicate_action(meter: RemoteMeter, key: str) -> Action:
    """Archive and untag a second meter tagged with KEY: the key's meter stays as it is."""
    after = {**meter.spec, "archived": True}
    metadata = {k: v for k, v in (meter.raw.get("metadata") or {}).items() if k != TAG_KEY}
    changes = diff_specs(meter.spec, after) + [FieldChange(f"metadata.{TAG_KEY}", key, ABSENT)]
    return Action(
        kind="archive",
        key=key,
        name=str(meter.spec["name"]),
        meter_id=meter.id,
        before=meter.spec,
        after=after,
        changes=changes,
        request=Request("PATCH", f"/v1/meters/{meter.id}", {"is_archived": True, "metadata": metadata}),
        note=f"duplicate of {key}: archived and untagged",
    )


def _duplicates(
    matched: dict[str, Match], resolve: bool
) -> tuple[list[RemoteRef], list[Action]]:
    refs: list[RemoteRef] = []
    actions: list[Action] = []
    for key, match in matched.items():
        for m in match.duplicates:
            if resolve:
                actions.append(duplicate_action(m, key))
            else:
                refs.append(RemoteRef(m.id, str(m.spec["name"]), key))
    return refs, actions


def _guard_prune(desired: Sequence[DesiredMeter], pruned: list[Action], max_archive: int) -> None:
    """Refuse the classic disaster: a wrong directory or an empty file looks like 'delete all'."""
    listed = _listed([f"{a.key} ({a.meter_id})" for a in pruned])
    if not desired and pruned:
        raise PlanError([Diagnostic(
            "error",
            f"--prune with a configuration that defines no meters would archive every "
            f"managed meter ({len(pruned)}: {listed}); refusing: check the path",
        )])
    if len(pruned) > max_archive:
        raise PlanError([Diagnostic(
            "error",
            f"--prune would archive {len(pruned)} meters, more than --max-archive "
            f"{max_archive}: {listed}; raise --max-archive if that is really meant",
        )])


def _create(d: DesiredMeter, organization_id: str | None, untagged: dict[str, list[RemoteMeter]]) -> Action:
    return Action(
        kind="create",
        key=d.key,
        name=d.spec["name"],
        meter_id=None,
        before=None,
        after=d.spec,
        changes=[],
        request=Request("POST", "/v1/meters/", create_body(d, organization_id)),
        location=d.location,
        note=_identity_hint(d, untagged),
    )


def _note(match: Match) -> str | None:
    m = match.meter
    if match.how == "name":
        return "untagged meter with the same name"
    if match.how == "pin" and m.key is None:
        return "pinned by id"
    if match.how == "pin":
        return f"re-key: was managed as {m.key!r}"
    return None


def _adoption_caveat(match: Match, changes: list[FieldChange]) -> str | None:
    """Adopting a meter by name whose filter or aggregation differs changes what an existing
    meter bills: say so loudly."""
    fields = sorted({c.field for c in changes} & {"filter", "aggregation"})
    if match.how != "name" or not fields:
        return None
    what = " and ".join(fields)
    return (f"ADOPTING BY NAME CHANGES ITS {what.upper()}: the existing meter "
            f"{match.meter.id} will count differently from now on; if that is not meant, "
            "rename this meter (a new one is created) or pin another with `id:`")


def _identity_hint(d: DesiredMeter, untagged: dict[str, list[RemoteMeter]]) -> str | None:
    """A create whose filter and aggregation an untagged active meter already has (a
    dashboard rename that dropped our tag): the pin that adopts it instead."""
    same = untagged.get(_shape(d.spec), [])
    if not same:
        return None
    ids = ", ".join(m.id for m in same[:3])
    return (f"an untagged meter has the same filter and aggregation ({ids}): to adopt it "
            f"instead of creating a new one, pin it with `id: {same[0].id}`")


def _shape(spec: dict[str, Any]) -> str:
    return json.dumps([spec.get("filter"), spec.get("aggregation")], sort_keys=True)


def _untagged_by_shape(remote: Sequence[RemoteMeter], claimed: set[str]) -> dict[str, list[RemoteMeter]]:
    out: dict[str, list[RemoteMeter]] = {}
    for m in remote:
        if m.key is None and not m.archived and m.id not in claimed:
            out.setdefault(_shape(m.spec), []).append(m)
    return out


def _change(d: DesiredMeter, match: Match) -> Action | None:
    """The action that brings MATCH's meter to D, or None when it already is D."""
    m = match.meter
    changes = diff_specs(m.spec, d.spec)
    tag = (m.raw.get("metadata") or {}).get(TAG_KEY, ABSENT)
    if tag != d.key:
        changes.append(FieldChange(f"metadata.{TAG_KEY}", tag, d.key))
    if not changes:
        return None
    kind: ActionKind = "adopt" if match.how != "tag" else "update"
    if "archived" in {c.field for c in changes}:
        kind = "archive" if d.spec["archived"] else "unarchive"
    return Action(
        kind=kind,
        key=d.key,
        name=d.spec["name"],
        meter_id=m.id,
        before=m.spec,
        after=d.spec,
        changes=changes,
        request=Request("PATCH", f"/v1/meters/{m.id}", update_body(d, {c.field for c in changes})),
        location=d.location,
        note=_note(match),
        caveat=_adoption_caveat(match, changes),
    )


def _leftovers(
    desired: Sequence[DesiredMeter], remote: Sequence[RemoteMeter], matched: dict[str, Match],
    prune: bool,
) -> tuple[list[RemoteRef], list[RemoteRef], list[RemoteRef], list[Action]]:
    """Remote meters no key names: unmanaged (untagged), missing from the configuration
    (tagged, active), retired (tagged, archived), and with PRUNE the archive actions of the
    missing ones."""
    claimed = {match.meter.id for match in matched.values()}
    configured = {d.key for d in desired}
    unmanaged: list[RemoteRef] = []
    missing: list[RemoteRef] = []
    retired: list[RemoteRef] = []
    pruned: list[Action] = []
    for m in remote:
        if m.id in claimed:
            continue
        ref = RemoteRef(m.id, str(m.spec["name"]), m.key)
        if m.key is None:
            unmanaged.append(ref)
        elif m.key not in configured:
            if m.archived:
                retired.append(ref)  # pruned (or archived) earlier: done
            elif prune:
                pruned.append(prune_action(m))
            else:
                missing.append(ref)
    return unmanaged, missing, retired, pruned


def _actions(
    planned: Sequence[DesiredMeter], remote: Sequence[RemoteMeter], matched: dict[str, Match],
    sent_org: str | None,
) -> tuple[list[Action], list[str], list[str]]:
    """Each planned meter's action (or its key, unchanged), and the keys whose `id:` pin the
    tag has made redundant."""
    actions: list[Action] = []
    unchanged: list[str] = []
    redundant_pins: list[str] = []
    untagged = _untagged_by_shape(remote, {m.meter.id for m in matched.values()})
    for d in planned:
        match = matched.get(d.key)
        action = _create(d, sent_org, untagged) if match is None else _change(d, match)
        if match is not None and match.how == "tag" and d.id == match.meter.id:
            redundant_pins.append(d.key)
        if action is None:
            unchanged.append(d.key)
        else:
            actions.append(action)
    return actions, unchanged, redundant_pins


def _seen(
    remote: Sequence[RemoteMeter], matched: dict[str, Match], targeting: Targeting
) -> Sequence[RemoteMeter]:
    """What a saved plan's staleness check compares: every meter read, or with targeting
    the meters of the planned keys (and their duplicates)."""
    if not targeting.active:
        return remote
    ids = {m.id for match in matched.values() for m in (match.meter, *match.duplicates)}
    return [m for m in remote if m.id in ids or (m.key is not None and m.key in matched)]


def make_plan(
    desired: Sequence[DesiredMeter],
    remote: Sequence[RemoteMeter],
    *,
    server: str,
    organization_id: str | None,
    send_organization_id: bool = False,
    prune: bool = False,
    max_archive: int = 5,
    resolve_duplicates: bool = False,
    locks: Locks = NO_LOCKS,
    targeting: Targeting = NO_TARGETING,
    server_url: str | None = None,
    environment: str | None = None,
    config_files: Sequence[str] = (),
    config_digest: str | None = None,
    preview: Callable[[Plan], Preview] | None = None,
    matched: dict[str, Match] | None = None,
    live: LiveAnswers | None = None,
    holders: ArchiveHolders | None = None,
) -> Plan:
    """Compare the configuration with Polar's meters. No I/O.

    With ``prune``, managed meters (tagged) whose key is no longer configured are archived,
    within the ``max_archive`` guard; untagged meters are never archived. ``locks``: what
    Polar said of the meters :func:`~reconciler.plan.locks.lock_candidates` named.
    ``resolve_duplicates``: archive and untag the other active meters tagged with a
    configured key (see polar/identity.py for which one is the key's meter).
    ``targeting``: plan only these meters (the others' meters are neither changed nor
    looked at by a saved plan's staleness check).
    ``preview``: what to make of the plan's changes over sample events (``plan --events``).
    ``matched``: ``match_meters`` of the planned meters against REMOTE when the caller has
    made it already (the pipeline, for the lock candidates): made here otherwise.
    ``live``: what Polar said of the recent events of the meters
    :func:`~reconciler.plan.live.live_questions` named (the plan's live review).
    ``holders``: the products and benefits that hold the meters
    :func:`~reconciler.plan.archives.archive_candidates` named (their archives are refused
    ahead).
    """
    planned = targeting.select(desired)
    if matched is None:
        matched = match_meters(planned, remote, {d.key for d in desired})
    sent_org = organization_id if send_organization_id else None
    actions, unchanged, redundant_pins = _actions(planned, remote, matched, sent_org)
    unmanaged, missing, retired, pruned = _leftovers(desired, remote, matched, prune)
    if prune:
        _guard_prune(desired, pruned, max_archive)
    duplicates, resolved = _duplicates(matched, resolve_duplicates)
    plan = Plan(
        server=server,
        organization_id=organization_id,
        actions=with_holders(with_locks(actions + pruned + resolved, locks), holders),
        unchanged=unchanged,
        unmanaged=unmanaged,
        missing=missing,
        retired=retired,
        duplicates=duplicates,
        redundant_pins=redundant_pins,
        seen=[fingerprint(m) for m in _seen(remote, matched, targeting)],
        targeting=targeting,
        left_out=len(desired) - len(planned),
        server_url=server_url,
        environment=environment,
        config_digest=config_digest,
        config_files=list(config_files),
        live=review(live) if live is not None else None,
    )
    return replace(plan, preview=preview(plan)) if preview is not None else plan
