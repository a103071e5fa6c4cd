"""Planning: match desired meters to remote ones, diff them, and say what to send.

Pure: takes already-loaded desired and remote meters, returns a Plan or raises PlanError.

Identity, in order, for each configured key:
1. the remote meter tagged with the key (metadata ``polar_meters_key``);
2. the meter pinned by ``id:`` (adopted, i.e. tagged, when it is not tagged yet);
3. exactly one untagged, active remote meter with exactly the same name (adopted).
Otherwise the meter is created. Ambiguities are errors listing the candidates' ids.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from reconciler.errors import UserError
from reconciler.model import TAG_KEY, DesiredMeter, RemoteMeter
from reconciler.plan.diff import ABSENT, FieldChange, diff_specs
from reconciler.plan.types import Action, ActionKind, Fingerprint, Plan, RemoteRef, Request

#: Problems (or meters in a list) shown at the most in one error; the rest are counted.
MOST_SHOWN = 20


class PlanError(UserError):
    """The configuration and Polar's meters cannot be matched unambiguously.

    One problem is one line; several are a line each under a heading, the first
    :data:`MOST_SHOWN` of them (a wrong token or organization can make hundreds, one line
    of them all would be unreadable).
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        if len(problems) == 1:
            super().__init__(f"cannot plan: {problems[0]}")
            return
        lines = [f"cannot plan, {len(problems)} problems:"]
        lines += [f"  - {problem}" for problem in problems[:MOST_SHOWN]]
        if len(problems) > MOST_SHOWN:
            lines.append(f"  - and {len(problems) - MOST_SHOWN} more")
        super().__init__("\n".join(lines))


def _listed(names: list[str]) -> str:
    """``a, b, c``, or the first :data:`MOST_SHOWN` and how many more."""
    shown = ", ".join(names[:MOST_SHOWN])
    return shown + (f" and {len(names) - MOST_SHOWN} more" if len(names) > MOST_SHOWN else "")


def _where(meter: DesiredMeter) -> str:
    return f" ({meter.location})" if meter.location else ""


def _metadata_body(key: str, metadata: dict[str, Any]) -> dict[str, Any]:
    return {**metadata, TAG_KEY: key}


def create_body(
    meter: DesiredMeter, organization_id: str | None = None
) -> dict[str, Any]:
    spec = meter.spec
    body: dict[str, Any] = {
        "name": spec["name"],
        "unit": spec["unit"],
        "filter": spec["filter"],
        "aggregation": spec["aggregation"],
        "metadata": _metadata_body(meter.key, spec["metadata"]),
    }
    if spec["custom_label"] is not None:
        body["custom_label"] = spec["custom_label"]
    if spec["custom_multiplier"] is not None:
        body["custom_multiplier"] = spec["custom_multiplier"]
    if organization_id:
        body["organization_id"] = organization_id
    return body


def update_body(meter: DesiredMeter, changed: set[str]) -> dict[str, Any]:
    """Only the fields that changed: Polar refuses filter/aggregation on a meter that has
    processed events even when they are unchanged, and metadata is replaced whole."""
    spec = meter.spec
    body: dict[str, Any] = {}
    for name in ("name", "unit", "custom_label", "custom_multiplier", "filter", "aggregation"):
        if name in changed:
            body[name] = spec[name]
    if "metadata" in changed:
        body["metadata"] = _metadata_body(meter.key, spec["metadata"])
    if "archived" in changed:
        body["is_archived"] = spec["archived"]
    return body


def _match(
    desired: list[DesiredMeter], remote: list[RemoteMeter]
) -> tuple[dict[str, tuple[RemoteMeter, str]], list[str]]:
    """Map each configured key to (remote meter, how it matched); collect ambiguities."""
    problems: list[str] = []
    by_id = {m.id: m for m in remote}
    by_tag: dict[str, list[RemoteMeter]] = defaultdict(list)
    by_name: dict[str, list[RemoteMeter]] = defaultdict(list)
    for m in remote:
        if m.key is not None:
            by_tag[m.key].append(m)
        elif not m.archived:
            by_name[m.spec["name"]].append(m)
    configured = {d.key for d in desired}
    matched: dict[str, tuple[RemoteMeter, str]] = {}
    claimed: dict[str, str] = {}  # remote id -> key that claimed it

    for d in desired:
        tagged = by_tag.get(d.key, [])
        if len(tagged) > 1:
            ids = ", ".join(m.id for m in tagged)
            problems.append(f"key {d.key!r}{_where(d)} is tagged on several meters: {ids}")
            continue
        if tagged:
            m = tagged[0]
            if d.id and d.id != m.id:
                problems.append(
                    f"key {d.key!r}{_where(d)} is pinned to {d.id} but meter {m.id} carries it"
                )
                continue
            matched[d.key] = (m, "tag")
        elif d.id:
            pinned = by_id.get(d.id)
            if pinned is None:
                problems.append(
                    f"key {d.key!r}{_where(d)} is pinned to {d.id}, which is not a meter of "
                    "this organization"
                )
                continue
            if pinned.key is not None and pinned.key in configured:
                problems.append(
                    f"key {d.key!r}{_where(d)} is pinned to {d.id}, which belongs to key "
                    f"{pinned.key!r}"
                )
                continue
            matched[d.key] = (pinned, "pin")
        else:
            candidates = by_name.get(d.spec["name"], [])
            if len(candidates) > 1:
                ids = ", ".join(m.id for m in candidates)
                problems.append(
                    f"key {d.key!r}{_where(d)}: several untagged meters are named "
                    f"{d.spec['name']!r} ({ids}); pin one with `id:`"
                )
                continue
            if candidates:
                matched[d.key] = (candidates[0], "name")
        if d.key in matched:
            m = matched[d.key][0]
            if m.id in claimed:
                problems.append(
                    f"keys {claimed[m.id]!r} and {d.key!r}{_where(d)} both match meter {m.id}"
                )
            claimed[m.id] = d.key
    return matched, problems


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


def _guard_prune(desired: list[DesiredMeter], pruned: list[Action], max_archive: int) -> None:
    """Refuse the classic disaster: a wrong directory or an empty file looks like 'delete all'."""
    listed = _listed([f"{a.key} ({a.meter_id})" for a in pruned])
    if not desired and pruned:
        raise PlanError(
            [
                (f"--prune with a configuration that defines no meters would archive every "
                f"managed meter ({len(pruned)}: {listed}); refusing: check the path")
            ]
        )
    if len(pruned) > max_archive:
        raise PlanError(
            [
                (f"--prune would archive {len(pruned)} meters, more than --max-archive "
                f"{max_archive}: {listed}; raise --max-archive if that is really meant")
            ]
        )


def make_plan(
    desired: list[DesiredMeter],
    remote: list[RemoteMeter],
    *,
    server: str,
    organization_id: str | None,
    send_organization_id: bool = False,
    prune: bool = False,
    max_archive: int = 5,
) -> Plan:
    """Compare the configuration with Polar's meters. No I/O.

    With ``prune``, managed meters (tagged) whose key is no longer configured are archived,
    within the ``max_archive`` guard; untagged meters are never archived.
    """
    matched, problems = _match(desired, remote)
    if problems:
        raise PlanError(problems)
    plan = Plan(server=server, organization_id=organization_id)
    for d in desired:
        if d.key not in matched:
            plan.actions.append(
                Action(
                    kind="create",
                    key=d.key,
                    name=d.spec["name"],
                    meter_id=None,
                    before=None,
                    after=d.spec,
                    changes=[],
                    request=Request(
                        "POST",
                        "/v1/meters/",
                        create_body(d, organization_id if send_organization_id else None),
                    ),
                    location=d.location,
                )
            )
            continue
        m, how = matched[d.key]
        changes = diff_specs(m.spec, d.spec)
        tag = (m.raw.get("metadata") or {}).get(TAG_KEY, ABSENT)
        if tag != d.key:
            changes.append(FieldChange(f"metadata.{TAG_KEY}", tag, d.key))
        if not changes:
            plan.unchanged.append(d.key)
            continue
        note = None
        if how == "name":
            note = "adopt: untagged meter with the same name"
        elif how == "pin" and m.key is None:
            note = "adopt: pinned by id"
        elif how == "pin":
            note = f"re-key: was managed as {m.key!r}"
        kind: ActionKind = "adopt" if how != "tag" else "update"
        if "archived" in {c.field for c in changes}:
            kind = "archive" if d.spec["archived"] else "unarchive"
        plan.actions.append(
            Action(
                kind=kind,
                key=d.key,
                name=d.spec["name"],
                meter_id=m.id,
                before=m.spec,
                after=d.spec,
                changes=changes,
                request=Request(
                    "PATCH",
                    f"/v1/meters/{m.id}",
                    update_body(d, {c.field for c in changes}),
                ),
                location=d.location,
                note=note,
            )
        )
    plan.seen = [fingerprint(m) for m in remote]
    claimed = {m.id for m, _ in matched.values()}
    configured = {d.key for d in desired}
    pruned: list[Action] = []
    for m in remote:
        if m.id in claimed:
            continue
        ref = RemoteRef(m.id, str(m.spec["name"]), m.key)
        if m.key is None:
            plan.unmanaged.append(ref)
        elif m.key not in configured:
            if prune and not m.archived:
                pruned.append(prune_action(m))
            else:
                plan.missing.append(ref)
    if prune:
        _guard_prune(desired, pruned, max_archive)
    plan.actions.extend(pruned)
    return plan


LOCK_SENSITIVE = frozenset({"filter", "aggregation"})


def lock_candidates(plan: Plan) -> list[str]:
    """Ids of existing meters whose filter or aggregation the plan changes."""
    return [
        a.meter_id
        for a in plan.actions
        if a.meter_id and a.changed_fields & LOCK_SENSITIVE
    ]


def annotate_locks(plan: Plan, locked: dict[str, bool | None]) -> None:
    """Mark filter/aggregation changes Polar will refuse (meter locked) or may refuse (unknown).

    Polar freezes a meter's filter and aggregation once it has processed events; the way out
    is a new meter under a new key, then archiving the old one.
    """
    for action in plan.actions:
        fields = action.changed_fields & LOCK_SENSITIVE
        if not action.meter_id or not fields or action.meter_id not in locked:
            continue
        state = locked[action.meter_id]
        action.locked = state
        what = " and ".join(sorted(fields))
        if state:
            action.problem = (
                f"the meter has processed events, so Polar refuses any change of its {what}; "
                f"define a new meter under a new key with the new {what}, and archive this one "
                "(archived: true) once nothing bills from it"
            )
        elif state is None:
            action.caveat = (
                f"may be refused if the meter has processed events (its {what} would be "
                "frozen); polar-meters could not read its events to tell"
            )
